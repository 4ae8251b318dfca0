#include "joulebench/store/fingerprint.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <string>

namespace joulebench::store {
namespace {

std::string Trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The value of the first "key : value" line whose key is one of `keys` (cpuinfo, meminfo).
std::string FirstValue(const std::filesystem::path& file, std::initializer_list<const char*> keys) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = Trim(line.substr(0, colon));
    for (const char* wanted : keys) {
      if (key == wanted) return Trim(line.substr(colon + 1));
    }
  }
  return "";
}

std::string OsName() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string value = line.substr(12);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
  }
  return "";
}

}  // namespace

void AddProbeDetails(FingerprintOptions& options, const std::vector<energy::ProbeResult>& probes) {
  for (const auto& probe : probes) {
    if (probe.source_name == "nvml") {
      options.nvml_details.insert(options.nvml_details.end(), probe.details.begin(),
                                  probe.details.end());
    }
  }
}

nlohmann::json MachineFingerprint(const FingerprintOptions& options) {
  nlohmann::json f = nlohmann::json::object();
  utsname names{};
  if (uname(&names) == 0) {
    f["hostname"] = names.nodename;
    f["kernel"] = std::string(names.sysname) + " " + names.release + " " + names.machine;
  }
  if (std::string os = OsName(); !os.empty()) f["os"] = os;
  // x86 names the CPU in "model name"; arm64 kernels often give only "CPU implementer/part".
  std::string model =
      FirstValue(options.procfs_root / "cpuinfo", {"model name", "Model", "Hardware", "cpu model"});
  if (!model.empty()) f["cpu_model"] = model;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus > 0) f["cpu_count"] = cpus;
  std::string mem_kb = FirstValue(options.procfs_root / "meminfo", {"MemTotal"});
  if (!mem_kb.empty()) {
    try {
      f["memory_bytes"] = std::stoull(mem_kb) * 1024ULL;  // proc(5): MemTotal is in kB (KiB)
    } catch (const std::exception&) {
    }
  }
  {
    std::ifstream in(options.procfs_root / "sys/kernel/random/boot_id");
    std::string boot_id;
    if (std::getline(in, boot_id) && !boot_id.empty()) f["boot_id"] = boot_id;
  }
  if (!options.nvml_details.empty()) {
    nlohmann::json gpus = nlohmann::json::array();
    for (const auto& detail : options.nvml_details) {
      std::string lower = Lower(detail);
      auto driver = lower.find("driver");
      if (driver != std::string::npos && !f.contains("gpu_driver")) {
        std::string rest = detail.substr(driver + 6);
        auto start = rest.find_first_not_of(" :=version");
        f["gpu_driver"] = start == std::string::npos ? Trim(detail) : Trim(rest.substr(start));
      } else if (lower.find("gpu") != std::string::npos ||
                 lower.find("nvidia") != std::string::npos) {
        gpus.push_back(detail);
      }
    }
    f["gpus"] = gpus;
    f["nvml_details"] = options.nvml_details;
  }
  if (!options.torch_version.empty()) f["libtorch"] = options.torch_version;
  f["joulebench_version"] = JOULEBENCH_VERSION;
  f["joulebench_commit"] = JOULEBENCH_GIT_COMMIT;
  return f;
}

}  // namespace joulebench::store
