// The metrics of a run as it happens: phase, run info, throughput, the latency histogram, and
// the run's meter exported from OnBegin and frozen at OnEnd.
#include <gtest/gtest.h>

#include <cmath>

#include "energy/powercap_source.h"
#include "exporter/exposition_text.h"
#include "exporter/job_collector.h"
#include "exporter/latency_buckets.h"
#include "joulebench/exporter/metrics_server.h"
#include "support/fake_powercap.h"
#include "support/temp_dir.h"

namespace joulebench::exporter {
namespace {

using joulebench::testing::FakePowercap;
using joulebench::testing::SampleValue;
using joulebench::testing::TempDir;

TEST(RunPhase, PhaseTextsOfEveryRunKindFallIntoTheFixedSet) {
  EXPECT_EQ(ClassifyPhase("baseline"), RunPhase::kBaseline);
  EXPECT_EQ(ClassifyPhase("warm-up"), RunPhase::kWarmUp);
  EXPECT_EQ(ClassifyPhase("steady state reached, measuring"), RunPhase::kMeasuring);
  EXPECT_EQ(ClassifyPhase("measuring"), RunPhase::kMeasuring);
  EXPECT_EQ(ClassifyPhase("peak search step 3 (400/s)"), RunPhase::kWarmUp);
  EXPECT_EQ(ClassifyPhase("peak search step 3 (400/s): steady state reached, measuring"),
            RunPhase::kMeasuring);
  EXPECT_EQ(ClassifyPhase("load level 50 %"), RunPhase::kWarmUp);
  EXPECT_EQ(ClassifyPhase("load level 50 %: warm-up"), RunPhase::kWarmUp);
}

TEST(LatencyBuckets, CumulativeCountsAtTheBoundsAndExactSum) {
  load::LatencyHistogram h;
  for (int i = 0; i < 1000; ++i) h.Record(2'000'000);  // 2 ms
  for (int i = 0; i < 10; ++i) h.Record(200'000'000);  // 200 ms
  h.Record(90'000'000'000);                            // 90 s: above every bound
  const std::array<double, 4> bounds = {0.001, 0.0025, 0.25, 60};
  const auto p = ToPrometheusHistogram(h, bounds);
  ASSERT_EQ(p.bucket.size(), 5U);
  EXPECT_EQ(p.bucket[0].cumulative_count, 0U);
  EXPECT_EQ(p.bucket[1].cumulative_count, 1000U);
  EXPECT_EQ(p.bucket[2].cumulative_count, 1010U);
  EXPECT_EQ(p.bucket[3].cumulative_count, 1010U);
  EXPECT_TRUE(std::isinf(p.bucket[4].upper_bound));
  EXPECT_EQ(p.bucket[4].cumulative_count, 1011U);
  EXPECT_EQ(p.sample_count, 1011U);
  EXPECT_NEAR(p.sample_sum, 1000 * 0.002 + 10 * 0.2 + 90, 1e-9);
}

TEST(LatencyBuckets, ALatencyJustAboveABoundIsNeverCountedUnderIt) {
  load::LatencyHistogram h;
  h.Record(1'000'100);  // 1.0001 ms: shares a log-linear bucket with 1 ms
  h.Record(999'000);    // 0.999 ms
  const std::array<double, 1> bounds = {0.001};
  const auto p = ToPrometheusHistogram(h, bounds);
  EXPECT_LE(p.bucket[0].cumulative_count, 1U);
}

class JobMetricsTest : public ::testing::Test {
 protected:
  JobMetricsTest() : fake_(dir_.path()) {
    fake_.AddZone("intel-rapl:0", "package-0", 262143328850);
    energy::SourceOptions o;
    o.sysfs_root = dir_.path();
    std::vector<energy::ProbeResult> probes;
    probes.push_back(energy::ProbePowercap(o));
    meter_.emplace(sampling::Meter::FromProbe(std::move(probes), {}));
    meter_->Start();
    record_.kind = "loadgen";
    record_.name = "sleep:workers=2";
    record_.start_unix_s = 1700000000;
  }

  TempDir dir_;
  FakePowercap fake_;
  std::optional<sampling::Meter> meter_;
  run::RunRecord record_;
  MetricsServer server_{ParseListenAddress("127.0.0.1:0", "test")};
};

TEST_F(JobMetricsTest, NothingAboutARunBeforeItBegins) {
  server_.job_observer();
  const std::string text = server_.Scrape();
  EXPECT_FALSE(SampleValue(text, "joulebench_run_info"));
  EXPECT_FALSE(SampleValue(text, "joulebench_energy_joules_total"));
}

TEST_F(JobMetricsTest, RunInfoCarriesKindNameAndTheStoresRunId) {
  std::string id;
  run::RunObserver& job = server_.job_observer([&] { return id; });
  job.OnBegin(record_, *meter_);
  id = "12";  // the store assigns it after the run began
  const std::string text = server_.Scrape();
  EXPECT_EQ(SampleValue(text, "joulebench_run_info",
                        {{"kind", "loadgen"}, {"name", "sleep:workers=2"}, {"run_id", "12"}}),
            1)
      << text;
  EXPECT_EQ(SampleValue(text, "joulebench_run_start_timestamp_seconds"), 1700000000);
  EXPECT_TRUE(SampleValue(text, "joulebench_energy_joules_total", {{"domain", "rapl/package-0"}}));
}

TEST_F(JobMetricsTest, ExactlyOnePhaseIsSetAsTheRunMovesOn) {
  run::RunObserver& job = server_.job_observer();
  auto phase_of = [&] {
    const std::string text = server_.Scrape();
    std::string on;
    for (const char* p : {"starting", "baseline", "warm-up", "measuring", "done"}) {
      const auto v = SampleValue(text, "joulebench_run_phase", {{"phase", p}});
      EXPECT_TRUE(v) << p;
      if (v == 1) on += on.empty() ? p : std::string(",") + p;
    }
    return on;
  };
  job.OnBegin(record_, *meter_);
  EXPECT_EQ(phase_of(), "starting");
  job.OnPhase("baseline", 10.0);
  EXPECT_EQ(phase_of(), "baseline");
  job.OnPhase("server 1000/s", std::nullopt);
  EXPECT_EQ(phase_of(), "warm-up");
  job.OnPhase("server 1000/s: steady state reached, measuring", std::nullopt);
  EXPECT_EQ(phase_of(), "measuring");
  record_.end_unix_s = 1700000100;
  job.OnEnd(record_);
  EXPECT_EQ(phase_of(), "done");
  EXPECT_EQ(SampleValue(server_.Scrape(), "joulebench_run_end_timestamp_seconds"), 1700000100);
}

TEST_F(JobMetricsTest, ThroughputIsTheLastWindowsAndAbsentForRunsWithoutWork) {
  run::RunObserver& job = server_.job_observer();
  job.OnBegin(record_, *meter_);
  job.OnProgress(0, 30);  // measure: no unit of work
  EXPECT_FALSE(SampleValue(server_.Scrape(), "joulebench_run_throughput_per_second"));
  job.OnProgress(950, 30);
  job.OnProgress(1010, 31);
  EXPECT_EQ(SampleValue(server_.Scrape(), "joulebench_run_throughput_per_second"), 1010);
  job.OnProgress(0, 31);  // a stalled window of a run that did work: a real 0
  EXPECT_EQ(SampleValue(server_.Scrape(), "joulebench_run_throughput_per_second"), 0);
}

TEST_F(JobMetricsTest, LatencyHistogramAddsUpEveryWindow) {
  run::RunObserver& job = server_.job_observer();
  job.OnBegin(record_, *meter_);
  EXPECT_FALSE(SampleValue(server_.Scrape(), "joulebench_run_latency_seconds_count"));
  load::LatencyHistogram first;
  for (int i = 0; i < 30; ++i) first.Record(3'000'000);
  load::LatencyHistogram second;
  for (int i = 0; i < 20; ++i) second.Record(40'000'000);
  job.OnLatencies(first);
  job.OnLatencies(second);
  const std::string text = server_.Scrape();
  EXPECT_EQ(SampleValue(text, "joulebench_run_latency_seconds_count"), 50);
  EXPECT_NEAR(SampleValue(text, "joulebench_run_latency_seconds_sum").value_or(-1),
              30 * 0.003 + 20 * 0.04, 1e-9);
  EXPECT_EQ(SampleValue(text, "joulebench_run_latency_seconds_bucket", {{"le", "0.005"}}), 30)
      << text;
  EXPECT_EQ(SampleValue(text, "joulebench_run_latency_seconds_bucket", {{"le", "0.05"}}), 50);
  EXPECT_EQ(SampleValue(text, "joulebench_run_latency_seconds_bucket", {{"le", "+Inf"}}), 50);
}

TEST_F(JobMetricsTest, EnergyStaysAtItsFinalValueAfterTheRunsMeterIsGone) {
  run::RunObserver& job = server_.job_observer();
  job.OnBegin(record_, *meter_);
  fake_.AddEnergy("intel-rapl:0", 7.5);
  meter_->Stop();
  job.OnEnd(record_);
  meter_.reset();
  EXPECT_NEAR(SampleValue(server_.Scrape(), "joulebench_energy_joules_total",
                          {{"domain", "rapl/package-0"}})
                  .value_or(-1),
              7.5, 1e-6);
}

}  // namespace
}  // namespace joulebench::exporter
