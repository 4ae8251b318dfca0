#include "workloads/torch/encoder_model.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <fmt/format.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "joulebench/error.h"
#include "workloads/torch/int8_dense_layers.h"
#include "workloads/torch/onednn_dense.h"
#include "workloads/torch/torch_util.h"

namespace joulebench::workloads::torch_impl {
namespace {

// BERT's dropout on hidden states and attention probabilities (hidden_dropout_prob,
// attention_probs_dropout_prob), used only in training mode.
constexpr double kDropout = 0.1;
// Added to the attention scores of padding keys: exp() of it underflows to exactly 0 in fp32
// (like -inf) without turning a sum into -inf.
constexpr double kMaskedScore = -1e9;

std::shared_ptr<torch::nn::Module> Holder(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

torch::nn::LayerNorm MakeLayerNorm(const ModelConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

// State-dict keys of Hugging Face checkpoints that this model deliberately does not have:
// the pooler and next-sentence head (unused by MLM and token classification), the
// position_ids buffer, and the decoder's copy of the tied word embeddings.
bool IsIgnorableKey(const std::string& key) {
  return key.find("pooler.") != std::string::npos ||
         key.find("cls.seq_relationship.") != std::string::npos ||
         key.find("position_ids") != std::string::npos || key == "cls.predictions.decoder.weight" ||
         key == "cls.predictions.decoder.bias";
}

std::string JoinLimited(const std::vector<std::string>& names, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  if (names.size() > limit) out += fmt::format(" and {} more", names.size() - limit);
  return out;
}

}  // namespace

torch::Tensor AdditiveMask(const torch::Tensor& attention_mask) {
  return ((1.0 - attention_mask.to(torch::kFloat)) * kMaskedScore)
      .view({attention_mask.size(0), 1, 1, attention_mask.size(1)});
}

EncoderLayerImpl::EncoderLayerImpl(const ModelConfig& c)
    : num_heads_(c.num_heads), head_dim_(c.head_dim()), dropout_(kDropout) {
  const std::int64_t h = c.hidden_size;
  auto attention = Holder(*this, "attention");
  auto self = Holder(*attention, "self");
  query = self->register_module("query", torch::nn::Linear(h, h));
  key = self->register_module("key", torch::nn::Linear(h, h));
  value = self->register_module("value", torch::nn::Linear(h, h));
  auto attention_out = Holder(*attention, "output");
  attention_output = attention_out->register_module("dense", torch::nn::Linear(h, h));
  attention_norm = attention_out->register_module("LayerNorm", MakeLayerNorm(c));
  auto inter = Holder(*this, "intermediate");
  intermediate = inter->register_module("dense", torch::nn::Linear(h, c.intermediate_size));
  auto out = Holder(*this, "output");
  output = out->register_module("dense", torch::nn::Linear(c.intermediate_size, h));
  output_norm = out->register_module("LayerNorm", MakeLayerNorm(c));
}

void EncoderLayerImpl::FuseForInference() {
  torch::NoGradGuard no_grad;
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  fused_qkv_weight_ =
      torch::cat({query->weight * scale, key->weight, value->weight}, 0).contiguous();
  fused_qkv_bias_ = torch::cat({query->bias * scale, key->bias, value->bias}, 0).contiguous();
  onednn_layer_.reset();
  PackForOneDnn();
}

void EncoderLayerImpl::set_linear_kernel(LinearKernel resolved) {
  linear_kernel_ = resolved;
  if (!onednn_layer_) PackForOneDnn();
}

void EncoderLayerImpl::PackForOneDnn() {
  // Only for inference with the oneDNN kernel on fp32 CPU weights: the packed copy doubles
  // the layer's memory.
  if (linear_kernel_ != LinearKernel::kOneDnn || !fused_qkv_weight_.defined() ||
      !OneDnnPrimitivesAvailable() || !fused_qkv_weight_.is_cpu() ||
      fused_qkv_weight_.scalar_type() != torch::kFloat) {
    return;
  }
  torch::NoGradGuard no_grad;
  onednn_layer_ = std::make_shared<const OneDnnEncoderLayer>(EncoderLayerWeights{
      .qkv_weight = fused_qkv_weight_,
      .qkv_bias = fused_qkv_bias_,
      .attention_output_weight = attention_output->weight,
      .attention_output_bias = attention_output->bias,
      .attention_norm_weight = attention_norm->weight,
      .attention_norm_bias = attention_norm->bias,
      .intermediate_weight = intermediate->weight,
      .intermediate_bias = intermediate->bias,
      .output_weight = output->weight,
      .output_bias = output->bias,
      .output_norm_weight = output_norm->weight,
      .output_norm_bias = output_norm->bias,
      .num_heads = num_heads_,
      .layer_norm_eps = attention_norm->options.eps(),
  });
}

bool EncoderLayerImpl::RunsOnOneDnnPrimitives(const torch::Tensor& hidden) const {
  return onednn_primitives_ && onednn_layer_ && linear_kernel_ == LinearKernel::kOneDnn &&
         !is_training() && !torch::GradMode::is_enabled() && hidden.is_cpu() &&
         hidden.scalar_type() == torch::kFloat && hidden.dim() == 3 &&
         // A model quantized to int8 runs its dense layers through torch_impl::Linear.
         torch_impl::Int8DenseLayers::Find(fused_qkv_weight_) == nullptr;
}

void EncoderLayerImpl::ForwardInPlace(const torch::Tensor& hidden,
                                      const torch::Tensor& additive_mask) const {
  onednn_layer_->ForwardInPlace(hidden, additive_mask);
}

torch::Tensor EncoderLayerImpl::Dense(const torch::Tensor& x,
                                      const torch::nn::Linear& layer) const {
  return Linear(x, layer->weight, layer->bias, linear_kernel_);
}

torch::Tensor EncoderLayerImpl::AttentionPerHead(const torch::Tensor& q, const torch::Tensor& k,
                                                 const torch::Tensor& v,
                                                 const torch::Tensor& additive_mask) const {
  const std::int64_t b = q.size(0), s = q.size(2);
  const bool training = is_training();
  auto one_head = [&](std::int64_t i, std::int64_t h) {
    // scores = q kᵀ and context = probs v, each one oneDNN inner product ([S, S] and [S, D]).
    auto scores = Linear(q[i][h], k[i][h].contiguous(), torch::Tensor(), LinearKernel::kOneDnn);
    if (additive_mask.defined()) scores = scores + additive_mask[i][0];
    auto probs = torch::softmax(scores, -1);
    if (training) probs = torch::dropout(probs, dropout_, true);
    return Linear(probs, v[i][h].t().contiguous(), torch::Tensor(), LinearKernel::kOneDnn);
  };
  if (!training && !torch::GradMode::is_enabled()) {
    // Grad and inference mode are per thread: the workers take the caller's.
    const bool inference_mode = c10::InferenceMode::is_enabled();
    auto context = torch::empty({b, s, num_heads_ * head_dim_}, q.options());
    at::parallel_for(0, b * num_heads_, 1, [&](std::int64_t begin, std::int64_t end) {
      c10::InferenceMode inference(inference_mode);
      torch::NoGradGuard no_grad;
      for (std::int64_t pair = begin; pair < end; ++pair) {
        const std::int64_t i = pair / num_heads_, h = pair % num_heads_;
        context[i].narrow(1, h * head_dim_, head_dim_).copy_(one_head(i, h));
      }
    });
    return context;
  }
  std::vector<torch::Tensor> contexts;
  contexts.reserve(static_cast<std::size_t>(b * num_heads_));
  for (std::int64_t i = 0; i < b; ++i) {
    for (std::int64_t h = 0; h < num_heads_; ++h) contexts.push_back(one_head(i, h));
  }
  return torch::stack(contexts)
      .view({b, num_heads_, s, head_dim_})
      .transpose(1, 2)
      .reshape({b, s, num_heads_ * head_dim_});
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& hidden,
                                        const torch::Tensor& additive_mask) {
  if (RunsOnOneDnnPrimitives(hidden)) {
    auto out = hidden.contiguous().clone();
    ForwardInPlace(out, additive_mask.defined() ? additive_mask.contiguous() : additive_mask);
    return out;
  }
  const std::int64_t b = hidden.size(0);
  const std::int64_t s = hidden.size(1);
  const std::int64_t h = hidden.size(2);
  const bool training = is_training();
  torch::Tensor q, k, v;
  if (!training && fused_qkv_weight_.defined()) {
    auto qkv = Linear(hidden, fused_qkv_weight_, fused_qkv_bias_, linear_kernel_)
                   .view({b, s, 3, num_heads_, head_dim_})
                   .permute({2, 0, 3, 1, 4});
    q = qkv[0];
    k = qkv[1];
    v = qkv[2];
  } else {
    auto heads = [&](torch::nn::Linear& projection) {
      return Dense(hidden, projection).view({b, s, num_heads_, head_dim_}).transpose(1, 2);
    };
    q = heads(query) * (1.0 / std::sqrt(static_cast<double>(head_dim_)));
    k = heads(key);
    v = heads(value);
  }
  torch::Tensor context;
  if (linear_kernel_ == LinearKernel::kOneDnn && s >= kOneDnnAttentionMinSeqLen) {
    context = AttentionPerHead(q, k, v, additive_mask);
  } else {
    auto scores = torch::matmul(q, k.transpose(-2, -1));  // [B, heads, S, S]
    if (scores.scalar_type() != torch::kFloat) scores = scores.to(torch::kFloat);
    if (additive_mask.defined())
      scores = training ? scores + additive_mask : scores.add_(additive_mask);
    auto probs = torch::softmax(scores, -1);
    if (probs.scalar_type() != v.scalar_type()) probs = probs.to(v.scalar_type());
    if (training) probs = torch::dropout(probs, dropout_, true);
    context = torch::matmul(probs, v).transpose(1, 2).reshape({b, s, h});
  }
  auto attended = Dense(context, attention_output);
  if (training) attended = torch::dropout(attended, dropout_, true);
  auto x = attention_norm(hidden + attended);
  auto ff = Dense(torch::gelu(Dense(x, intermediate)), output);
  if (training) ff = torch::dropout(ff, dropout_, true);
  return output_norm(x + ff);
}

EmbeddingsImpl::EmbeddingsImpl(const ModelConfig& c)
    : layout_(c.family == ModelFamily::kLayoutLM), dropout_(kDropout) {
  const std::int64_t h = c.hidden_size;
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, h));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(c.max_positions, h));
  if (layout_) {
    x_position_embeddings =
        register_module("x_position_embeddings", torch::nn::Embedding(c.max_2d_positions, h));
    y_position_embeddings =
        register_module("y_position_embeddings", torch::nn::Embedding(c.max_2d_positions, h));
    h_position_embeddings =
        register_module("h_position_embeddings", torch::nn::Embedding(c.max_2d_positions, h));
    w_position_embeddings =
        register_module("w_position_embeddings", torch::nn::Embedding(c.max_2d_positions, h));
  }
  token_type_embeddings =
      register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, h));
  layer_norm = register_module("LayerNorm", MakeLayerNorm(c));
}

