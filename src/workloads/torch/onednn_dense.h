// A dense layer y = x Wᵀ + b straight on oneDNN's matmul primitive (internal: fp32, CPU,
// inference). libtorch 1.13's mkldnn_linear converts its input to oneDNN's layout, reorders the
// weight into the kernel's blocked layout and converts the product back on every call; here the
// weight is packed once, the primitives are made once per shape, and the caller's buffers are
// read and written in place, with the bias and an epilogue (GELU, or adding the product to what
// the output already holds: a residual connection) fused into the same pass.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>

namespace joulebench::workloads::torch_impl {

// True when joulebench was built against oneDNN's headers (Debian's libdnnl-dev, the oneDNN
// that Debian's libtorch itself runs on). Without them the layers below are not built and the
// models use libtorch's mkldnn_linear.
bool OneDnnPrimitivesAvailable();

enum class DenseEpilogue {
  kNone,       // y = x Wᵀ + b
  kGelu,       // y = GELU(x Wᵀ + b), exact erf form
  kAccumulate  // y = y + x Wᵀ + b (a residual connection: y holds the residual on entry)
};

class OneDnnDense {
 public:
  // weight [out, in] and bias [out] (or undefined): fp32 CPU tensors, copied and packed now.
  // Throws std::logic_error when OneDnnPrimitivesAvailable() is false.
  OneDnnDense(const torch::Tensor& weight, const torch::Tensor& bias);
  ~OneDnnDense();
  OneDnnDense(const OneDnnDense&) = delete;
  OneDnnDense& operator=(const OneDnnDense&) = delete;

  // x: `rows` rows of in_features() floats, row-major; y: `rows` rows of out_features().
  // Runs on the calling thread's intra-op threads (one thread inside a parallel region).
  // Safe to call from several threads at once.
  void Run(const float* x, std::int64_t rows, float* y, DenseEpilogue epilogue) const;
  // The same on tensors: x [..., in] fp32 contiguous; returns [..., out] (not kAccumulate).
  torch::Tensor Run(const torch::Tensor& x, DenseEpilogue epilogue = DenseEpilogue::kNone) const;

  std::int64_t in_features() const;
  std::int64_t out_features() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::workloads::torch_impl
