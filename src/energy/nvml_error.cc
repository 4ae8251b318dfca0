#include "energy/nvml_error.h"

#include <fmt/format.h>

namespace joulebench::energy::nvml {
namespace {

struct ErrorInfo {
  Return code;
  std::string_view name;
  ProbeStatus status;
  std::string_view fix;
};

// Meanings from the NVML API Reference Guide, "Error reporting" (nvmlReturn_t).
constexpr ErrorInfo kErrors[] = {
    {kErrorUninitialized, "NVML_ERROR_UNINITIALIZED", ProbeStatus::kError,
     "this is a joulebench bug (NVML used before nvmlInit); please report it"},
    {kErrorInvalidArgument, "NVML_ERROR_INVALID_ARGUMENT", ProbeStatus::kError,
     "the library may not be NVIDIA's NVML; point --nvml-library at libnvidia-ml.so.1"},
    {kErrorNotSupported, "NVML_ERROR_NOT_SUPPORTED", ProbeStatus::kUnsupported,
     "this GPU does not report power or energy through NVML (data-centre GPUs from Volta on "
     "have an energy counter)"},
    {kErrorNoPermission, "NVML_ERROR_NO_PERMISSION", ProbeStatus::kPermissionDenied,
     "give this user read/write access to /dev/nvidia* (e.g. add it to the group owning them, "
     "often 'video'), or in a container run with the NVIDIA container toolkit (--gpus all)"},
    {kErrorAlreadyInitialized, "NVML_ERROR_ALREADY_INITIALIZED", ProbeStatus::kError,
     "an old NVML reported a second initialisation; update the NVIDIA driver"},
    {kErrorNotFound, "NVML_ERROR_NOT_FOUND", ProbeStatus::kAbsent,
     "the GPU was not found; check nvidia-smi -L"},
    {kErrorInsufficientSize, "NVML_ERROR_INSUFFICIENT_SIZE", ProbeStatus::kError,
     "this is a joulebench bug (buffer too small); please report it"},
    {kErrorInsufficientPower, "NVML_ERROR_INSUFFICIENT_POWER", ProbeStatus::kError,
     "the GPU's external power cables are not properly attached; check them"},
    {kErrorDriverNotLoaded, "NVML_ERROR_DRIVER_NOT_LOADED", ProbeStatus::kAbsent,
     "the NVIDIA kernel driver is not loaded: load it (sudo modprobe nvidia) or install the "
     "NVIDIA driver"},
    {kErrorTimeout, "NVML_ERROR_TIMEOUT", ProbeStatus::kError,
     "the driver timed out; retry, and check dmesg for GPU errors"},
    {kErrorIrqIssue, "NVML_ERROR_IRQ_ISSUE", ProbeStatus::kError,
     "the kernel detected an interrupt problem with the GPU; check dmesg and the driver "
     "installation"},
    {kErrorLibraryNotFound, "NVML_ERROR_LIBRARY_NOT_FOUND", ProbeStatus::kAbsent,
     "NVML could not load a library it needs; reinstall the NVIDIA driver"},
    {kErrorFunctionNotFound, "NVML_ERROR_FUNCTION_NOT_FOUND", ProbeStatus::kUnsupported,
     "this NVML is too old for the call; update the NVIDIA driver"},
    {kErrorCorruptedInforom, "NVML_ERROR_CORRUPTED_INFOROM", ProbeStatus::kError,
     "the GPU's infoROM is corrupted; contact the hardware vendor (nvidia-smi -q shows it)"},
    {kErrorGpuIsLost, "NVML_ERROR_GPU_IS_LOST", ProbeStatus::kError,
     "the GPU fell off the bus or became inaccessible; check dmesg (Xid errors), then reset "
     "the GPU (nvidia-smi -r) or reboot"},
    {kErrorResetRequired, "NVML_ERROR_RESET_REQUIRED", ProbeStatus::kError,
     "the GPU needs a reset before use: nvidia-smi -r, or reboot"},
    {kErrorOperatingSystem, "NVML_ERROR_OPERATING_SYSTEM", ProbeStatus::kPermissionDenied,
     "the operating system or a cgroup blocks access to the GPU control device; in a container "
     "expose the GPU (--gpus all) or allow /dev/nvidiactl in the device cgroup"},
    {kErrorLibRmVersionMismatch, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", ProbeStatus::kError,
     "libnvidia-ml and the loaded NVIDIA kernel module have different versions (usually after "
     "a driver upgrade): reboot, or reload the nvidia modules"},
    {kErrorInUse, "NVML_ERROR_IN_USE", ProbeStatus::kError,
     "the GPU is in use by an operation that excludes this one; retry later"},
    {kErrorMemory, "NVML_ERROR_MEMORY", ProbeStatus::kError,
     "the driver ran out of memory; free memory and retry"},
    {kErrorNoData, "NVML_ERROR_NO_DATA", ProbeStatus::kUnsupported,
     "the driver has no data for this query yet; retry after a few seconds"},
    {kErrorVgpuEccNotSupported, "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED", ProbeStatus::kUnsupported,
     "not available on a vGPU with ECC enabled"},
    {kErrorInsufficientResources, "NVML_ERROR_INSUFFICIENT_RESOURCES", ProbeStatus::kError,
     "the driver ran out of a critical resource; retry, or reboot if it persists"},
    {kErrorFreqNotSupported, "NVML_ERROR_FREQ_NOT_SUPPORTED", ProbeStatus::kUnsupported,
     "the requested frequency is not supported by this GPU"},
    {kErrorArgumentVersionMismatch, "NVML_ERROR_ARGUMENT_VERSION_MISMATCH", ProbeStatus::kError,
     "this NVML and joulebench disagree on a structure version; update the NVIDIA driver"},
    {kErrorDeprecated, "NVML_ERROR_DEPRECATED", ProbeStatus::kUnsupported,
     "this NVML no longer supports the call; please report it with your driver version"},
    {kErrorNotReady, "NVML_ERROR_NOT_READY", ProbeStatus::kError,
     "the system is not ready yet (e.g. the driver is still starting); retry"},
    {kErrorGpuNotFound, "NVML_ERROR_GPU_NOT_FOUND", ProbeStatus::kAbsent,
     "NVML found no GPU; check that the GPU is visible (nvidia-smi -L, lspci)"},
    {kErrorInvalidState, "NVML_ERROR_INVALID_STATE", ProbeStatus::kError,
     "the GPU is in a state that does not allow this query; check nvidia-smi -q"},
    {kErrorUnknown, "NVML_ERROR_UNKNOWN", ProbeStatus::kError,
     "the driver reported an internal error; check dmesg, and update or reinstall the driver"},
};

const ErrorInfo* Find(Return code) {
  for (const auto& e : kErrors) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

}  // namespace

std::string ErrorName(Return code) {
  if (code == kSuccess) return "NVML_SUCCESS";
  if (const auto* e = Find(code)) return std::string(e->name);
  return fmt::format("NVML_ERROR_{}", code);
}

ProbeStatus ErrorStatus(Return code) {
  if (const auto* e = Find(code)) return e->status;
  return ProbeStatus::kError;
}

std::string_view ErrorFix(Return code) {
  if (const auto* e = Find(code)) return e->fix;
  return "an error code this joulebench does not know (a newer driver?); check nvidia-smi -q";
}

}  // namespace joulebench::energy::nvml
