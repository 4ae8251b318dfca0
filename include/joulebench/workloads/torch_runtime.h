// Facts about the libtorch runtime joulebench was built with, and the settings every
// libtorch workload shares (device, dtype, threads). Torch-free: callers need no libtorch.
#pragma once

#include <string>
#include <string_view>

namespace joulebench::workloads {

// True when this build includes the libtorch workloads (CMake option JOULEBENCH_WITH_TORCH).
bool TorchAvailable();
// libtorch's version, e.g. "1.13.1"; "" without libtorch.
std::string TorchVersion();
// True when libtorch was compiled with CUDA and at least one GPU is visible.
bool CudaAvailable();
// True when the libtorch in use was compiled with CUDA (GPUs may still be absent).
bool CudaCompiled();

// Compute dtype of a model's weights and activations. Attention softmax and LayerNorm
// statistics stay fp32 in bf16 mode.
enum class ComputeDtype { kFloat32, kBFloat16 };
std::string_view ComputeDtypeName(ComputeDtype dtype);  // "fp32", "bf16"
// "fp32" | "bf16" (also "float32", "bfloat16"); InputError otherwise.
ComputeDtype ParseComputeDtype(std::string_view text);

// Quantization of the built-in models' dense layers for inference. kDynamicInt8: int8
// weights and activations quantized per call, the scheme of PyTorch's
// torch.ao.quantization.quantize_dynamic (fp32 models on the CPU only).
enum class DenseQuantization { kNone, kDynamicInt8 };

// Validates a device name, "cpu", "cuda" or "cuda:N", and returns it canonical ("cuda" ->
// "cuda:0"). InputError for bad syntax; EnvironmentError when CUDA is not compiled into this
// libtorch, no GPU is visible, or N is not a visible GPU.
std::string CheckDevice(std::string_view device);

// Sets libtorch's intra-op threads (>= 1; joulebench's default is 1, libtorch's own default
// is every core), and OpenBLAS's threads when libtorch multiplies through OpenBLAS. OpenMP
// keeps the count per thread: call it in every thread that runs libtorch work.
// InputError when out of range.
void SetIntraOpThreads(int threads);
int IntraOpThreads();

// Keeps freed host memory in the process for reuse instead of returning it to the kernel.
// glibc maps every block above 32 MB (an attention score tensor, an embedding gradient, an
// AdamW temporary) afresh with mmap and unmaps it on free, so each step pays for hundreds of
// MB of page faults: BERT-base training at batch 4 took 250,000 faults and 0.9 s of system
// time per 3.4 s step. This turns glibc's mmap path off and its heap trimming down, so the
// steady state runs on recycled pages. Idempotent; a no-op on other C libraries. Returns a
// description of the policy for run records ("glibc: no mmap, no trim"), or "" when unchanged.
std::string KeepFreedHostMemory();

// The kernels that multiply the built-in models' dense (linear) layers. On the CPU in fp32,
// libtorch's oneDNN (MKL-DNN) inner product is several times faster than its BLAS path
// (OpenBLAS on Debian) on AVX-512 machines; kAuto takes oneDNN wherever it applies.
enum class LinearKernel { kAuto, kBlas, kOneDnn };
std::string_view LinearKernelName(LinearKernel kernel);  // "auto", "blas", "onednn"
// "auto" | "blas" | "onednn"; InputError otherwise.
LinearKernel ParseLinearKernel(std::string_view text);
// The kernel `kernel` stands for on a checked device and dtype: kBlas or kOneDnn. oneDNN
// applies on the CPU in fp32 when libtorch was built with it; asking for it elsewhere is an
// InputError (EnvironmentError when this libtorch lacks it).
LinearKernel ResolveLinearKernel(LinearKernel kernel, const std::string& checked_device,
                                 ComputeDtype dtype);
// What a resolved kernel is, for reports: "oneDNN inner product" or "libtorch linear (BLAS)".
std::string LinearKernelDescription(LinearKernel resolved);

// Everything a built-in or TorchScript workload is configured with.
struct TorchOptions {
  std::string device = "cpu";  // "cpu", "cuda", "cuda:N"
  ComputeDtype dtype = ComputeDtype::kFloat32;
  int threads = 1;              // intra-op threads
  unsigned long long seed = 1;  // weights and synthetic inputs
  std::string weights_path;     // state dict to load; "" = random initialisation
  LinearKernel linear_kernel = LinearKernel::kAuto;  // built-in models' dense layers
  DenseQuantization quantization = DenseQuantization::kNone;  // built-in models, inference
};

// Inference precision as `--dtype` names it: "fp32", "bf16", or "int8" (an fp32 model whose
// dense layers are dynamically quantized). Sets options.dtype and options.quantization;
// InputError naming --dtype otherwise.
void ApplyInferenceDtype(std::string_view text, TorchOptions& options);
// "fp32", "bf16" or "int8" for those options.
std::string_view InferenceDtypeName(const TorchOptions& options);
// The quantized engine of this libtorch ("onednn", "x86", "fbgemm", "qnnpack"), "" when none.
std::string QuantizedEngine();

}  // namespace joulebench::workloads
