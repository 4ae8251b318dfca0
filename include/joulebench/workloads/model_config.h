// The built-in transformer encoders and their named configurations: BERT (base, large) and
// LayoutLM (BERT plus 2-D layout embeddings), plus tiny variants for tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench::workloads {

enum class ModelFamily {
  kBert,      // BERT encoder; trained with a masked-language-model head tied to the embeddings
  kLayoutLM,  // BERT + x/y/height/width embeddings of each token's box, token-classification head
};
std::string_view ModelFamilyName(ModelFamily family);  // "bert", "layoutlm"

// Shapes of one encoder. Defaults are BERT-base (Devlin et al. 2019, table "BERT_BASE").
struct ModelConfig {
  std::string name;                    // "bert-base", "layoutlm-large", "bert-tiny", ...
  ModelFamily family = ModelFamily::kBert;
  std::int64_t vocab_size = 30522;     // WordPiece vocabulary of bert-base-uncased
  std::int64_t hidden_size = 768;
  std::int64_t num_layers = 12;
  std::int64_t num_heads = 12;
  std::int64_t intermediate_size = 3072;
  std::int64_t max_positions = 512;    // learned absolute positions: the longest sequence
  std::int64_t type_vocab_size = 2;    // segment (token type) embeddings
  std::int64_t max_2d_positions = 1024;  // LayoutLM: rows of the x, y, h and w tables
  std::int64_t num_labels = 13;        // LayoutLM token classes (FUNSD BIO tags in layoutlm's demo)
  double layer_norm_eps = 1e-12;       // as in the original BERT code

  std::int64_t head_dim() const { return hidden_size / num_heads; }
};

// Every built-in configuration, in the order they are listed to users.
const std::vector<ModelConfig>& KnownModels();
// "bert-base, bert-large, layoutlm-base, ..." for error messages.
std::string KnownModelNames();
// The named configuration; throws InputError naming the known ones when there is none.
ModelConfig FindModel(std::string_view name);

// Floating-point operations (multiply-add = 2) of one forward pass over one sequence of
// seq_len real tokens: the encoder's matrix products (QKV, attention scores and context,
// output projection, feed-forward) plus the task head (token classifier for LayoutLM; none
// for BERT). Embedding look-ups, softmax and LayerNorm are not counted (they are O(S*H)).
double EncoderForwardFlops(const ModelConfig& config, std::int64_t seq_len);
// Forward + backward (about 3x forward: the backward pass computes gradients of both the
// activations and the weights) of BERT MLM pretraining over one sequence, with the
// vocabulary decoder evaluated only at the `masked_tokens` predicted positions.
double MlmTrainingFlops(const ModelConfig& config, std::int64_t seq_len, double masked_tokens);

}  // namespace joulebench::workloads
