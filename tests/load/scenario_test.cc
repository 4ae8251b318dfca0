#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "joulebench/error.h"
#include "joulebench/load/builtin_suts.h"
#include "joulebench/load/loadgen.h"

namespace joulebench::load {
namespace {

TestSettings Short(Scenario scenario) {
  TestSettings s;
  s.scenario = scenario;
  s.min_duration_ms = 200;
  s.min_query_count = 50;
  s.window_ms = 50;
  s.wait_for_steady_state = false;
  return s;
}

bool HasCheck(const ScenarioResult& r, std::string_view text) {
  return std::any_of(r.failed_checks.begin(), r.failed_checks.end(),
                     [&](const std::string& c) { return c.find(text) != std::string::npos; });
}

TEST(ServerScenarioTest, NullSutAtModestRateIsValidWithPoissonCount) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kServer);
  s.server_target_qps = 20000;
  s.min_duration_ms = 500;
  s.server_target_latency_ns = 2'000'000'000;  // the test machine may be busy; not a speed test
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_TRUE(r.valid) << (r.failed_checks.empty() ? "" : r.failed_checks[0]);
  // 500 ms at 20000/s: 10000 arrivals expected, Poisson sd 100.
  EXPECT_NEAR(static_cast<double>(r.measured_query_count), 10000, 500);
  EXPECT_NEAR(r.throughput_per_s, 20000, 1500);
  EXPECT_GE(r.measured_duration_s, 0.5);
  EXPECT_GT(r.latency.p99_ns, 0);
  EXPECT_LE(r.latency.p50_ns, r.latency.p99_ns);
  EXPECT_LE(r.latency.p99_ns, r.latency.max_ns);
  EXPECT_GE(r.windows.size(), 9u);
}

TEST(ServerScenarioTest, SameSeedGivesTheSameScheduleAndOtherSeedADifferentOne) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kServer);
  s.server_target_qps = 5000;
  const auto a = RunScenario(sut, qsl, s).measured_query_count;
  const auto b = RunScenario(sut, qsl, s).measured_query_count;
  s.schedule_seed = 99;
  const auto c = RunScenario(sut, qsl, s).measured_query_count;
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(ServerScenarioTest, LatencyCountsFromTheScheduledTime) {
  // One worker, 2 ms fixed service, offered 1000/s = 2x capacity: the queue grows and the
  // latency from the scheduled time grows far beyond the service time.
  SleepSut sut({.workers = 1, .service_ns = 2'000'000});
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kServer);
  s.server_target_qps = 1000;
  s.server_target_latency_ns = 20'000'000;
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(HasCheck(r, "latency bound not met: p99")) << r.failed_checks.size();
  EXPECT_GT(r.latency.p99_ns, 40'000'000);
  EXPECT_GE(r.latency.min_ns, 2'000'000);
}

TEST(ServerScenarioTest, TooFewQueriesIsInvalidNamingTheCheck) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kServer);
  s.server_target_qps = 100;
  s.min_query_count = 1000;
  s.max_duration_ms = 300;
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(HasCheck(r, "min query count not met"));
  EXPECT_TRUE(HasCheck(r, "maximum duration"));
}

TEST(ServerScenarioTest, SteadyStateNotReachedIsInvalidAndSaysWhy) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kServer);
  s.server_target_qps = 2000;
  s.wait_for_steady_state = true;
  s.max_warmup_ms = 400;
  // A power reading that climbs 2.5 % per 50 ms window never settles.
  PowerSignal power;
  const double t0 = SteadyNowSeconds();
  power.mean_watts = [t0](double begin_s, double) {
    return 100.0 * std::exp(0.5 * (begin_s - t0));
  };
  const ScenarioResult r = RunScenario(sut, qsl, s, power);
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(HasCheck(r, "steady state not reached")) << r.failed_checks[0];
  EXPECT_FALSE(r.steady_state_at_s.has_value());
  EXPECT_EQ(r.measured_query_count, 0u);
}

