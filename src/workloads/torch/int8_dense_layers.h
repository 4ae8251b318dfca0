// Dynamic int8 quantization of the built-in encoders' dense layers (internal), the scheme of
// torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8): weights
// quantized once to int8, symmetric, one scale per weight matrix (its default_dynamic_qconfig,
// MinMaxObserver per_tensor_symmetric); activations quantized per call from their own min and
// max to 7-bit uint8 (reduce_range=True, as its DynamicQuantizedLinear calls the kernel); the
// products run in libtorch's quantized kernels (ops quantized::linear_prepack and
// quantized::linear_dynamic of the quantized engine: fbgemm, x86 or, in Debian's libtorch 1.13
// that ships no fbgemm, oneDNN). Attention products, softmax, GELU and LayerNorm stay fp32, as
// with quantize_dynamic.
//
// The model's forward passes every dense weight through torch_impl::Linear; a quantized model
// registers its weights here and Linear looks them up (Find), so the encoder's own code is
// unchanged. Registration holds the weight tensor, so its address is not reused while
// registered; the registration ends with the Int8DenseLayers object.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "workloads/torch/encoder_model.h"

namespace joulebench::workloads::torch_impl {

// One dense layer y = x wᵀ + b with int8 weights and dynamically quantized activations.
class DynamicInt8Linear {
 public:
  // weight [out, in] fp32 (CPU); bias [out] or undefined. row_blocks: sizes of consecutive
  // groups of output rows, each quantized with its own symmetric scale (a fused Q/K/V matrix
  // is three blocks: exactly three per-tensor layers side by side); empty = one block.
  DynamicInt8Linear(const torch::Tensor& weight, const torch::Tensor& bias,
                    std::vector<std::int64_t> row_blocks = {});
  // x [..., in] fp32 -> [..., out] fp32. Counts the call (see calls()).
  torch::Tensor Forward(const torch::Tensor& x) const;
  // The symmetric scale of each block: max |w| / 127.5, as MinMaxObserver computes it.
  const std::vector<double>& block_scales() const { return block_scales_; }
  std::uint64_t calls() const { return calls_.load(std::memory_order_relaxed); }

 private:
  struct Packed;
  std::shared_ptr<Packed> packed_;
  std::vector<double> block_scales_;
  mutable std::atomic<std::uint64_t> calls_{0};
};

// The dense layers of one model, quantized and registered for torch_impl::Linear.
class Int8DenseLayers {
 public:
  // Quantizes every dense layer the model's inference forward multiplies by: per encoder
  // layer the fused Q/K/V matrix (FuseForInference must have run; three blocks) or, unfused,
  // query, key and value; attention output, intermediate and output; and the token
  // classifier when the model has one. The model must be in fp32 on the CPU (InputError
  // otherwise); EnvironmentError when this libtorch has no quantized engine.
  explicit Int8DenseLayers(EncoderModelImpl& model);
  ~Int8DenseLayers();  // unregisters
  Int8DenseLayers(const Int8DenseLayers&) = delete;
  Int8DenseLayers& operator=(const Int8DenseLayers&) = delete;

  std::size_t layer_count() const { return layers_.size(); }
  // Calls through this model's quantized layers so far: one forward pass adds layer_count().
  std::uint64_t calls() const;

  // The quantized layer registered for this exact weight tensor, or nullptr (cheap when no
  // model is quantized).
  static const DynamicInt8Linear* Find(const torch::Tensor& weight);

 private:
  std::vector<std::pair<torch::Tensor, std::shared_ptr<DynamicInt8Linear>>> layers_;
};

// The quantized engine libtorch uses ("onednn", "x86", "fbgemm", "qnnpack"); "" when none.
std::string QuantizedEngineName();

}  // namespace joulebench::workloads::torch_impl
