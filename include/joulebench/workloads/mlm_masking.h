// BERT's masked-language-model corruption (Devlin et al. 2019, section 3.1, "Task #1"):
// 15 % of the real word tokens of each sequence are chosen for prediction; of those, 80 %
// become [MASK], 10 % a random word and 10 % stay unchanged.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "joulebench/workloads/synthetic_documents.h"

namespace joulebench::workloads {

struct MlmOptions {
  double mask_fraction = 0.15;   // of each row's word tokens ([CLS]/[SEP]/padding excluded)
  double replace_mask = 0.8;     // of the chosen tokens: become [MASK]
  double replace_random = 0.1;   // ... become a random word; the rest keep their token
  std::int64_t vocab_size = 30522;
  std::uint64_t seed = 7;
};

// What the loss needs: for each chosen position (flat index row * seq_len + col, in
// increasing order) the original token.
struct MlmTargets {
  std::vector<std::int64_t> positions;
  std::vector<std::int64_t> labels;
};

class MlmMasker {
 public:
  explicit MlmMasker(MlmOptions options);
  // Corrupts batch.input_ids in place and returns the targets. Each row with n word tokens
  // gets max(1, round(n * mask_fraction)) targets (as BERT's create_pretraining_data.py).
  MlmTargets Apply(DocumentBatch& batch);

 private:
  MlmOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace joulebench::workloads
