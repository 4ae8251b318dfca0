#include "joulebench/workloads/torch_runtime.h"

#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/version.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <charconv>
#include <climits>
#include <mutex>

#include "joulebench/error.h"
#include "workloads/torch/int8_dense_layers.h"
#include "workloads/torch/onednn_dense.h"
#include "workloads/torch/torch_util.h"

namespace joulebench::workloads {

bool TorchAvailable() { return true; }

std::string TorchVersion() { return TORCH_VERSION; }

bool CudaAvailable() { return torch::cuda::is_available(); }

bool CudaCompiled() {
  // Without the CUDA part of ATen the hooks are a stub whose version query throws.
  try {
    return at::detail::getCUDAHooks().versionCUDART() > 0;
  } catch (const c10::Error&) {
    return false;
  }
}

std::string_view ComputeDtypeName(ComputeDtype dtype) {
  return dtype == ComputeDtype::kFloat32 ? "fp32" : "bf16";
}

ComputeDtype ParseComputeDtype(std::string_view text) {
  if (text == "fp32" || text == "float32") return ComputeDtype::kFloat32;
  if (text == "bf16" || text == "bfloat16") return ComputeDtype::kBFloat16;
  throw InputError(fmt::format("--dtype: '{}' is not supported; use fp32 or bf16", text));
}

std::string CheckDevice(std::string_view device) {
  if (device == "cpu") return "cpu";
  long index = 0;
  if (device == "cuda") {
    index = 0;
  } else if (device.rfind("cuda:", 0) == 0) {
    std::string_view digits = device.substr(5);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || index < 0) {
      throw InputError(fmt::format(
          "--device: '{}' is not a device; use cpu, cuda or cuda:N (N = GPU index)", device));
    }
  } else {
    throw InputError(fmt::format(
        "--device: '{}' is not a device; use cpu, cuda or cuda:N (N = GPU index)", device));
  }
  if (!CudaCompiled()) {
    throw EnvironmentError(fmt::format(
        "--device {}: this joulebench's libtorch {} was built without CUDA; use --device cpu, "
        "or rebuild joulebench against a CUDA libtorch (-DCMAKE_PREFIX_PATH=...)",
        device, TORCH_VERSION));
  }
  const auto count = static_cast<long>(torch::cuda::device_count());
  if (count == 0) {
    throw EnvironmentError(
        fmt::format("--device {}: libtorch has CUDA but sees no GPU; check nvidia-smi and "
                    "CUDA_VISIBLE_DEVICES, or use --device cpu",
                    device));
  }
  if (index >= count) {
    throw EnvironmentError(fmt::format("--device {}: only {} GPU(s) visible (cuda:0..cuda:{})",
                                       device, count, count - 1));
  }
  return fmt::format("cuda:{}", index);
}

void SetIntraOpThreads(int threads) {
  if (threads < 1 || threads > 4096) {
    throw InputError(fmt::format("--threads: {} is out of range; give 1 or more", threads));
  }
  at::set_num_threads(threads);
  // ATen sizes its OpenMP pool but not OpenBLAS's own pthread pool, which otherwise uses
  // every core; Debian's libtorch multiplies matrices through OpenBLAS.
  using SetThreadsFn = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    fn(threads);
  }
}

int IntraOpThreads() { return at::get_num_threads(); }

std::string KeepFreedHostMemory() {
#if defined(__GLIBC__)
  static std::once_flag once;
  static bool applied = false;
  std::call_once(once, [] {
    // Large blocks then come from the heap (non-main arenas fall back to the main one) and
    // stay there after free; a heap top under 2 GB is never given back.
    applied = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
  });
  return applied ? "glibc malloc: mmap off, trim threshold 2 GiB (freed memory is reused)" : "";
#else
  return "";
#endif
}

std::string_view LinearKernelName(LinearKernel kernel) {
  switch (kernel) {
    case LinearKernel::kAuto:
      return "auto";
    case LinearKernel::kBlas:
      return "blas";
    case LinearKernel::kOneDnn:
      return "onednn";
  }
  return "?";
}

LinearKernel ParseLinearKernel(std::string_view text) {
  for (auto k : {LinearKernel::kAuto, LinearKernel::kBlas, LinearKernel::kOneDnn}) {
    if (text == LinearKernelName(k)) return k;
  }
  throw InputError(
      fmt::format("--linear-kernel: '{}' is not a kernel; use auto, blas or onednn", text));
}

LinearKernel ResolveLinearKernel(LinearKernel kernel, const std::string& checked_device,
                                 ComputeDtype dtype) {
  if (kernel == LinearKernel::kBlas) return kernel;
  const bool applies = checked_device == "cpu" && dtype == ComputeDtype::kFloat32;
  if (kernel == LinearKernel::kAuto) {
    return applies && at::hasMKLDNN() ? LinearKernel::kOneDnn : LinearKernel::kBlas;
  }
  if (!applies) {
    throw InputError(fmt::format(
        "--linear-kernel onednn: applies on the CPU in fp32 only (here: --device {} --dtype {}); "
        "use --linear-kernel auto",
        checked_device, ComputeDtypeName(dtype)));
  }
  if (!at::hasMKLDNN()) {
    throw EnvironmentError(fmt::format(
        "--linear-kernel onednn: this libtorch ({}) was built without oneDNN (MKL-DNN); use "
        "--linear-kernel blas",
        TORCH_VERSION));
  }
  return kernel;
}

std::string LinearKernelDescription(LinearKernel resolved) {
  if (resolved != LinearKernel::kOneDnn) return "libtorch linear (BLAS / device GEMM)";
  return torch_impl::OneDnnPrimitivesAvailable()
             ? "oneDNN matmul, weights packed once (fp32 inference: whole layers on oneDNN "
               "primitives)"
             : "oneDNN inner product (libtorch's MKL-DNN)";
}

namespace torch_impl {

torch::Device ToDevice(const std::string& checked_device) { return torch::Device(checked_device); }

torch::ScalarType ToScalarType(ComputeDtype dtype) {
  return dtype == ComputeDtype::kFloat32 ? torch::kFloat : torch::kBFloat16;
}

torch::Tensor Linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     LinearKernel resolved) {
  if (const auto* int8 = Int8DenseLayers::Find(weight)) return int8->Forward(x);
  if (resolved != LinearKernel::kOneDnn) return torch::linear(x, weight, bias);
  // oneDNN takes a 2-D input in its own layout; the product comes back as a dense tensor.
  auto sizes = x.sizes().vec();
  auto rows = x.reshape({-1, x.size(-1)}).contiguous().to_mkldnn();
  auto y = at::mkldnn_linear(rows, weight,
                             bias.defined() ? c10::optional<torch::Tensor>(bias) : c10::nullopt)
               .to_dense();
  sizes.back() = weight.size(0);
  return y.view(sizes);
}

void Synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

void Guarded(const std::string& what, const std::function<void()>& body) {
  try {
    body();
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    const auto newline = message.find('\n');
    if (newline != std::string::npos) message.resize(newline);
    throw RuntimeError(fmt::format("{}: libtorch failed: {}", what, message));
  }
}

}  // namespace torch_impl
}  // namespace joulebench::workloads
