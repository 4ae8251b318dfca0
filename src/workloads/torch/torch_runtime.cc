#include "joulebench/workloads/torch_runtime.h"

#include <torch/version.h>
#include <torch/cuda.h>

namespace joulebench::workloads {

bool TorchAvailable() { return true; }

std::string TorchVersion() { return TORCH_VERSION; }

bool CudaAvailable() { return torch::cuda::is_available(); }

}  // namespace joulebench::workloads
