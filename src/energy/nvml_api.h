// The few NVML types, constants and function signatures joulebench uses, declared here because
// Debian ships no nvml.h. NVML is loaded at run time with dlopen (libnvidia-ml.so.1), so only
// function-pointer types are needed. Values and signatures follow the NVML API Reference Guide
// (docs.nvidia.com/deploy/nvml-api/): group "Error reporting" (nvmlReturn_t), "Device Queries"
// (nvmlDeviceGetTotalEnergyConsumption, nvmlDeviceGetPowerUsage, nvmlDeviceGetArchitecture)
// and "Initialization and Cleanup".
#pragma once

namespace joulebench::energy::nvml {

// nvmlReturn_t: every NVML function returns one of these.
using Return = int;
inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorUninitialized = 1;
inline constexpr Return kErrorInvalidArgument = 2;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorNoPermission = 4;
inline constexpr Return kErrorAlreadyInitialized = 5;
inline constexpr Return kErrorNotFound = 6;
inline constexpr Return kErrorInsufficientSize = 7;
inline constexpr Return kErrorInsufficientPower = 8;
inline constexpr Return kErrorDriverNotLoaded = 9;
inline constexpr Return kErrorTimeout = 10;
inline constexpr Return kErrorIrqIssue = 11;
inline constexpr Return kErrorLibraryNotFound = 12;
inline constexpr Return kErrorFunctionNotFound = 13;
inline constexpr Return kErrorCorruptedInforom = 14;
inline constexpr Return kErrorGpuIsLost = 15;
inline constexpr Return kErrorResetRequired = 16;
inline constexpr Return kErrorOperatingSystem = 17;
inline constexpr Return kErrorLibRmVersionMismatch = 18;
inline constexpr Return kErrorInUse = 19;
inline constexpr Return kErrorMemory = 20;
inline constexpr Return kErrorNoData = 21;
inline constexpr Return kErrorVgpuEccNotSupported = 22;
inline constexpr Return kErrorInsufficientResources = 23;
inline constexpr Return kErrorFreqNotSupported = 24;
inline constexpr Return kErrorArgumentVersionMismatch = 25;
inline constexpr Return kErrorDeprecated = 26;
inline constexpr Return kErrorNotReady = 27;
inline constexpr Return kErrorGpuNotFound = 28;
inline constexpr Return kErrorInvalidState = 29;
inline constexpr Return kErrorUnknown = 999;

// nvmlDeviceArchitecture_t (NVML_DEVICE_ARCH_*).
using DeviceArchitecture = unsigned int;
inline constexpr DeviceArchitecture kArchKepler = 2;
inline constexpr DeviceArchitecture kArchMaxwell = 3;
inline constexpr DeviceArchitecture kArchPascal = 4;
inline constexpr DeviceArchitecture kArchVolta = 5;
inline constexpr DeviceArchitecture kArchTuring = 6;
inline constexpr DeviceArchitecture kArchAmpere = 7;
inline constexpr DeviceArchitecture kArchAda = 8;
inline constexpr DeviceArchitecture kArchHopper = 9;
inline constexpr DeviceArchitecture kArchBlackwell = 10;
inline constexpr DeviceArchitecture kArchT23x = 11;  // Orin (Tegra)
inline constexpr DeviceArchitecture kArchUnknown = 0xffffffff;

// nvmlDevice_t is an opaque pointer.
using Device = struct nvmlDevice_st*;

// Buffer sizes NVML documents (NVML_DEVICE_NAME_V2_BUFFER_SIZE, NVML_DEVICE_UUID_V2_BUFFER_SIZE,
// NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE).
inline constexpr unsigned int kNameBufferSize = 96;
inline constexpr unsigned int kUuidBufferSize = 96;
inline constexpr unsigned int kDriverVersionBufferSize = 80;

// Signatures of the functions looked up with dlsym (C linkage, symbol names in comments).
extern "C" {
using InitFn = Return (*)();                                       // nvmlInit_v2, nvmlInit
using ShutdownFn = Return (*)();                                   // nvmlShutdown
using ErrorStringFn = const char* (*)(Return);                     // nvmlErrorString
using SystemGetDriverVersionFn = Return (*)(char*, unsigned int);  // nvmlSystemGetDriverVersion
using DeviceGetCountFn = Return (*)(unsigned int*);  // nvmlDeviceGetCount_v2, nvmlDeviceGetCount
// nvmlDeviceGetHandleByIndex_v2, nvmlDeviceGetHandleByIndex
using DeviceGetHandleByIndexFn = Return (*)(unsigned int, Device*);
using DeviceGetNameFn = Return (*)(Device, char*, unsigned int);  // nvmlDeviceGetName
using DeviceGetUuidFn = Return (*)(Device, char*, unsigned int);  // nvmlDeviceGetUUID
// nvmlDeviceGetArchitecture (driver 450+)
using DeviceGetArchitectureFn = Return (*)(Device, DeviceArchitecture*);
// nvmlDeviceGetTotalEnergyConsumption: millijoules since the driver was loaded (Volta+).
using DeviceGetTotalEnergyConsumptionFn = Return (*)(Device, unsigned long long*);
// nvmlDeviceGetPowerUsage: milliwatts; averaged over 1 s on Ampere (except GA100) and newer.
using DeviceGetPowerUsageFn = Return (*)(Device, unsigned int*);
// nvmlDeviceGetEnforcedPowerLimit: milliwatts.
using DeviceGetEnforcedPowerLimitFn = Return (*)(Device, unsigned int*);
// Group "Device Commands" and "Device Queries": the power limit a user sets (nvidia-smi -pl).
// nvmlDeviceGetPowerManagementLimit: the configured limit, milliwatts.
using DeviceGetPowerManagementLimitFn = Return (*)(Device, unsigned int*);
// nvmlDeviceGetPowerManagementLimitConstraints: allowed minimum and maximum, milliwatts.
using DeviceGetPowerManagementLimitConstraintsFn = Return (*)(Device, unsigned int*, unsigned int*);
// nvmlDeviceSetPowerManagementLimit: milliwatts; needs root (NVML_ERROR_NO_PERMISSION).
using DeviceSetPowerManagementLimitFn = Return (*)(Device, unsigned int);
}

}  // namespace joulebench::energy::nvml