torch::Tensor EmbeddingsImpl::forward(const torch::Tensor& input_ids,
                                      const torch::Tensor& token_type_ids,
                                      const torch::Tensor& bbox) {
  const std::int64_t s = input_ids.size(1);
  auto positions = torch::arange(s, input_ids.options());
  auto e = word_embeddings(input_ids) + position_embeddings(positions);
  e = token_type_ids.defined() ? e + token_type_embeddings(token_type_ids)
                               : e + token_type_embeddings->weight[0];
  if (layout_) {
    auto x0 = bbox.select(-1, 0), y0 = bbox.select(-1, 1);
    auto x1 = bbox.select(-1, 2), y1 = bbox.select(-1, 3);
    // LayoutLM, section 2.2: the x table embeds x0 and x1, the y table y0 and y1; the
    // Hugging Face implementation adds height and width tables.
    e = e + x_position_embeddings(x0) + y_position_embeddings(y0) + x_position_embeddings(x1) +
        y_position_embeddings(y1) + h_position_embeddings(y1 - y0) + w_position_embeddings(x1 - x0);
  }
  e = layer_norm(e);
  if (is_training()) e = torch::dropout(e, dropout_, true);
  return e;
}

EncoderModelImpl::EncoderModelImpl(const ModelConfig& config, ModelHead head)
    : config_(config),
      head_(head),
      prefix_(config.family == ModelFamily::kLayoutLM ? "layoutlm" : "bert") {
  auto backbone = Holder(*this, prefix_);
  embeddings = backbone->register_module("embeddings", Embeddings(config));
  auto encoder = Holder(*backbone, "encoder");
  layers = encoder->register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < config.num_layers; ++i) layers->push_back(EncoderLayer(config));
  if (head == ModelHead::kMaskedLm) {
    auto cls = Holder(*this, "cls");
    auto predictions = Holder(*cls, "predictions");
    auto transform = Holder(*predictions, "transform");
    mlm_transform = transform->register_module(
        "dense", torch::nn::Linear(config.hidden_size, config.hidden_size));
    mlm_norm = transform->register_module("LayerNorm", MakeLayerNorm(config));
    mlm_bias = predictions->register_parameter("bias", torch::zeros({config.vocab_size}));
  } else if (head == ModelHead::kTokenClassification) {
    classifier =
        register_module("classifier", torch::nn::Linear(config.hidden_size, config.num_labels));
  }
}

