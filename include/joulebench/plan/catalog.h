// The machine catalog: machine types with price (region, date, pricing model), vCPUs, memory,
// CPU family, accelerators and, where one is published, a power-versus-load curve. Every
// entry keeps its source and date. Built-in data comes from data/instances.csv,
// data/instance_power_curves.csv and data/gpu_power.csv; users add or override entries with
// their own CSV file (docs/planner.md, "Catalog files").
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/plan/power_curve.h"

namespace joulebench::plan {

class CsvTable;  // plan/csv_table.h

struct Accelerator {
  std::string kind;  // e.g. "NVIDIA T4", "AWS Inferentia"
  int count = 0;
  double memory_gib = 0;                  // all accelerators together
  std::optional<double> board_watts;      // per accelerator (TDP or board power) where published
  std::optional<double> idle_watts;       // per accelerator, from gpu_power.csv where published
  std::optional<double> full_load_watts;  // per accelerator, from gpu_power.csv where published
  std::string power_source;               // where the three figures above come from
};

struct Price {
  double usd_per_hour = 0;
  std::string region;         // e.g. "us-east-1"
  std::string pricing_model;  // e.g. "on-demand Linux"
  std::string date;           // when the price was observed, e.g. "2023-10-10"
};

struct MachineType {
  std::string name;  // e.g. "g4dn.2xlarge"
  int vcpus = 0;
  double memory_gib = 0;
  std::string cpu_model;   // e.g. "Intel Xeon Platinum 8259CL"
  std::string cpu_family;  // microarchitecture, e.g. "Cascade Lake" (keys CPU power coefficients)
  std::optional<Accelerator> accelerator;  // none for CPU-only machines
  std::optional<Price> price;
  std::optional<PowerCurve> power_curve;  // published whole-machine curve (kind kCatalog)
  std::string power_curve_note;  // caveat of the curve, e.g. "Inferentia chip not included"
  std::string source;            // of the row (price, shape)
  std::string date;
  std::string origin;  // "FILE:LINE" of the row that defined it last
};

class Catalog {
 public:
  // The built-in catalog from joulebench's data directory (DataDir()).
  static Catalog LoadDefault();
  // The built-in catalog from explicit files (tests, other data directories).
  static Catalog Load(const std::filesystem::path& instances_csv,
                      const std::filesystem::path& power_curves_csv,
                      const std::filesystem::path& accelerator_power_csv);

  // Adds or overrides machine types from a user's CSV file. Columns: `name` and `source`
  // (required), then any of instances.csv's columns and curve columns `watts_idle` and
  // `watts_<N>pct` (e.g. watts_10pct). A row for a known name changes only the fields it fills.
  // A parse error throws InputError naming the file, the line and the field.
  void MergeFile(const std::filesystem::path& csv);
  // The same for the text of such a file; `file_label` names it in messages.
  void MergeText(std::string_view csv_text, std::string file_label);

  const std::vector<MachineType>& machines() const { return machines_; }
  const MachineType* TryFind(std::string_view name) const;
  // Throws InputError "unknown machine type 'X'; closest: a, b, c" when absent.
  const MachineType& Find(std::string_view name) const;
  // Up to `count` names nearest to `name` by edit distance (case-insensitive), nearest first.
  std::vector<std::string> Closest(std::string_view name, std::size_t count = 3) const;

 private:
  void MergeTable(const CsvTable& table);

  std::vector<MachineType> machines_;
};

// Levenshtein distance between two strings (bytes, case-insensitive).
std::size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace joulebench::plan
