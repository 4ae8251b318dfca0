// The machine fingerprint stored with every run, so that runs from different machines and
// builds are never compared without saying so.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"

namespace joulebench::store {

struct FingerprintOptions {
  // Where cpuinfo, meminfo and the boot id are read (tests point it at a fake tree).
  std::filesystem::path procfs_root = "/proc";
  // The NVML probe's details (GPU names, driver version) when NVML was probed; empty otherwise.
  std::vector<std::string> nvml_details;
  // workloads::TorchVersion() in a build with libtorch; "" (and no "libtorch" key) otherwise.
  // The library cannot call it itself: libtorch code lives outside it.
  std::string torch_version;
};

// Takes the details of the "nvml" probe result, when there is one.
void AddProbeDetails(FingerprintOptions& options, const std::vector<energy::ProbeResult>& probes);

// {"hostname", "os", "kernel", "cpu_model", "cpu_count", "memory_bytes", "boot_id",
//  "gpus": [...], "gpu_driver", "nvml_details": [...], "libtorch", "joulebench_version",
//  "joulebench_commit"}; a key is left out when its fact cannot be read (see
// docs/json-schema.md).
nlohmann::json MachineFingerprint(const FingerprintOptions& options = {});

}  // namespace joulebench::store
