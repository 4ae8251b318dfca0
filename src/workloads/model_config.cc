#include "joulebench/workloads/model_config.h"

#include <fmt/format.h>

#include "joulebench/error.h"

namespace joulebench::workloads {
namespace {

ModelConfig Make(std::string name, ModelFamily family, std::int64_t hidden, std::int64_t layers,
                 std::int64_t heads, std::int64_t intermediate) {
  ModelConfig c;
  c.name = std::move(name);
  c.family = family;
  c.hidden_size = hidden;
  c.num_layers = layers;
  c.num_heads = heads;
  c.intermediate_size = intermediate;
  return c;
}

std::vector<ModelConfig> BuildKnownModels() {
  std::vector<ModelConfig> models;
  // Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers", 2019, section 3.
  models.push_back(Make("bert-base", ModelFamily::kBert, 768, 12, 12, 3072));
  models.push_back(Make("bert-large", ModelFamily::kBert, 1024, 24, 16, 4096));
  // Xu et al., "LayoutLM: Pre-training of Text and Layout for Document Image Understanding",
  // 2020, section 3: the BERT-base and BERT-large shapes with 2-D position embeddings.
  models.push_back(Make("layoutlm-base", ModelFamily::kLayoutLM, 768, 12, 12, 3072));
  models.push_back(Make("layoutlm-large", ModelFamily::kLayoutLM, 1024, 24, 16, 4096));
  // Tiny variants for tests: same code paths, a small vocabulary so that random weights
  // train quickly.
  ModelConfig bert_tiny = Make("bert-tiny", ModelFamily::kBert, 64, 2, 4, 128);
  bert_tiny.vocab_size = 512;
  models.push_back(bert_tiny);
  ModelConfig layoutlm_tiny = Make("layoutlm-tiny", ModelFamily::kLayoutLM, 64, 2, 4, 128);
  layoutlm_tiny.vocab_size = 512;
  models.push_back(layoutlm_tiny);
  return models;
}

}  // namespace

std::string_view ModelFamilyName(ModelFamily family) {
  return family == ModelFamily::kBert ? "bert" : "layoutlm";
}

const std::vector<ModelConfig>& KnownModels() {
  static const std::vector<ModelConfig> models = BuildKnownModels();
  return models;
}

std::string KnownModelNames() {
  std::string names;
  for (const auto& m : KnownModels()) {
    if (!names.empty()) names += ", ";
    names += m.name;
  }
  return names;
}

ModelConfig FindModel(std::string_view name) {
  for (const auto& m : KnownModels()) {
    if (m.name == name) return m;
  }
  throw InputError(fmt::format(
      "--model: unknown model '{}'; known models: {} (or the path of a TorchScript .pt file)",
      name, KnownModelNames()));
}

double EncoderForwardFlops(const ModelConfig& config, std::int64_t seq_len) {
  const double s = static_cast<double>(seq_len);
  const double h = static_cast<double>(config.hidden_size);
  const double i = static_cast<double>(config.intermediate_size);
  // Per layer: QKV 3*S*H*H, output projection S*H*H, feed-forward 2*S*H*I, scores and
  // context 2*S*S*H multiply-adds.
  const double per_layer = 2.0 * (4.0 * s * h * h + 2.0 * s * h * i + 2.0 * s * s * h);
  double flops = per_layer * static_cast<double>(config.num_layers);
  if (config.family == ModelFamily::kLayoutLM) {
    flops += 2.0 * s * h * static_cast<double>(config.num_labels);
  }
  return flops;
}

double MlmTrainingFlops(const ModelConfig& config, std::int64_t seq_len, double masked_tokens) {
  const double h = static_cast<double>(config.hidden_size);
  ModelConfig encoder_only = config;
  encoder_only.family = ModelFamily::kBert;
  // MLM head at the masked positions: transform (H x H) and the tied decoder (H x V).
  const double head =
      2.0 * masked_tokens * (h * h + h * static_cast<double>(config.vocab_size));
  return 3.0 * (EncoderForwardFlops(encoder_only, seq_len) + head);
}

}  // namespace joulebench::workloads
