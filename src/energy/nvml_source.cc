#include "energy/nvml_source.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <array>
#include <cstring>

#include "energy/nvml_error.h"
#include "joulebench/printable_text.h"

namespace joulebench::energy {
namespace {

constexpr const char* kDefaultLibrary = "libnvidia-ml.so.1";
// More GPUs than any machine has (an NVLink domain holds 72, a PCIe host 16): a larger count
// comes from a broken driver, and would have the probe allocate and query billions of devices.
constexpr unsigned int kMaxGpus = 1024;
constexpr const char* kGpuLost = "the GPU is lost (NVML_ERROR_GPU_IS_LOST)";

std::string_view ArchitectureName(nvml::DeviceArchitecture arch) {
  switch (arch) {
    case nvml::kArchKepler:
      return "Kepler";
    case nvml::kArchMaxwell:
      return "Maxwell";
    case nvml::kArchPascal:
      return "Pascal";
    case nvml::kArchVolta:
      return "Volta";
    case nvml::kArchTuring:
      return "Turing";
    case nvml::kArchAmpere:
      return "Ampere";
    case nvml::kArchAda:
      return "Ada";
    case nvml::kArchHopper:
      return "Hopper";
    case nvml::kArchBlackwell:
      return "Blackwell";
    case nvml::kArchT23x:
      return "Orin";
    default:
      return "unknown architecture";
  }
}

// A string NVML wrote into `buffer`: it may fill the buffer without a terminating NUL, and
// hold bytes that are not UTF-8; the result goes into provenance, which the store keeps.
std::string NvmlText(const char* buffer, std::size_t size) {
  return PrintableText(std::string_view(buffer, ::strnlen(buffer, size)));
}

template <typename Fn>
Fn Symbol(void* handle, const char* name) {
  return reinterpret_cast<Fn>(::dlsym(handle, name));
}

// The first of the names the library exports (newer versioned symbol first).
template <typename Fn>
Fn Symbol(void* handle, const char* name, const char* fallback) {
  Fn fn = Symbol<Fn>(handle, name);
  return fn ? fn : Symbol<Fn>(handle, fallback);
}

// What one GPU offers, found at probe time.
struct GpuFacts {
  unsigned int index = 0;
  nvml::Device device = nullptr;
  std::string name = "unknown GPU";
  std::string uuid = "unknown UUID";
  bool has_architecture = false;
  nvml::DeviceArchitecture architecture = nvml::kArchUnknown;
  bool counter = false;
  bool usable = false;
  double limit_watts = 0;
  std::string problem;  // why it cannot be read, or why the counter is not used
  nvml::Return problem_code = nvml::kSuccess;
};

// Ampere and newer (and architectures this NVML calls unknown, "presumably something newer")
// average power over 1 s and refresh the energy counter every 20-100 ms (NVML API reference,
// nvmlDeviceGetPowerUsage).
bool AveragesOverOneSecond(const GpuFacts& gpu) {
  return gpu.has_architecture && gpu.architecture >= nvml::kArchAmpere;
}

void InspectGpu(const NvmlLibrary& lib, GpuFacts& gpu) {
  if (lib.device_name) {
    std::array<char, nvml::kNameBufferSize> buffer{};
    if (lib.device_name(gpu.device, buffer.data(), buffer.size()) == nvml::kSuccess) {
      gpu.name = NvmlText(buffer.data(), buffer.size());
    }
  }
  if (lib.device_uuid) {
    std::array<char, nvml::kUuidBufferSize> buffer{};
    if (lib.device_uuid(gpu.device, buffer.data(), buffer.size()) == nvml::kSuccess) {
      gpu.uuid = NvmlText(buffer.data(), buffer.size());
    }
  }
  if (lib.device_architecture) {
    gpu.has_architecture = lib.device_architecture(gpu.device, &gpu.architecture) == nvml::kSuccess;
  }
  if (lib.power_limit) {
    unsigned int milliwatts = 0;
    if (lib.power_limit(gpu.device, &milliwatts) == nvml::kSuccess) {
      gpu.limit_watts = milliwatts / 1000.0;
    }
  }
  std::string counter_problem;
  if (lib.total_energy) {
    unsigned long long millijoules = 0;
    const nvml::Return rc = lib.total_energy(gpu.device, &millijoules);
    if (rc == nvml::kSuccess) {
      gpu.counter = true;
      gpu.usable = true;
      return;
    }
    if (rc != nvml::kErrorNotSupported) {
      counter_problem = "energy counter failed: " + lib.Describe(rc);
    }
  }
  unsigned int milliwatts = 0;
  const nvml::Return rc = lib.power_usage(gpu.device, &milliwatts);
  if (rc == nvml::kSuccess) {
    gpu.usable = true;
    gpu.problem = counter_problem;
    return;
  }
  gpu.problem = "no power reading: " + lib.Describe(rc);
  gpu.problem_code = rc;
}

DomainInfo MakeDomain(const GpuFacts& gpu, const std::string& driver) {
  DomainInfo d;
  d.name = fmt::format("nvml/gpu{}", gpu.index);
  d.component = Component::kAccelerator;
  d.signal = gpu.counter ? SignalKind::kCounter : SignalKind::kGauge;
  d.provenance = {ProvenanceKind::kMeasured,
                  fmt::format("NVML {}, GPU {} {} ({}), driver {}",
                              gpu.counter ? "energy counter" : "power gauge", gpu.index, gpu.name,
                              gpu.uuid, driver)};
  d.max_watts = gpu.limit_watts;
  std::vector<std::string> notes;
  if (AveragesOverOneSecond(gpu)) {
    d.min_window_s = 1.0;
    d.update_period_s = 0.1;
    notes.push_back(
        "NVML averages power over 1 s on Ampere and newer and updates the energy counter every "
        "20-100 ms: windows shorter than 1 s are not resolved");
  }
  if (!gpu.counter) {
    notes.push_back("no energy counter: the power gauge is integrated between samples");
  }
  if (!gpu.problem.empty()) notes.push_back(gpu.problem);
  for (const auto& n : notes) d.note += d.note.empty() ? n : "; " + n;
  return d;
}

}  // namespace

NvmlLibrary::~NvmlLibrary() {
  if (initialised && shutdown) shutdown();
  if (handle) ::dlclose(handle);
}

std::string NvmlLibrary::Describe(nvml::Return code) const {
  const char* text = error_string ? error_string(code) : nullptr;
  if (text && *text) return fmt::format("{} ({})", PrintableText(text, 200), nvml::ErrorName(code));
  return nvml::ErrorName(code);
}

NvmlSource::NvmlSource(std::unique_ptr<NvmlLibrary> library, std::vector<Gpu> gpus,
                       std::vector<DomainInfo> domains)
    : library_(std::move(library)),
      gpus_(std::move(gpus)),
      domains_(std::move(domains)),
      failed_code_(new std::atomic<int>[gpus_.size()]),
      reported_code_(gpus_.size(), nvml::kSuccess) {
  for (std::size_t i = 0; i < gpus_.size(); ++i) failed_code_[i].store(nvml::kSuccess);
}

void NvmlSource::Read(std::span<Reading> out) {
  for (std::size_t i = 0; i < gpus_.size(); ++i) {
    // A lost GPU stays lost until it is reset (NVML API reference, NVML_ERROR_GPU_IS_LOST):
    // it is not asked again.
    if (gpus_[i].lost) {
      out[i] = {0, false, kGpuLost, true};
      continue;
    }
    nvml::Return rc;
    if (gpus_[i].counter) {
      unsigned long long millijoules = 0;
      rc = library_->total_energy(gpus_[i].device, &millijoules);
      out[i] = {static_cast<double>(millijoules) / 1000.0, rc == nvml::kSuccess};
    } else {
      unsigned int milliwatts = 0;
      rc = library_->power_usage(gpus_[i].device, &milliwatts);
      out[i] = {milliwatts / 1000.0, rc == nvml::kSuccess};
    }
    if (rc != nvml::kSuccess) {
      failed_code_[i].store(rc, std::memory_order_relaxed);
      if (rc == nvml::kErrorGpuIsLost) {
        gpus_[i].lost = true;
        out[i].problem = kGpuLost;
        out[i].lost = true;
      } else {
        // nvmlErrorString returns the library's own static text.
        const char* text = library_->error_string ? library_->error_string(rc) : nullptr;
        out[i].problem = text != nullptr && *text != '\0' ? text : "NVML returned an error";
      }
    }
  }
}

std::vector<std::string> NvmlSource::TakeWarnings() {
  std::vector<std::string> warnings;
  for (std::size_t i = 0; i < gpus_.size(); ++i) {
    const int code = failed_code_[i].load(std::memory_order_relaxed);
    if (code == nvml::kSuccess || code == reported_code_[i]) continue;
    reported_code_[i] = code;
    warnings.push_back(fmt::format("{}: reading {} failed: {}; {}", domains_[i].name,
                                   gpus_[i].counter ? "the energy counter" : "power",
                                   library_->Describe(code), nvml::ErrorFix(code)));
  }
  return warnings;
}

ProbeResult ProbeNvml(const SourceOptions& options) {
  ProbeResult result;
  result.source_name = "nvml";
  const std::string& path = options.nvml_library;
  const bool chosen_by_user = path != kDefaultLibrary;
  const std::string fix_path =
      "point --nvml-library (or JOULEBENCH_NVML_LIBRARY) at libnvidia-ml.so.1 from the NVIDIA "
      "driver";

  if (path.empty()) {
    // dlopen("") would return the running program itself.
    result.status = ProbeStatus::kError;
    result.reason = "the NVML library path is empty";
    result.fix = fix_path;
    return result;
  }
  auto lib = std::make_unique<NvmlLibrary>();
  ::dlerror();
  lib->handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle) {
    const char* error = ::dlerror();
    std::string_view why = error ? error : "dlopen failed";
    // dlerror repeats the path: "<path>: invalid ELF header".
    if (why.size() > path.size() + 2 && why.substr(0, path.size()) == path &&
        why.substr(path.size(), 2) == ": ") {
      why.remove_prefix(path.size() + 2);
    }
    if (chosen_by_user) {
      result.status = ProbeStatus::kError;
      result.reason = fmt::format("cannot load the NVML library '{}': {}", path, why);
      result.fix = fix_path;
    } else {
      result.status = ProbeStatus::kAbsent;
      result.reason = fmt::format("{} not found: no NVIDIA driver is installed", path);
      result.fix =
          "nothing to do without an NVIDIA GPU; otherwise install the NVIDIA driver, "
          "or " +
          fix_path;
    }
    return result;
  }
  void* h = lib->handle;
  lib->init = Symbol<nvml::InitFn>(h, "nvmlInit_v2", "nvmlInit");
  lib->shutdown = Symbol<nvml::ShutdownFn>(h, "nvmlShutdown");
  lib->error_string = Symbol<nvml::ErrorStringFn>(h, "nvmlErrorString");
  lib->driver_version = Symbol<nvml::SystemGetDriverVersionFn>(h, "nvmlSystemGetDriverVersion");
  lib->device_count =
      Symbol<nvml::DeviceGetCountFn>(h, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
  lib->device_handle = Symbol<nvml::DeviceGetHandleByIndexFn>(h, "nvmlDeviceGetHandleByIndex_v2",
                                                              "nvmlDeviceGetHandleByIndex");
  lib->device_name = Symbol<nvml::DeviceGetNameFn>(h, "nvmlDeviceGetName");
  lib->device_uuid = Symbol<nvml::DeviceGetUuidFn>(h, "nvmlDeviceGetUUID");
  lib->device_architecture = Symbol<nvml::DeviceGetArchitectureFn>(h, "nvmlDeviceGetArchitecture");
  lib->total_energy =
      Symbol<nvml::DeviceGetTotalEnergyConsumptionFn>(h, "nvmlDeviceGetTotalEnergyConsumption");
  lib->power_usage = Symbol<nvml::DeviceGetPowerUsageFn>(h, "nvmlDeviceGetPowerUsage");
  lib->power_limit =
      Symbol<nvml::DeviceGetEnforcedPowerLimitFn>(h, "nvmlDeviceGetEnforcedPowerLimit");
  const std::pair<const void*, const char*> required[] = {
      {reinterpret_cast<const void*>(lib->init), "nvmlInit_v2"},
      {reinterpret_cast<const void*>(lib->shutdown), "nvmlShutdown"},
      {reinterpret_cast<const void*>(lib->device_count), "nvmlDeviceGetCount_v2"},
      {reinterpret_cast<const void*>(lib->device_handle), "nvmlDeviceGetHandleByIndex_v2"},
      {reinterpret_cast<const void*>(lib->power_usage), "nvmlDeviceGetPowerUsage"},
  };
  for (const auto& [fn, symbol] : required) {
    if (!fn) {
      result.status = ProbeStatus::kError;
      result.reason =
          fmt::format("'{}' is not an NVML library: it has no function {}", path, symbol);
      result.fix = fix_path;
      return result;
    }
  }

  return ProbeNvmlLibrary(std::move(lib), path);
}

ProbeResult ProbeNvmlLibrary(std::unique_ptr<NvmlLibrary> lib, const std::string& path) {
  ProbeResult result;
  result.source_name = "nvml";
  const nvml::Return init_rc = lib->init();
  if (init_rc != nvml::kSuccess) {
    result.status = nvml::ErrorStatus(init_rc);
    result.reason = "nvmlInit failed: " + lib->Describe(init_rc);
    result.fix = std::string(nvml::ErrorFix(init_rc));
    return result;
  }
  lib->initialised = true;

  std::string driver = "unknown";
  if (lib->driver_version) {
    std::array<char, nvml::kDriverVersionBufferSize> buffer{};
    if (lib->driver_version(buffer.data(), buffer.size()) == nvml::kSuccess) {
      driver = NvmlText(buffer.data(), buffer.size());
    }
  }
  result.details.push_back(fmt::format("NVIDIA driver {}, library {}", driver, path));

  unsigned int count = 0;
  const nvml::Return count_rc = lib->device_count(&count);
  if (count_rc != nvml::kSuccess) {
    result.status = nvml::ErrorStatus(count_rc);
    result.reason = "nvmlDeviceGetCount failed: " + lib->Describe(count_rc);
    result.fix = std::string(nvml::ErrorFix(count_rc));
    return result;
  }
  if (count > kMaxGpus) {
    result.status = ProbeStatus::kError;
    result.reason = fmt::format(
        "nvmlDeviceGetCount reports {} GPUs, more than any machine has (at most {} are read)",
        count, kMaxGpus);
    result.fix = "check the NVIDIA driver with nvidia-smi -L; reinstall it if the count is wrong";
    return result;
  }
  if (count == 0) {
    result.status = ProbeStatus::kAbsent;
    result.reason = "NVML sees no GPU";
    result.fix = "check that the GPU is visible (nvidia-smi -L); in a container run with --gpus";
    return result;
  }

  std::vector<NvmlSource::Gpu> gpus;
  std::vector<DomainInfo> domains;
  const GpuFacts* first_failure = nullptr;
  std::vector<GpuFacts> facts(count);
  for (unsigned int i = 0; i < count; ++i) {
    GpuFacts& gpu = facts[i];
    gpu.index = i;
    const nvml::Return handle_rc = lib->device_handle(i, &gpu.device);
    if (handle_rc != nvml::kSuccess) {
      gpu.problem = "cannot open it: " + lib->Describe(handle_rc);
      gpu.problem_code = handle_rc;
    } else {
      InspectGpu(*lib, gpu);
    }
    std::string line = fmt::format("gpu{}: {}, {}", i, gpu.name, gpu.uuid);
    if (gpu.has_architecture) line += fmt::format(", {}", ArchitectureName(gpu.architecture));
    if (gpu.usable) {
      line += gpu.counter ? ", energy counter (mJ)" : ", power gauge (mW), integrated";
      if (gpu.limit_watts > 0) line += fmt::format(", power limit {:.0f} W", gpu.limit_watts);
      if (AveragesOverOneSecond(gpu)) line += ", power averaged over 1 s: windows >= 1 s";
      if (!gpu.problem.empty()) line += " (" + gpu.problem + ")";
      gpus.push_back({gpu.device, gpu.counter});
      domains.push_back(MakeDomain(gpu, driver));
    } else {
      line += ": " + gpu.problem;
      if (!first_failure) first_failure = &gpu;
    }
    result.details.push_back(std::move(line));
  }
  if (gpus.empty()) {
    result.status = nvml::ErrorStatus(first_failure->problem_code);
    result.reason = fmt::format("no GPU reports power or energy (gpu{}: {})", first_failure->index,
                                first_failure->problem);
    result.fix = std::string(nvml::ErrorFix(first_failure->problem_code));
    return result;
  }
  result.status = ProbeStatus::kAvailable;
  result.source = std::make_unique<NvmlSource>(std::move(lib), std::move(gpus), std::move(domains));
  return result;
}

}  // namespace joulebench::energy
