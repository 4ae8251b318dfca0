// NVIDIA GPUs through NVML, loaded with dlopen from SourceOptions::nvml_library. One domain per
// GPU ("nvml/gpu<i>"): the total-energy counter (mJ, Volta and newer) where the GPU has one,
// else the power gauge (mW) that the sampler integrates.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "energy/nvml_api.h"
#include "joulebench/energy/source.h"

namespace joulebench::energy {

// A loaded and initialised libnvidia-ml: its dlopen handle and the functions joulebench calls.
// Optional functions are null when the library lacks them. The destructor calls nvmlShutdown
// (when nvmlInit succeeded) and dlclose.
struct NvmlLibrary {
  NvmlLibrary() = default;
  ~NvmlLibrary();
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  void* handle = nullptr;
  bool initialised = false;
  nvml::InitFn init = nullptr;
  nvml::ShutdownFn shutdown = nullptr;
  nvml::ErrorStringFn error_string = nullptr;               // optional
  nvml::SystemGetDriverVersionFn driver_version = nullptr;  // optional
  nvml::DeviceGetCountFn device_count = nullptr;
  nvml::DeviceGetHandleByIndexFn device_handle = nullptr;
  nvml::DeviceGetNameFn device_name = nullptr;                     // optional
  nvml::DeviceGetUuidFn device_uuid = nullptr;                     // optional
  nvml::DeviceGetArchitectureFn device_architecture = nullptr;     // optional (driver 450+)
  nvml::DeviceGetTotalEnergyConsumptionFn total_energy = nullptr;  // optional (Volta+)
  nvml::DeviceGetPowerUsageFn power_usage = nullptr;
  nvml::DeviceGetEnforcedPowerLimitFn power_limit = nullptr;  // optional

  // "Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)": NVML's own words and the code's name.
  std::string Describe(nvml::Return code) const;
};

class NvmlSource final : public Source {
 public:
  struct Gpu {
    nvml::Device device = nullptr;
    bool counter = false;  // true: total-energy counter; false: power gauge
    bool lost = false;     // NVML said NVML_ERROR_GPU_IS_LOST: never read again
  };

  NvmlSource(std::unique_ptr<NvmlLibrary> library, std::vector<Gpu> gpus,
             std::vector<DomainInfo> domains);

  std::string_view name() const override { return "nvml"; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  // Counters: joules since the driver loaded; gauges: watts.
  void Read(std::span<Reading> out) override;
  std::vector<std::string> TakeWarnings() override;

 private:
  std::unique_ptr<NvmlLibrary> library_;
  std::vector<Gpu> gpus_;
  std::vector<DomainInfo> domains_;
  // Last failing return code per GPU (written by Read on the sampler thread) and the last one
  // already reported by TakeWarnings.
  std::unique_ptr<std::atomic<int>[]> failed_code_;
  std::vector<int> reported_code_;
};

// The part of ProbeNvml after the library is loaded: nvmlInit, the GPUs and what each offers.
// `library` has at least the functions ProbeNvml requires; `path` names it in the details.
ProbeResult ProbeNvmlLibrary(std::unique_ptr<NvmlLibrary> library, const std::string& path);

}  // namespace joulebench::energy
