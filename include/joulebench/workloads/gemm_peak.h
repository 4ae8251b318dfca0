// This machine's matrix-multiply peak, measured with the same libtorch, device, dtype and
// threads as the workloads, so that their achieved FLOP/s can be read as a fraction of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "joulebench/workloads/torch_runtime.h"

namespace joulebench::workloads {

struct GemmPeakOptions {
  TorchOptions torch;       // device, dtype, threads, linear kernel (seed, weights unused)
  std::int64_t size = 0;    // n of the n x n x n products; 0 = 2048 on CPU, 8192 on a GPU
  std::chrono::nanoseconds duration = std::chrono::seconds(2);  // timed part, after 1 warm-up
};

struct GemmPeak {
  double flops_per_s = 0;   // 2 n^3 per product / mean time per product
  double best_flops_per_s = 0;  // of the fastest single product
  std::int64_t size = 0;
  std::int64_t products = 0;
  double duration_s = 0;
  std::string device;
  ComputeDtype dtype = ComputeDtype::kFloat32;
  int threads = 1;
  LinearKernel kernel = LinearKernel::kBlas;  // resolved: the kernel the models use
};

// Throws InputError / EnvironmentError for bad options or devices.
GemmPeak MeasureGemmPeak(const GemmPeakOptions& options);

}  // namespace joulebench::workloads