TEST(ServerScenarioTest, SteadyPowerAndThroughputStartTheMeasurement) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kServer);
  s.server_target_qps = 20000;
  s.wait_for_steady_state = true;
  s.max_warmup_ms = 3000;
  s.steady_state_band_relative = 0.2;  // 50 ms windows of a Poisson stream are noisy
  s.steady_state_drift_relative = 0.2;
  s.server_target_latency_ns = 2'000'000'000;
  PowerSignal power;
  power.mean_watts = [](double, double) { return 80.0; };
  const ScenarioResult r = RunScenario(sut, qsl, s, power);
  EXPECT_TRUE(r.valid) << (r.failed_checks.empty() ? "" : r.failed_checks[0]);
  ASSERT_TRUE(r.steady_state_at_s.has_value());
  EXPECT_GE(*r.steady_state_at_s, 0.25);  // at least k = 5 windows of 50 ms
  EXPECT_NE(r.steady_state_criterion.find("throughput and power"), std::string::npos);
  ASSERT_TRUE(r.measurement_watts.has_value());
  EXPECT_DOUBLE_EQ(*r.measurement_watts, 80.0);
  EXPECT_TRUE(r.windows.back().measured);
  EXPECT_FALSE(r.windows.front().measured);
  EXPECT_DOUBLE_EQ(r.windows.front().watts, 80.0);
}

TEST(OfflineScenarioTest, SleepSutThroughputIsWorkersOverServiceTime) {
  SleepSut sut({.workers = 4, .service_ns = 1'000'000});
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kOffline);
  s.offline_expected_qps = 4000;
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_TRUE(r.valid) << (r.failed_checks.empty() ? "" : r.failed_checks[0]);
  EXPECT_EQ(r.offline_query_count, 880u);  // 4000/s * 0.2 s * 1.1
  EXPECT_EQ(r.measured_query_count, 880u);
  // Capacity 4 / 1 ms; the sleep SUT's ideal timeline keeps it there on a busy machine.
  EXPECT_NEAR(r.throughput_per_s, 4000, 200);
}

TEST(OfflineScenarioTest, CalibratesTheQueryCountWhenTheRateIsUnknown) {
  SleepSut sut({.workers = 2, .service_ns = 1'000'000});
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kOffline);
  s.offline_expected_qps = 0;
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_TRUE(r.valid) << (r.failed_checks.empty() ? "" : r.failed_checks[0]);
  EXPECT_NEAR(static_cast<double>(r.offline_query_count), 2000 * 0.2 * 1.25, 50);
}

TEST(OfflineScenarioTest, UnderestimatedRateIsToppedUpToTheMinDurationAndSaysSo) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kOffline);
  s.offline_expected_qps = 100;  // 22 queries; the null SUT does them in microseconds
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_TRUE(r.valid) << (r.failed_checks.empty() ? "" : r.failed_checks[0]);
  EXPECT_GE(r.measured_duration_s, 0.2);
  EXPECT_GT(r.offline_query_count, 50u);
  EXPECT_EQ(r.measured_query_count, r.offline_query_count);
  ASSERT_FALSE(r.warnings.empty());
  // max(min query count 50, 100/s x 0.2 s x 1.1 = 22) were sized.
  EXPECT_NE(r.warnings.back().find("the 50 queries sized from the expected rate"),
            std::string::npos)
      << r.warnings.back();
}

