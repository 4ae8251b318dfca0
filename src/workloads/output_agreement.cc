#include "joulebench/workloads/output_agreement.h"

#include <fmt/format.h>

#include <cmath>

#include "joulebench/error.h"

namespace joulebench::workloads {

OutputAgreement CompareOutputs(std::span<const float> reference, std::span<const float> candidate,
                               std::int64_t row_width, std::span<const std::int64_t> row_mask) {
  if (reference.size() != candidate.size()) {
    throw InputError(fmt::format("outputs to compare differ in size: {} and {} values",
                                 reference.size(), candidate.size()));
  }
  if (row_width < 1 || reference.size() % static_cast<std::size_t>(row_width) != 0) {
    throw InputError(
        fmt::format("outputs of {} values are not rows of {}", reference.size(), row_width));
  }
  const auto width = static_cast<std::size_t>(row_width);
  const std::size_t rows = reference.size() / width;
  if (!row_mask.empty() && row_mask.size() != rows) {
    throw InputError(fmt::format("row mask of {} entries for {} rows", row_mask.size(), rows));
  }
  OutputAgreement a;
  double dot = 0, ref_sq = 0, cand_sq = 0, abs_sum = 0;
  std::int64_t same_argmax = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    if (!row_mask.empty() && row_mask[r] == 0) continue;
    std::size_t ref_best = 0, cand_best = 0;
    for (std::size_t i = 0; i < width; ++i) {
      const double x = reference[r * width + i];
      const double y = candidate[r * width + i];
      const double d = std::abs(y - x);
      a.max_abs_diff = std::max(a.max_abs_diff, d);
      a.reference_max_abs = std::max(a.reference_max_abs, std::abs(x));
      abs_sum += d;
      dot += x * y;
      ref_sq += x * x;
      cand_sq += y * y;
      if (x > reference[r * width + ref_best]) ref_best = i;
      if (y > candidate[r * width + cand_best]) cand_best = i;
    }
    same_argmax += ref_best == cand_best ? 1 : 0;
    ++a.rows;
  }
  if (a.rows == 0) throw InputError("outputs to compare: every row is masked out");
  a.values = a.rows * row_width;
  a.mean_abs_diff = abs_sum / static_cast<double>(a.values);
  a.cosine_similarity = ref_sq > 0 && cand_sq > 0 ? dot / std::sqrt(ref_sq * cand_sq)
                                                  : (ref_sq == cand_sq ? 1.0 : 0.0);
  a.argmax_agreement = static_cast<double>(same_argmax) / static_cast<double>(a.rows);
  return a;
}

}  // namespace joulebench::workloads
