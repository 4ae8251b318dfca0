#include "joulebench/energy/source.h"

#include <cstdlib>

#include "joulebench/error.h"
#include "joulebench/units.h"

namespace joulebench::energy {

std::string_view ComponentName(Component c) {
  switch (c) {
    case Component::kCpuPackage: return "cpu-package";
    case Component::kCpuCores: return "cpu-cores";
    case Component::kUncore: return "uncore";
    case Component::kDram: return "dram";
    case Component::kPlatform: return "platform";
    case Component::kAccelerator: return "accelerator";
    case Component::kCpu: return "cpu";
    case Component::kMemory: return "memory";
    case Component::kNetwork: return "network";
  }
  return "unknown";
}

std::string_view ProvenanceKindName(ProvenanceKind k) {
  switch (k) {
    case ProvenanceKind::kMeasured: return "measured";
    case ProvenanceKind::kModelled: return "modelled";
    case ProvenanceKind::kGiven: return "given";
  }
  return "unknown";
}

std::string Provenance::Describe() const {
  return std::string(ProvenanceKindName(kind)) + ": " + by;
}

std::string_view ProbeStatusName(ProbeStatus s) {
  switch (s) {
    case ProbeStatus::kAvailable: return "available";
    case ProbeStatus::kAbsent: return "absent";
    case ProbeStatus::kPermissionDenied: return "permission denied";
    case ProbeStatus::kUnsupported: return "unsupported";
    case ProbeStatus::kError: return "error";
    case ProbeStatus::kSkipped: return "skipped";
  }
  return "unknown";
}

SourceOptions SourceOptions::FromEnvironment() {
  SourceOptions options;
  if (const char* v = std::getenv("JOULEBENCH_SYSFS_ROOT"); v && *v) options.sysfs_root = v;
  if (const char* v = std::getenv("JOULEBENCH_PROCFS_ROOT"); v && *v) options.procfs_root = v;
  if (const char* v = std::getenv("JOULEBENCH_NVML_LIBRARY"); v && *v) options.nvml_library = v;
  if (const char* v = std::getenv("JOULEBENCH_CPU_FAMILY"); v && *v) options.cpu_family = v;
  if (const char* v = std::getenv("JOULEBENCH_NEURON_MAX_WATTS"); v && *v) {
    options.neuron_max_device_watts = ParseNumber(v, "JOULEBENCH_NEURON_MAX_WATTS");
  }
  if (const char* v = std::getenv("JOULEBENCH_BMC_URL"); v && *v) options.bmc.url = v;
  if (const char* v = std::getenv("JOULEBENCH_BMC_USER"); v && *v) options.bmc.user = v;
  if (const char* v = std::getenv("JOULEBENCH_BMC_PASSWORD"); v && *v) options.bmc.password = v;
  if (const char* v = std::getenv("JOULEBENCH_IPMI_HOST"); v && *v) options.bmc.ipmi_host = v;
  return options;
}

}  // namespace joulebench::energy
