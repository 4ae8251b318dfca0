// Stored runs side by side, as the study's table: throughput, latency, energy per unit of
// work, mean power, each with its ratio and percentage change against the first run. Runs
// that measure different things (kind, workload, input shape) or whose result is not valid
// are flagged, never silently compared.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/run/run_record.h"

namespace joulebench::report {

struct ComparedValue {
  std::optional<double> value;  // absent when the run did not measure it
  std::string provenance;       // "measured: ...", "modelled: ...", where it came from
};

struct ComparedQuantity {
  std::string name;  // "throughput", "p99 latency", "energy per unit", "mean power", ...
  std::string unit;
  bool higher_is_better = false;
  std::vector<ComparedValue> values;  // one per run, in the runs' order
  // value / first run's value, and the change in percent; absent when either is missing.
  std::optional<double> Ratio(std::size_t run) const;
  std::optional<double> ChangePercent(std::size_t run) const;
};

struct ComparedRun {
  std::string id;
  std::string name;
  std::string kind;
  std::string workload;  // config "workload" / "model" / "command"
  std::string shape;     // the shape keys of the config, e.g. "batch=4 seq_len=512"
  std::string machine;   // fingerprint cpu_model (+ gpus)
  std::string status;
  std::string verdict;
};

struct RunComparison {
  std::vector<ComparedRun> runs;
  std::vector<ComparedQuantity> quantities;
  // Why the runs are not like for like; empty when they are.
  std::vector<std::string> flags;
  bool comparable() const { return flags.empty(); }
};

// The first run is the reference. Needs at least one run.
RunComparison CompareRuns(const std::vector<run::RunRecord>& runs);

// The table for a terminal; flags come first as "NOT LIKE FOR LIKE:" lines.
std::string FormatComparison(const RunComparison& comparison);
// {"runs": [...], "quantities": [{"name", "unit", "higher_is_better", "values": [{"run",
//  "value", "provenance", "ratio", "change_percent"}]}], "comparable": bool, "flags": [...]}
nlohmann::json ToJson(const RunComparison& comparison);

// The workload and shape of a run, as used for flagging (also by the HTML report).
std::string WorkloadOf(const run::RunRecord& record);
std::string ShapeOf(const run::RunRecord& record);

}  // namespace joulebench::report
