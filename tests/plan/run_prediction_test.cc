#include "joulebench/plan/run_prediction.h"

#include <gtest/gtest.h>

#include <random>

#include "joulebench/error.h"

namespace joulebench::plan {
namespace {

TEST(PredictRun, SteadyStepsGiveAnExactPredictionWithNoSpread) {
  // 10 steps of 0.5 s, 32 sequences, 100 J each; the whole run is 320 sequences x 10.
  std::vector<ProgressInterval> steps(10, ProgressInterval{0.5, 32, 100});
  const auto p = PredictRun(steps, 3200);
  EXPECT_DOUBLE_EQ(p.duration_s.value, 50.0);
  EXPECT_DOUBLE_EQ(p.joules.value, 10000.0);
  EXPECT_DOUBLE_EQ(p.duration_s.low, 50.0);
  EXPECT_DOUBLE_EQ(p.duration_s.high, 50.0);
  EXPECT_DOUBLE_EQ(p.watts.value, 200.0);
  EXPECT_DOUBLE_EQ(p.work_per_s.value, 64.0);
}

TEST(PredictRun, ObservedPartIsKeptAndOnlyTheRestExtrapolated) {
  // A slow first step (warm-up) counts as measured; the rest is extrapolated at the mean rate.
  std::vector<ProgressInterval> steps{{2.0, 10, 300}, {1.0, 10, 100}, {1.0, 10, 100}};
  const auto p = PredictRun(steps, 60);
  // Observed 30 sequences in 4 s; 30 more at 4/30 s per sequence.
  EXPECT_NEAR(p.duration_s.value, 4 + 30 * 4.0 / 30, 1e-12);
  EXPECT_NEAR(p.joules.value, 500 + 30 * 500.0 / 30, 1e-9);
  EXPECT_LT(p.duration_s.low, p.duration_s.value);
  EXPECT_GT(p.duration_s.high, p.duration_s.value);
}

TEST(PredictRun, IntervalCoversTheTruthForNoisySteps) {
  std::mt19937 rng(7);
  std::normal_distribution<double> step_s(0.5, 0.05);
  std::normal_distribution<double> watts(300, 20);
  std::vector<ProgressInterval> all;
  for (int i = 0; i < 2000; ++i) {
    const double d = step_s(rng);
    all.push_back({d, 32, d * watts(rng)});
  }
  double total_s = 0;
  double total_j = 0;
  for (const auto& s : all) {
    total_s += s.duration_s;
    total_j += s.joules;
  }
  const auto p = PredictRun(std::span(all).first(200), 2000 * 32);
  const auto check = CheckPrediction(p, total_s, total_j);
  EXPECT_TRUE(check.duration_within_interval) << check.duration_error_percent;
  EXPECT_TRUE(check.joules_within_interval) << check.joules_error_percent;
  EXPECT_LT(std::abs(check.duration_error_percent), 3.0);
  EXPECT_GT(p.duration_s.high - p.duration_s.low, 0.0);
  EXPECT_EQ(p.batches, 10u);
}

TEST(PredictRun, ScalesToACluster) {
  std::vector<ProgressInterval> steps(4, ProgressInterval{1.0, 10, 50});
  const auto cluster = ScaleToCluster(PredictRun(steps, 400), 16);
  EXPECT_DOUBLE_EQ(cluster.duration_s.value, 40.0);
  EXPECT_DOUBLE_EQ(cluster.joules.value, 16 * 2000.0);
  EXPECT_DOUBLE_EQ(cluster.watts.value, 16 * 50.0);
}

TEST(PredictRun, WindowsBecomeIntervals) {
  std::vector<run::WindowSample> windows{{0, 1, 30, 200, 0, 0}, {1, 3, 40, 250, 0, 0},
                                         {3, 3, 0, 0, 0, 0}};
  const auto intervals = IntervalsFromWindows(windows);
  ASSERT_EQ(intervals.size(), 2u);
  EXPECT_DOUBLE_EQ(intervals[1].duration_s, 2);
  EXPECT_DOUBLE_EQ(intervals[1].work, 80);
  EXPECT_DOUBLE_EQ(intervals[1].joules, 500);
}

TEST(PredictRun, RejectsTooLittleToGoOn) {
  std::vector<ProgressInterval> one{{1, 1, 1}};
  EXPECT_THROW(PredictRun(one, 10), InputError);
  std::vector<ProgressInterval> idle{{1, 0, 1}, {1, 0, 1}};
  EXPECT_THROW(PredictRun(idle, 10), InputError);
  std::vector<ProgressInterval> two{{1, 5, 1}, {1, 5, 1}};
  EXPECT_THROW(PredictRun(two, 5), InputError);  // the whole run is smaller than what was seen
}

TEST(StudentT, KnownQuantiles) {
  EXPECT_DOUBLE_EQ(StudentT975(1), 12.706);
  EXPECT_DOUBLE_EQ(StudentT975(9), 2.262);
  EXPECT_DOUBLE_EQ(StudentT975(1000), 1.960);
}

}  // namespace
}  // namespace joulebench::plan
