#include "joulebench/workloads/gemm_peak.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "joulebench/error.h"
#include "workloads/torch/onednn_dense.h"
#include "workloads/torch/torch_util.h"

namespace joulebench::workloads {

GemmPeak MeasureGemmPeak(const GemmPeakOptions& options) {
  GemmPeak peak;
  peak.device = CheckDevice(options.torch.device);
  peak.dtype = options.torch.dtype;
  SetIntraOpThreads(options.torch.threads);
  KeepFreedHostMemory();
  peak.threads = options.torch.threads;
  peak.kernel = ResolveLinearKernel(options.torch.linear_kernel, peak.device, peak.dtype);
  const torch::Device device = torch_impl::ToDevice(peak.device);
  peak.size = options.size > 0 ? options.size : (device.is_cuda() ? 8192 : 2048);
  if (peak.size > 65536) throw InputError(fmt::format("--size {} is too large", peak.size));
  torch_impl::Guarded("measuring the GEMM peak", [&] {
    c10::InferenceMode inference;
    auto tensor_options =
        torch::TensorOptions().device(device).dtype(torch_impl::ToScalarType(options.torch.dtype));
    auto a = torch::randn({peak.size, peak.size}, tensor_options);
    auto b = torch::randn({peak.size, peak.size}, tensor_options);
    auto c = torch::empty({peak.size, peak.size}, tensor_options);
    // The product the models' dense layers make, through the same kernel: with oneDNN, the
    // models' packed-weight matmul (OneDnnDense) where joulebench has oneDNN's primitives,
    // else libtorch's mkldnn_linear with its input converted once, outside the timing.
    std::unique_ptr<torch_impl::OneDnnDense> packed;
    torch::Tensor a_onednn;
    if (peak.kernel == LinearKernel::kOneDnn) {
      if (torch_impl::OneDnnPrimitivesAvailable()) {
        packed = std::make_unique<torch_impl::OneDnnDense>(b, torch::Tensor());
      } else {
        a_onednn = a.to_mkldnn();
      }
    }
    auto product = [&] {
      if (packed) {
        packed->Run(a.data_ptr<float>(), peak.size, c.data_ptr<float>(),
                    torch_impl::DenseEpilogue::kNone);
      } else if (peak.kernel == LinearKernel::kOneDnn) {
        c = at::mkldnn_linear(a_onednn, b, c10::nullopt);
      } else {
        torch::mm_out(c, a, b);
      }
    };
    product();  // warm-up: packing buffers, thread pools, clocks
    torch_impl::Synchronize(device);
    const double flops = 2.0 * static_cast<double>(peak.size) * static_cast<double>(peak.size) *
                         static_cast<double>(peak.size);
    const auto begin = std::chrono::steady_clock::now();
    double fastest_s = 1e300;
    for (;;) {
      const auto t0 = std::chrono::steady_clock::now();
      product();
      torch_impl::Synchronize(device);
      const auto t1 = std::chrono::steady_clock::now();
      fastest_s = std::min(fastest_s, std::chrono::duration<double>(t1 - t0).count());
      ++peak.products;
      if (t1 - begin >= options.duration) break;
    }
    peak.duration_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    peak.flops_per_s = flops * static_cast<double>(peak.products) / peak.duration_s;
    peak.best_flops_per_s = flops / fastest_s;
  });
  return peak;
}

}  // namespace joulebench::workloads