torch::Tensor EncoderModelImpl::Encode(const torch::Tensor& input_ids,
                                       const torch::Tensor& token_type_ids,
                                       const torch::Tensor& bbox,
                                       const torch::Tensor& attention_mask) {
  torch::Tensor hidden;
  {
    RECORD_FUNCTION("joulebench::embeddings", std::vector<c10::IValue>());
    hidden = embeddings(input_ids, token_type_ids, bbox);
  }
  return EncodeHidden(hidden, attention_mask);
}

torch::Tensor EncoderModelImpl::EncodeHidden(torch::Tensor hidden,
                                             const torch::Tensor& attention_mask) {
  torch::Tensor additive;
  if (attention_mask.defined()) additive = AdditiveMask(attention_mask).contiguous();
  bool in_place = true;
  for (const auto& layer : *layers) {
    in_place = in_place && layer->as<EncoderLayer>()->RunsOnOneDnnPrimitives(hidden);
  }
  if (in_place) {
    // One copy of the input, then every layer updates it in place.
    hidden = hidden.contiguous().clone();
    for (const auto& layer : *layers) layer->as<EncoderLayer>()->ForwardInPlace(hidden, additive);
    return hidden;
  }
  for (const auto& layer : *layers) hidden = layer->as<EncoderLayer>()->forward(hidden, additive);
  return hidden;
}

