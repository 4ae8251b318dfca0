// libtorch helpers shared by the torch workloads (internal).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "joulebench/workloads/torch_runtime.h"

namespace joulebench::workloads::torch_impl {

torch::Device ToDevice(const std::string& checked_device);
torch::ScalarType ToScalarType(ComputeDtype dtype);
// y = x wᵀ + b over x's last dimension, through `resolved` (see ResolveLinearKernel); keeps
// autograd working in both kernels.
torch::Tensor Linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     LinearKernel resolved);
// Waits for queued device work (a no-op on the CPU), so that timings end when results exist.
void Synchronize(const torch::Device& device);
// Runs `body`, turning libtorch's c10::Error into joulebench::RuntimeError with `what` as
// context, so that no libtorch exception reaches the CLI raw.
void Guarded(const std::string& what, const std::function<void()>& body);

}  // namespace joulebench::workloads::torch_impl
