// Cloud Carbon Footprint (CCF) coefficients: per-vCPU minimum/maximum watts per CPU
// microarchitecture and the scalar constants (memory W/GB, network kWh/GB, PUE, ...), read from
// joulebench's data files data/cpu_coefficients_ccf.csv and data/constants.csv. Every row keeps
// its source and the date it was taken from that source, so a number can say where it came from.
//
//   auto ccf = joulebench::energy::CcfCoefficients::Load();
//   const auto& cpu = ccf.Cpu("Cascade Lake");          // 0.64 .. 3.97 W per vCPU
//   double w_per_gb = ccf.Constant("memory");            // 0.392 W per GB
//
// CCF's formula (cloudcarbonfootprint.org/docs/methodology): average watts = min + utilisation x
// (max - min), per vCPU.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench::energy {

// One row of data/cpu_coefficients_ccf.csv.
struct CpuCoefficients {
  std::string microarchitecture;  // "Cascade Lake", "AMD EPYC 2nd Gen", "unknown (average)"
  double min_watts_per_vcpu = 0;  // at 0 % utilisation
  double max_watts_per_vcpu = 0;  // at 100 % utilisation
  double memory_gb_per_chip = 0;  // CCF's typical memory per processor chip, GB
  std::string source;             // where the figures come from
  std::string date;               // when they were taken from the source (YYYY-MM-DD)
};

// One row of data/constants.csv.
struct CcfConstant {
  std::string name;  // "memory", "network", "pue_aws", ...
  double value = 0;
  std::string unit;  // "watts per GB", "kWh per GB transferred", ...
  std::string source;
  std::string date;
};

class CcfCoefficients {
 public:
  // Name of the row CCF uses when the CPU family is not known (averages of its families).
  static constexpr std::string_view kUnknownFamily = "unknown (average)";
  // Name of the coefficient set, printed in provenance ("modelled: Cloud Carbon Footprint ...").
  static constexpr std::string_view kSetName = "Cloud Carbon Footprint coefficients";

  // Reads DataFile("cpu_coefficients_ccf.csv") and DataFile("constants.csv"). Throws
  // EnvironmentError when a file is missing or malformed (naming the file, line and column).
  static CcfCoefficients Load();
  static CcfCoefficients LoadFrom(const std::filesystem::path& cpu_csv,
                                  const std::filesystem::path& constants_csv);

  // The row for a microarchitecture, compared case-insensitively; nullptr when unknown.
  const CpuCoefficients* FindCpu(std::string_view microarchitecture) const;
  // As FindCpu, but throws InputError listing the known families when unknown.
  const CpuCoefficients& Cpu(std::string_view microarchitecture) const;
  const std::vector<CpuCoefficients>& cpus() const { return cpus_; }

  const CcfConstant* FindConstant(std::string_view name) const;
  // The constant's value; throws EnvironmentError naming constants.csv when it is missing.
  double Constant(std::string_view name) const;
  const std::vector<CcfConstant>& constants() const { return constants_; }

  // "Cascade Lake, Skylake, ..." for messages.
  std::string KnownFamilies() const;

 private:
  std::vector<CpuCoefficients> cpus_;
  std::vector<CcfConstant> constants_;
};

// The CCF microarchitecture of the machine described by a /proc/cpuinfo text: from the model
// name (Xeon numbering, EPYC generation digit, Core generation), else from the CPU family/model
// numbers, else (arm64) from the CPU part (Neoverse N1 = Graviton2, V1 = Graviton3). Returns
// CcfCoefficients::kUnknownFamily when nothing matches a row of the table.
std::string DetectCpuFamily(std::string_view cpuinfo_text);

}  // namespace joulebench::energy
