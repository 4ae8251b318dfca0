// The inference forward of one post-LayerNorm encoder layer on oneDNN primitives (internal:
// fp32, CPU, no autograd), the same function as EncoderLayerImpl::forward:
//   qkv  = x Wqkvᵀ + b                          one matmul, 1/sqrt(d) folded into Q
//   ctx  = softmax(Q Kᵀ + mask) V                per (sequence, head), on one thread each
//   x    = LN(x + ctx Woᵀ + bo)                  residual fused into the matmul, LN in place
//   x    = LN(x + GELU(x W1ᵀ + b1) W2ᵀ + b2)     GELU and residual fused into the matmuls
// The hidden states are updated in place: a layer allocates its QKV, context and feed-forward
// activations and nothing else, and copies only each head's blocks in and out of them.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>

namespace joulebench::workloads::torch_impl {

struct EncoderLayerWeights {
  torch::Tensor qkv_weight, qkv_bias;  // [3H, H], [3H]: Q rows (and bias) already scaled
  torch::Tensor attention_output_weight, attention_output_bias;  // [H, H], [H]
  torch::Tensor attention_norm_weight, attention_norm_bias;      // [H], [H]
  torch::Tensor intermediate_weight, intermediate_bias;          // [I, H], [I]
  torch::Tensor output_weight, output_bias;                      // [H, I], [H]
  torch::Tensor output_norm_weight, output_norm_bias;            // [H], [H]
  std::int64_t num_heads = 0;
  double layer_norm_eps = 1e-12;
};

class OneDnnEncoderLayer {
 public:
  // Copies and packs the weights (fp32 CPU tensors). Throws std::logic_error when
  // OneDnnPrimitivesAvailable() is false.
  explicit OneDnnEncoderLayer(const EncoderLayerWeights& weights);
  ~OneDnnEncoderLayer();
  OneDnnEncoderLayer(const OneDnnEncoderLayer&) = delete;
  OneDnnEncoderLayer& operator=(const OneDnnEncoderLayer&) = delete;

  // hidden: [B, S, H] fp32 CPU contiguous, replaced by the layer's output. additive_mask: fp32
  // [B, 1, 1, S] contiguous (0 keep, very negative drop) or undefined. The (sequence, head)
  // pairs of the attention are spread over the intra-op threads, one thread each; the
  // matrix products of the dense layers use them all.
  void ForwardInPlace(const torch::Tensor& hidden, const torch::Tensor& additive_mask) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::workloads::torch_impl
