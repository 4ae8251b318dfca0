#include "joulebench/workloads/mlm_masking.h"

#include <algorithm>
#include <cmath>

#include "joulebench/error.h"

namespace joulebench::workloads {

MlmMasker::MlmMasker(MlmOptions options) : options_(options), rng_(options.seed) {
  if (!(options_.mask_fraction > 0 && options_.mask_fraction <= 1) ||
      options_.replace_mask < 0 || options_.replace_random < 0 ||
      options_.replace_mask + options_.replace_random > 1) {
    throw InputError("masking fractions must be in [0, 1] and mask + random <= 1");
  }
}

MlmTargets MlmMasker::Apply(DocumentBatch& batch) {
  MlmTargets targets;
  const std::int64_t first_word = FirstWordTokenId(options_.vocab_size);
  std::uniform_int_distribution<std::int64_t> random_word(first_word, options_.vocab_size - 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::int64_t> candidates;
  for (std::int64_t row = 0; row < batch.batch_size; ++row) {
    candidates.clear();
    for (std::int64_t col = 0; col < batch.seq_len; ++col) {
      const std::int64_t index = row * batch.seq_len + col;
      const std::int64_t id = batch.input_ids[index];
      if (batch.attention_mask[index] != 0 && id != kClsTokenId && id != kSepTokenId) {
        candidates.push_back(index);
      }
    }
    if (candidates.empty()) continue;
    const auto count = std::clamp<std::int64_t>(
        std::llround(static_cast<double>(candidates.size()) * options_.mask_fraction), 1,
        static_cast<std::int64_t>(candidates.size()));
    std::shuffle(candidates.begin(), candidates.end(), rng_);
    candidates.resize(static_cast<std::size_t>(count));
    std::sort(candidates.begin(), candidates.end());
    for (std::int64_t index : candidates) {
      targets.positions.push_back(index);
      targets.labels.push_back(batch.input_ids[index]);
      const double u = unit(rng_);
      if (u < options_.replace_mask) {
        batch.input_ids[index] = kMaskTokenId;
      } else if (u < options_.replace_mask + options_.replace_random) {
        batch.input_ids[index] = random_word(rng_);
      }
    }
  }
  return targets;
}

}  // namespace joulebench::workloads
