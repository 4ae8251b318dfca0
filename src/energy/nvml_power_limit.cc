#include <dlfcn.h>
#include <fmt/format.h>

#include <array>
#include <cmath>

#include "energy/nvml_error.h"
#include "energy/nvml_source.h"
#include "joulebench/energy/gpu_power_limit.h"
#include "joulebench/error.h"

namespace joulebench::energy {
namespace {

template <typename Fn>
Fn Symbol(void* handle, const char* name, const char* fallback = nullptr) {
  auto fn = reinterpret_cast<Fn>(::dlsym(handle, name));
  if (!fn && fallback) fn = reinterpret_cast<Fn>(::dlsym(handle, fallback));
  return fn;
}

unsigned int Milliwatts(double watts) {
  return static_cast<unsigned int>(std::lround(watts * 1000.0));
}

}  // namespace

struct GpuPowerLimit::Impl {
  NvmlLibrary library;
  nvml::DeviceGetPowerManagementLimitFn get_limit = nullptr;
  nvml::DeviceGetPowerManagementLimitConstraintsFn constraints = nullptr;
  nvml::DeviceSetPowerManagementLimitFn set_limit = nullptr;
  nvml::Device device = nullptr;
  unsigned int index = 0;
  std::string gpu;
  unsigned int original_mw = 0;
  unsigned int min_mw = 0;
  unsigned int max_mw = 0;
  unsigned int current_mw = 0;