torch::Tensor EncoderModelImpl::MaskedLmLogits(const torch::Tensor& hidden) {
  auto x = mlm_norm(
      torch::gelu(Linear(hidden, mlm_transform->weight, mlm_transform->bias, linear_kernel_)));
  return Linear(x, embeddings->word_embeddings->weight, mlm_bias, linear_kernel_);
}

torch::Tensor EncoderModelImpl::TokenLogits(const torch::Tensor& hidden) {
  return Linear(hidden, classifier->weight, classifier->bias, linear_kernel_);
}

void EncoderModelImpl::SetLinearKernel(LinearKernel resolved) {
  linear_kernel_ = resolved;
  for (const auto& layer : *layers) layer->as<EncoderLayer>()->set_linear_kernel(resolved);
}

void EncoderModelImpl::SetOneDnnPrimitives(bool use) {
  for (const auto& layer : *layers) layer->as<EncoderLayer>()->set_onednn_primitives(use);
}

void EncoderModelImpl::FuseForInference() {
  for (const auto& layer : *layers) layer->as<EncoderLayer>()->FuseForInference();
}

void InitializeWeights(EncoderModelImpl& model, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto generator = torch::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    const bool is_norm = name.find("LayerNorm") != std::string::npos;
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (is_norm) {
      p.fill_(is_bias ? 0.0 : 1.0);
    } else if (is_bias) {
      p.zero_();
    } else {
      // BERT's initializer_range: truncated normal with stddev 0.02 (a normal here; the
      // tails do not matter for speed or for the tests).
      auto values = at::normal(0.0, 0.02, p.sizes(), generator);
      p.copy_(values);
    }
  }
}

