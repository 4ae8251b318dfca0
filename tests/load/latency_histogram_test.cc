#include "joulebench/load/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

namespace joulebench::load {
namespace {

// The same rank rule as PercentileNs: the ceil(p/100 * n)-th smallest value.
std::int64_t ExactPercentile(std::vector<std::int64_t> values, double percent) {
  std::sort(values.begin(), values.end());
  auto rank =
      static_cast<std::size_t>(std::ceil(percent / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

TEST(LatencyHistogramTest, QuantilesWithinHalfAPercentOfExactOverNineDecades) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> log10_ns(0.0, 9.5);  // 1 ns .. ~3 s
  std::vector<std::int64_t> values;
  auto h = std::make_unique<LatencyHistogram>();
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::int64_t>(std::pow(10.0, log10_ns(rng)));
    values.push_back(v);
    h->Record(v);
  }
  double worst = 0;
  for (double p : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99}) {
    const auto exact = static_cast<double>(ExactPercentile(values, p));
    const auto got = static_cast<double>(h->PercentileNs(p));
    worst = std::max(worst, std::fabs(got - exact) / exact);
  }
  EXPECT_LE(worst, 0.005);
}

TEST(LatencyHistogramTest, EveryBucketIsAtMostOne128thOfItsLowerBoundWide) {
  for (std::size_t i = LatencyHistogram::kSubBucketCount; i < LatencyHistogram::kBucketCount - 1;
       ++i) {
    const double lower = static_cast<double>(LatencyHistogram::BucketLowerNs(i));
    const double width = static_cast<double>(LatencyHistogram::BucketUpperNs(i)) - lower;
    ASSERT_LE(width / lower, 1.0 / 128.0 + 1e-12) << "bucket " << i;
    ASSERT_EQ(LatencyHistogram::BucketIndex(LatencyHistogram::BucketLowerNs(i)), i);
    ASSERT_EQ(LatencyHistogram::BucketIndex(LatencyHistogram::BucketUpperNs(i) - 1), i);
  }
}

TEST(LatencyHistogramTest, SmallValuesAreExactAndMinMaxMeanAreExact) {
  auto h = std::make_unique<LatencyHistogram>();
  for (std::int64_t v : {3, 7, 7, 100, 1'000'003}) h->Record(v);
  EXPECT_EQ(h->count(), 5u);
  EXPECT_EQ(h->min_ns(), 3);
  EXPECT_EQ(h->max_ns(), 1'000'003);
  EXPECT_DOUBLE_EQ(h->mean_ns(), (3 + 7 + 7 + 100 + 1'000'003) / 5.0);
  EXPECT_EQ(h->PercentileNs(20), 3);
  EXPECT_EQ(h->PercentileNs(60), 7);
  EXPECT_EQ(h->PercentileNs(80), 100);
  EXPECT_EQ(h->PercentileNs(100), 1'000'003);
}

TEST(LatencyHistogramTest, MergeOfPartsEqualsHistogramOfTheWhole) {
  auto a = std::make_unique<LatencyHistogram>();
  auto b = std::make_unique<LatencyHistogram>();
  auto whole = std::make_unique<LatencyHistogram>();
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> exp(1.0 / 50000.0);
  for (int i = 0; i < 10000; ++i) {
    const auto v = static_cast<std::int64_t>(exp(rng));
    (i % 3 ? a : b)->Record(v);
    whole->Record(v);
  }
  auto merged = std::make_unique<LatencyHistogram>(*a);
  merged->Merge(*b);
  EXPECT_EQ(merged->count(), whole->count());
  EXPECT_EQ(merged->min_ns(), whole->min_ns());
  EXPECT_EQ(merged->max_ns(), whole->max_ns());
  for (double p : {50.0, 90.0, 99.0, 99.9})
    EXPECT_EQ(merged->PercentileNs(p), whole->PercentileNs(p));
}

TEST(LatencyHistogramTest, SubtractingAnEarlierSnapshotLeavesTheNewValues) {
  auto h = std::make_unique<LatencyHistogram>();
  for (int i = 0; i < 1000; ++i) h->Record(1000);
  auto earlier = std::make_unique<LatencyHistogram>(*h);
  for (int i = 0; i < 10; ++i) h->Record(5'000'000);
  auto window = std::make_unique<LatencyHistogram>(*h);
  window->Subtract(*earlier);
  EXPECT_EQ(window->count(), 10u);
  EXPECT_NEAR(static_cast<double>(window->PercentileNs(50)), 5e6, 5e6 * 0.005);
  EXPECT_DOUBLE_EQ(window->mean_ns(), 5e6);
}

TEST(LatencyHistogramTest, NegativeLatencyCountsAsZeroAndHugeValuesFit) {
  auto h = std::make_unique<LatencyHistogram>();
  h->Record(-5);
  h->Record(std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(h->min_ns(), 0);
  EXPECT_EQ(h->max_ns(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(h->NonEmptyBuckets().size(), 2u);
}

}  // namespace
}  // namespace joulebench::load
