// Facts about the libtorch runtime joulebench was built with (empty when built without it).
#pragma once

#include <string>

namespace joulebench::workloads {

// True when this build includes the libtorch workloads (CMake option JOULEBENCH_WITH_TORCH).
bool TorchAvailable();
// libtorch's version, e.g. "1.13.1"; "" without libtorch.
std::string TorchVersion();
// True when libtorch was compiled with CUDA and at least one GPU is visible.
bool CudaAvailable();

}  // namespace joulebench::workloads