void EncoderModelImpl::LoadStateDict(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(
        fmt::format("--weights: cannot open '{}'; give the path of a state dict "
                    "saved with torch.save(model.state_dict(), path)",
                    path));
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  torch::IValue loaded;
  const std::string_view ordered_dict_global = "collections\nOrderedDict";
  const bool ordered = std::search(bytes.begin(), bytes.end(), ordered_dict_global.begin(),
                                   ordered_dict_global.end()) != bytes.end();
  try {
    loaded = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    if (ordered) {
      // libtorch 1.13's C++ unpickler turns collections.OrderedDict (what state_dict()
      // returns) into None and then fails on its items.
      throw InputError(fmt::format(
          "--weights: '{}' holds an OrderedDict, which this libtorch ({}) cannot read from "
          "C++; save a plain dict instead: torch.save(dict(model.state_dict()), path)",
          path, TORCH_VERSION));
    }
    throw InputError(
        fmt::format("--weights: '{}' is not a state dict saved by torch.save ({}); save one with "
                    "torch.save(model.state_dict(), path)",
                    path, std::string(e.what_without_backtrace()).substr(0, 160)));
  }
  if (!loaded.isGenericDict()) {
    throw InputError(
        fmt::format("--weights: '{}' holds a {}, not a state dict (a dict of name -> tensor)", path,
                    loaded.tagKind()));
  }
  std::map<std::string, torch::Tensor> given;
  for (const auto& entry : loaded.toGenericDict()) {
    if (!entry.key().isString() || !entry.value().isTensor()) {
      throw InputError(fmt::format(
          "--weights: '{}' is not a state dict: entries must map names to tensors", path));
    }
    given.emplace(entry.key().toStringRef(), entry.value().toTensor());
  }
  // Checkpoints of the bare encoder (BertModel) have no "bert." prefix.
  bool bare = false;
  for (const auto& [key, _] : given) {
    bare |= key.rfind("embeddings.", 0) == 0 || key.rfind("encoder.", 0) == 0;
  }
  auto params = named_parameters();
  std::vector<std::string> missing, mismatched, unexpected;
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (auto& item : params) {
    std::string key = item.key();
    if (bare && key.rfind(prefix_ + ".", 0) == 0) key = key.substr(prefix_.size() + 1);
    auto it = given.find(key);
    if (it == given.end()) {
      missing.push_back(key);
      continue;
    }
    used.insert(key);
    if (it->second.sizes() != item.value().sizes()) {
      mismatched.push_back(fmt::format("{} (file {}, model {})", key, c10::str(it->second.sizes()),
                                       c10::str(item.value().sizes())));
      continue;
    }
    item.value().copy_(it->second);
  }
  for (const auto& [key, _] : given) {
    if (!used.count(key) && !IsIgnorableKey(key)) unexpected.push_back(key);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string what =
        fmt::format("--weights: '{}' does not match model '{}':", path, config_.name);
    if (!missing.empty()) what += fmt::format(" missing keys: {};", JoinLimited(missing, 8));
    if (!unexpected.empty()) {
      what += fmt::format(" unexpected keys: {};", JoinLimited(unexpected, 8));
    }
    if (!mismatched.empty()) {
      what += fmt::format(" wrong shapes: {};", JoinLimited(mismatched, 4));
    }
    what += " save the state dict of a model with this configuration";
    throw InputError(what);
  }
  FuseForInference();
}

void EncoderModelImpl::SaveStateDict(const std::string& path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& item : named_parameters()) {
    dict.insert(item.key(), item.value().detach().cpu().contiguous());
  }
  const std::vector<char> bytes = torch::pickle_save(torch::IValue(dict));
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw RuntimeError(fmt::format("cannot write the state dict to '{}'", path));
}

}  // namespace joulebench::workloads::torch_impl
