// How closely a model variant's outputs (int8, bf16) follow the fp32 model's on the same
// weights and inputs: the figures `tune` stores next to a variant's energy.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace joulebench::workloads {

struct OutputAgreement {
  std::string reference;  // e.g. "fp32"
  std::string candidate;  // e.g. "int8"
  std::int64_t rows = 0;  // output rows compared (tokens: batch x sequence, real tokens only)
  std::int64_t values = 0;
  double max_abs_diff = 0;       // max |candidate - reference| over the compared values
  double reference_max_abs = 0;  // max |reference|, to read max_abs_diff against
  double mean_abs_diff = 0;
  // cos(angle) between the compared values as two flat vectors: 1 = same direction.
  double cosine_similarity = 0;
  // Fraction of rows whose largest output (the predicted label, for logits) is the same.
  double argmax_agreement = 0;
};

// Compares two outputs of the same shape, seen as rows of `row_width` values (the last
// dimension). `row_mask` (optional, one entry per row, non-zero = compare) leaves out padding
// positions. Throws InputError when the sizes disagree or nothing is compared.
OutputAgreement CompareOutputs(std::span<const float> reference, std::span<const float> candidate,
                               std::int64_t row_width, std::span<const std::int64_t> row_mask = {});

}  // namespace joulebench::workloads
