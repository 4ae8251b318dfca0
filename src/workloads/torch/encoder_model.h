// The BERT / LayoutLM encoder as libtorch modules (internal: include only from
// src/workloads/torch/ and tests/torch/). Parameter names follow Hugging Face's
// BertForMaskedLM / LayoutLMForTokenClassification so that their state dicts load as is:
//   bert.embeddings.word_embeddings.weight, bert.encoder.layer.0.attention.self.query.weight,
//   layoutlm.embeddings.x_position_embeddings.weight, classifier.weight, cls.predictions.bias.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/torch_runtime.h"
#include "workloads/torch/onednn_encoder_layer.h"

namespace joulebench::workloads::torch_impl {

// One post-LayerNorm encoder layer: x = LN(x + Attn(x)); x = LN(x + FFN(x)), exact-erf GELU,
// attention softmax in fp32 whatever the compute dtype.
class EncoderLayerImpl : public torch::nn::Module {
 public:
  explicit EncoderLayerImpl(const ModelConfig& config);
  // hidden: [B, S, H]; additive_mask: fp32 [B, 1, 1, S] (0 keep, very negative drop) or an
  // undefined tensor for no padding.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask);
  // Inference: fuses Q, K and V into one matrix product (with 1/sqrt(d) folded into Q) and,
  // with the oneDNN kernel on fp32 CPU weights, packs the layer for OneDnnEncoderLayer.
  // Call again after changing the weights, dtype or device; training mode ignores it.
  void FuseForInference();
  // Which kernel multiplies the dense layers (a resolved kind: kBlas or kOneDnn).
  void set_linear_kernel(LinearKernel resolved);
  // Whether inference with the oneDNN kernel runs the whole layer on oneDNN primitives
  // (OneDnnEncoderLayer; the default where joulebench has them) or op by op through libtorch
  // (mkldnn_linear and the per-head attention below, as training does).
  void set_onednn_primitives(bool use) { onednn_primitives_ = use; }
  // True when forward(hidden, ...) would run on OneDnnEncoderLayer now.
  bool RunsOnOneDnnPrimitives(const torch::Tensor& hidden) const;
  // Runs the layer in place on OneDnnEncoderLayer: hidden [B, S, H] contiguous and owned by
  // the caller (RunsOnOneDnnPrimitives(hidden) must hold).
  void ForwardInPlace(const torch::Tensor& hidden, const torch::Tensor& additive_mask) const;
  // The fused Q/K/V weight and bias the inference forward multiplies by (undefined before
  // FuseForInference), for int8 quantization (int8_dense_layers.h).
  const torch::Tensor& fused_qkv_weight() const { return fused_qkv_weight_; }
  const torch::Tensor& fused_qkv_bias() const { return fused_qkv_bias_; }

  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_output{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  torch::nn::Linear intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};

 private:
  std::int64_t num_heads_;
  std::int64_t head_dim_;
  double dropout_;
  LinearKernel linear_kernel_ = LinearKernel::kBlas;
  torch::Tensor Dense(const torch::Tensor& x, const torch::nn::Linear& layer) const;
  // Attention one (sequence, head) at a time through oneDNN: at long sequences its two
  // products beat libtorch's batched matmul on OpenBLAS several times over. q, k, v:
  // [B, heads, S, D]; returns the context [B, S, heads * D]. Without autograd the (sequence,
  // head) pairs are spread over the intra-op threads, each computed on one thread: a
  // [S, D] x [D, S] product is too small to split over threads without them waiting on each
  // other at every step.
  torch::Tensor AttentionPerHead(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, const torch::Tensor& additive_mask) const;
  static constexpr std::int64_t kOneDnnAttentionMinSeqLen = 128;
  void PackForOneDnn();
  torch::Tensor fused_qkv_weight_;
  torch::Tensor fused_qkv_bias_;
  bool onednn_primitives_ = true;
  std::shared_ptr<const OneDnnEncoderLayer> onednn_layer_;  // packed by FuseForInference
};
TORCH_MODULE(EncoderLayer);

// Word + position + segment embeddings (+ LayoutLM's x, y, h, w), then LayerNorm.
class EmbeddingsImpl : public torch::nn::Module {
 public:
  explicit EmbeddingsImpl(const ModelConfig& config);
  // input_ids, token_type_ids: [B, S] int64; bbox: [B, S, 4] int64 (LayoutLM only).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                        const torch::Tensor& bbox);

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr},
      token_type_embeddings{nullptr};
  torch::nn::Embedding x_position_embeddings{nullptr}, y_position_embeddings{nullptr},
      h_position_embeddings{nullptr}, w_position_embeddings{nullptr};
  torch::nn::LayerNorm layer_norm{nullptr};

 private:
  bool layout_;
  double dropout_;
};
TORCH_MODULE(Embeddings);

enum class ModelHead {
  kNone,                 // encoder output only
  kMaskedLm,             // BERT pretraining head, decoder tied to the word embeddings
  kTokenClassification,  // LayoutLM's per-token labels
};

class EncoderModelImpl : public torch::nn::Module {
 public:
  EncoderModelImpl(const ModelConfig& config, ModelHead head);
  // The encoder's last hidden state [B, S, H]; attention_mask [B, S] (1 real, 0 padding) or
  // undefined for no padding.
  torch::Tensor Encode(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                       const torch::Tensor& bbox, const torch::Tensor& attention_mask);
  // Runs the layers on given hidden states (what tests compare with PyTorch's own layer).
  torch::Tensor EncodeHidden(torch::Tensor hidden, const torch::Tensor& attention_mask);
  // MLM logits [N, V] for hidden states [N, H] gathered at the predicted positions.
  torch::Tensor MaskedLmLogits(const torch::Tensor& hidden);
  // Token-classification logits [B, S, labels].
  torch::Tensor TokenLogits(const torch::Tensor& hidden);
  // See EncoderLayerImpl::FuseForInference.
  void FuseForInference();
  // The kernel of every dense layer, heads included (kBlas or kOneDnn; default kBlas).
  void SetLinearKernel(LinearKernel resolved);
  // See EncoderLayerImpl::set_onednn_primitives.
  void SetOneDnnPrimitives(bool use);

  // Loads a state dict saved by torch.save (Python) or torch::pickle_save; throws
  // InputError listing missing / unexpected / misshaped keys. Keys without the model prefix
  // ("embeddings..." for "bert.embeddings...") are accepted.
  void LoadStateDict(const std::string& path);
  // Writes the parameters as a {name: tensor} dict that Python's torch.load reads.
  void SaveStateDict(const std::string& path);

  const ModelConfig& config() const { return config_; }
  ModelHead head() const { return head_; }
  Embeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};

 private:
  ModelConfig config_;
  ModelHead head_;
  std::string prefix_;  // "bert" or "layoutlm"
  LinearKernel linear_kernel_ = LinearKernel::kBlas;
  torch::nn::Linear mlm_transform{nullptr};
  torch::nn::LayerNorm mlm_norm{nullptr};
  torch::Tensor mlm_bias;
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(EncoderModel);

// Initialises like BERT: weights ~ N(0, 0.02), biases 0, LayerNorm 1/0 (seeded).
void InitializeWeights(EncoderModelImpl& model, std::uint64_t seed);

// Additive fp32 mask [B, 1, 1, S] from a [B, S] 0/1 mask.
torch::Tensor AdditiveMask(const torch::Tensor& attention_mask);

}  // namespace joulebench::workloads::torch_impl
