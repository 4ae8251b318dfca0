#include "joulebench/workloads/output_agreement.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "joulebench/error.h"

namespace joulebench::workloads {
namespace {

TEST(CompareOutputs, FiguresOfAKnownDifference) {
  // Two rows of three: row 0 identical, row 1 off by 0.5 in its last value.
  const std::vector<float> reference = {1, 2, 3, 4, 0, 1};
  const std::vector<float> candidate = {1, 2, 3, 4, 0, 1.5};
  const OutputAgreement a = CompareOutputs(reference, candidate, 3);
  EXPECT_EQ(a.rows, 2);
  EXPECT_EQ(a.values, 6);
  EXPECT_DOUBLE_EQ(a.max_abs_diff, 0.5);
  EXPECT_DOUBLE_EQ(a.reference_max_abs, 4);
  EXPECT_DOUBLE_EQ(a.mean_abs_diff, 0.5 / 6);
  // dot = 1+4+9+16+0+1.5 = 31.5; |r|^2 = 31; |c|^2 = 32.25.
  EXPECT_NEAR(a.cosine_similarity, 31.5 / std::sqrt(31.0 * 32.25), 1e-12);
  EXPECT_DOUBLE_EQ(a.argmax_agreement, 1.0);  // row 1's largest stays its first value
}

TEST(CompareOutputs, MaskedRowsAreLeftOutAndArgmaxChangesCount) {
  const std::vector<float> reference = {0, 1, 5, 5, 1, 0};
  const std::vector<float> candidate = {1, 0, -9, 9, 1, 0};
  const std::vector<std::int64_t> mask = {1, 0, 1};
  const OutputAgreement a = CompareOutputs(reference, candidate, 2, mask);
  EXPECT_EQ(a.rows, 2);
  EXPECT_DOUBLE_EQ(a.max_abs_diff, 1);  // row 1's differences of 14 and 4 are masked
  EXPECT_DOUBLE_EQ(a.argmax_agreement, 0.5);
}

TEST(CompareOutputs, IdenticalOutputsHaveCosineOne) {
  const std::vector<float> v = {0.25F, -3, 7, 1e-3F};
  const OutputAgreement a = CompareOutputs(v, v, 4);
  EXPECT_DOUBLE_EQ(a.max_abs_diff, 0);
  EXPECT_NEAR(a.cosine_similarity, 1.0, 1e-15);
}

TEST(CompareOutputs, MismatchedShapesAreInputErrors) {
  const std::vector<float> a = {1, 2, 3, 4};
  const std::vector<float> b = {1, 2, 3};
  EXPECT_THROW(CompareOutputs(a, b, 2), InputError);
  EXPECT_THROW(CompareOutputs(a, a, 3), InputError);
  EXPECT_THROW(CompareOutputs(a, a, 2, std::vector<std::int64_t>{1}), InputError);
  EXPECT_THROW(CompareOutputs(a, a, 2, std::vector<std::int64_t>{0, 0}), InputError);
}

}  // namespace
}  // namespace joulebench::workloads
