#include "joulebench/workloads/cpu_features.h"

#include <fstream>
#include <sstream>

namespace joulebench::workloads {

std::set<std::string> CpuFlags(const std::filesystem::path& procfs_root) {
  std::set<std::string> flags;
  std::ifstream in(procfs_root / "cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    if (key != "flags") continue;
    std::istringstream words(line.substr(colon + 1));
    std::string flag;
    while (words >> flag) flags.insert(flag);
    break;  // the first processor's flags
  }
  return flags;
}

std::string CpuBf16Unsupported(const std::set<std::string>& flags) {
  if (flags.count("avx512_bf16") || flags.count("amx_bf16")) return "";
  if (flags.empty()) return "the CPU's flags are unknown (no /proc/cpuinfo flags line)";
  return "this CPU has neither AVX512_BF16 nor AMX (cpuinfo flags avx512_bf16, amx_bf16): "
         "bf16 products would be converted to fp32 and back, slower than fp32";
}

}  // namespace joulebench::workloads