TEST(OfflineScenarioTest, SweepPicksTheMostWorkers) {
  SleepSut sut({.workers = 1, .service_ns = 500'000});
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kOffline);
  s.min_duration_ms = 100;
  // Only sweep up to 4 workers to keep the test short: a SUT exposing fewer concurrencies.
  struct SmallSweep final : SystemUnderTest {
    SleepSut& inner;
    explicit SmallSweep(SleepSut& s) : inner(s) {}
    std::string Name() const override { return inner.Name(); }
    void IssueQuery(std::span<const Query> q, QueryCompleter& c) override {
      inner.IssueQuery(q, c);
    }
    SutTuningSpace TuningSpace() const override { return {{}, {1, 2, 4}}; }
    void ApplyTuning(const SutTuning& t) override { inner.ApplyTuning(t); }
  } small(sut);
  const OfflinePeakResult r = FindOfflinePeak(small, qsl, s);
  ASSERT_TRUE(r.found);
  ASSERT_EQ(r.runs.size(), 3u);
  for (const auto& run : r.runs) {
    EXPECT_TRUE(run.valid) << *run.tuning.concurrency << ": " << run.failed_checks.front();
  }
  EXPECT_EQ(r.best_tuning.concurrency, 4);
  EXPECT_NEAR(r.best_throughput_per_s, 8000, 400);
  EXPECT_EQ(sut.options().workers, 4);
}

TEST(SingleStreamScenarioTest, TheRunEndsOnlyWhenItsMeasuredTimeReachesTheMinimum) {
  // Queries of 50 us against a minimum of 5 ms: the issuer's wake-up after a completion takes
  // a good part of a query's time, so runs often had their last completion just before the
  // minimum and the wake-up just after it, and ended short.
  SleepSut sut({.workers = 1, .service_ns = 50'000});
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kSingleStream);
  s.min_duration_ms = 5;
  s.min_query_count = 1;
  s.window_ms = 5;
  for (int i = 0; i < 100; ++i) {
    const ScenarioResult r = RunScenario(sut, qsl, s);
    ASSERT_FALSE(HasCheck(r, "min duration not met")) << "run " << i << ": " << r.failed_checks[0];
    ASSERT_GE(r.measured_duration_s, 0.005) << "run " << i;
  }
}

TEST(SingleStreamScenarioTest, OneQueryAtATimeLatencyIsTheServiceTime) {
  SleepSut sut({.workers = 4, .service_ns = 1'000'000});
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kSingleStream);
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_TRUE(r.valid) << (r.failed_checks.empty() ? "" : r.failed_checks[0]);
  EXPECT_GE(r.latency.p50_ns, 1'000'000);
  // Wake-ups run late on a loaded machine, so the bound is loose; latency counted from the
  // run's start (a bug) would put p50 near 100 ms.
  EXPECT_LT(r.latency.p50_ns, 20'000'000);
  EXPECT_EQ(r.latency.target_percentile, 90.0);
  // Never more than one outstanding: throughput is at most 1 / service time.
  EXPECT_LE(r.throughput_per_s, 1000.0);
}

TEST(SingleStreamScenarioTest, LatencyBoundIsCheckedWhenGiven) {
  SleepSut sut({.workers = 1, .service_ns = 2'000'000});
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kSingleStream);
  s.single_stream_target_latency_ns = 1'000'000;
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(HasCheck(r, "latency bound not met: p90"));
}

TEST(ScenarioSettingsTest, RejectsNonsenseSettings) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kServer);
  s.server_target_qps = std::nan("");
  EXPECT_THROW(RunScenario(sut, qsl, s), InputError);
  s = Short(Scenario::kServer);
  s.server_target_latency_percentile = 100;
  EXPECT_THROW(RunScenario(sut, qsl, s), InputError);
  s = Short(Scenario::kServer);
  s.server_target_qps = -5;
  EXPECT_THROW(RunScenario(sut, qsl, s), InputError);
}

// A SUT that reports failures: the run is INVALID and says how many failed.
class FailingSut final : public SystemUnderTest {
 public:
  std::string Name() const override { return "failing"; }
  void IssueQuery(std::span<const Query> queries, QueryCompleter& completer) override {
    for (const Query& q : queries) completer.Complete(QueryResponse{q.id, q.id % 10 != 0});
  }
};

TEST(ServerScenarioTest, FailedResponsesMakeTheRunInvalid) {
  FailingSut sut;
  SyntheticSampleLibrary qsl;
  TestSettings s = Short(Scenario::kServer);
  s.server_target_qps = 5000;
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(HasCheck(r, "queries failed in the SUT"));
  EXPECT_NEAR(static_cast<double>(r.failed_query_count), r.measured_query_count / 10.0, 2);
}

}  // namespace
}  // namespace joulebench::load