  [[noreturn]] void Refuse(std::string_view what, nvml::Return rc) const {
    std::string fix = rc == nvml::kErrorNoPermission
                          ? "setting a GPU power limit needs root (as nvidia-smi -pl does); run "
                            "tune as root, or leave the knob out with --power-limits none"
                          : std::string(nvml::ErrorFix(rc));
    throw EnvironmentError(
        fmt::format("{}: {} failed: {}; {}", gpu, what, library.Describe(rc), fix));
  }
};

GpuPowerLimit::GpuPowerLimit(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<GpuPowerLimit> GpuPowerLimit::Open(const SourceOptions& options,
                                                   unsigned int index) {
  auto impl = std::make_unique<Impl>();
  impl->index = index;
  impl->gpu = fmt::format("gpu{}", index);
  NvmlLibrary& lib = impl->library;
  const std::string& path = options.nvml_library;
  if (path.empty()) throw EnvironmentError("GPU power limit: the NVML library path is empty");
  lib.handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib.handle) {
    throw EnvironmentError(
        fmt::format("GPU power limit: cannot load NVML ('{}'): no NVIDIA driver here, or point "
                    "--nvml-library at libnvidia-ml.so.1",
                    path));
  }
  void* h = lib.handle;
  lib.init = Symbol<nvml::InitFn>(h, "nvmlInit_v2", "nvmlInit");
  lib.shutdown = Symbol<nvml::ShutdownFn>(h, "nvmlShutdown");
  lib.error_string = Symbol<nvml::ErrorStringFn>(h, "nvmlErrorString");
  lib.device_count =
      Symbol<nvml::DeviceGetCountFn>(h, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
  lib.device_handle = Symbol<nvml::DeviceGetHandleByIndexFn>(h, "nvmlDeviceGetHandleByIndex_v2",
                                                             "nvmlDeviceGetHandleByIndex");
  lib.device_name = Symbol<nvml::DeviceGetNameFn>(h, "nvmlDeviceGetName");
  impl->get_limit =
      Symbol<nvml::DeviceGetPowerManagementLimitFn>(h, "nvmlDeviceGetPowerManagementLimit");
  impl->constraints = Symbol<nvml::DeviceGetPowerManagementLimitConstraintsFn>(
      h, "nvmlDeviceGetPowerManagementLimitConstraints");
  impl->set_limit =
      Symbol<nvml::DeviceSetPowerManagementLimitFn>(h, "nvmlDeviceSetPowerManagementLimit");
  if (!lib.init || !lib.shutdown || !lib.device_count || !lib.device_handle) {
    throw EnvironmentError(fmt::format("GPU power limit: '{}' is not an NVML library", path));
  }
  if (!impl->get_limit || !impl->constraints || !impl->set_limit) {
    throw EnvironmentError(fmt::format(
        "GPU power limit: this NVML ('{}') has no power-limit functions (driver too old)", path));
  }
  if (const nvml::Return rc = lib.init(); rc != nvml::kSuccess) {
    throw EnvironmentError(fmt::format("GPU power limit: nvmlInit failed: {}; {}", lib.Describe(rc),
                                       nvml::ErrorFix(rc)));
  }
  lib.initialised = true;
  unsigned int count = 0;
  if (const nvml::Return rc = lib.device_count(&count); rc != nvml::kSuccess) {
    throw EnvironmentError(
        fmt::format("GPU power limit: nvmlDeviceGetCount failed: {}", lib.Describe(rc)));
  }
  if (index >= count) {
    throw EnvironmentError(
        fmt::format("GPU power limit: no gpu{} (NVML sees {} GPU(s))", index, count));
  }
  if (const nvml::Return rc = lib.device_handle(index, &impl->device); rc != nvml::kSuccess) {
    impl->Refuse("opening it", rc);
  }
  if (lib.device_name) {
    std::array<char, nvml::kNameBufferSize> name{};
    if (lib.device_name(impl->device, name.data(), name.size()) == nvml::kSuccess) {
      impl->gpu = fmt::format("gpu{} ({})", index, name.data());
    }
  }
  if (const nvml::Return rc = impl->get_limit(impl->device, &impl->original_mw);
      rc != nvml::kSuccess) {
    impl->Refuse("reading its power limit", rc);
  }
  if (const nvml::Return rc = impl->constraints(impl->device, &impl->min_mw, &impl->max_mw);
      rc != nvml::kSuccess) {
    impl->Refuse("reading its power-limit range", rc);
  }
  // Setting the limit it already has changes nothing and tells whether we may.
  if (const nvml::Return rc = impl->set_limit(impl->device, impl->original_mw);
      rc != nvml::kSuccess) {
    impl->Refuse("setting its power limit", rc);
  }
  impl->current_mw = impl->original_mw;
  return std::unique_ptr<GpuPowerLimit>(new GpuPowerLimit(std::move(impl)));
}

GpuPowerLimit::~GpuPowerLimit() {
  try {
    Restore();
  } catch (const Error&) {
    // The caller restores explicitly where it can report a failure; a destructor cannot.
  }
}

const std::string& GpuPowerLimit::gpu() const { return impl_->gpu; }
double GpuPowerLimit::original_watts() const { return impl_->original_mw / 1000.0; }
double GpuPowerLimit::min_watts() const { return impl_->min_mw / 1000.0; }
double GpuPowerLimit::max_watts() const { return impl_->max_mw / 1000.0; }
double GpuPowerLimit::current_watts() const { return impl_->current_mw / 1000.0; }

void GpuPowerLimit::Set(double watts) {
  const unsigned int mw = Milliwatts(watts);
  if (!(watts > 0) || mw < impl_->min_mw || mw > impl_->max_mw) {
    throw InputError(fmt::format("power limit {:.0f} W is outside {}'s range {:.0f}..{:.0f} W",
                                 watts, impl_->gpu, min_watts(), max_watts()));
  }
  if (mw == impl_->current_mw) return;
  if (const nvml::Return rc = impl_->set_limit(impl_->device, mw); rc != nvml::kSuccess) {
    impl_->Refuse(fmt::format("setting its power limit to {:.0f} W", watts), rc);
  }
  impl_->current_mw = mw;
}

void GpuPowerLimit::Restore() {
  if (impl_->current_mw == impl_->original_mw) return;
  if (const nvml::Return rc = impl_->set_limit(impl_->device, impl_->original_mw);
      rc != nvml::kSuccess) {
    throw EnvironmentError(fmt::format(
        "{}: restoring its power limit to {:.0f} W failed: {}; restore it by hand: "
        "nvidia-smi -i {} -pl {:.0f}",
        impl_->gpu, original_watts(), impl_->library.Describe(rc), impl_->index, original_watts()));
  }
  impl_->current_mw = impl_->original_mw;
}

}  // namespace joulebench::energy
