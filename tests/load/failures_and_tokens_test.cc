// Failed queries counted by kind against a threshold, and token latencies of streamed
// responses, as the load generator records them for any SUT.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "joulebench/error.h"
#include "joulebench/load/builtin_suts.h"
#include "joulebench/load/loadgen.h"
#include "load/run_completer.h"

namespace joulebench::load {
namespace {

TestSettings Short() {
  TestSettings s;
  s.scenario = Scenario::kServer;
  s.server_target_qps = 2000;
  s.min_duration_ms = 200;
  s.min_query_count = 200;
  s.window_ms = 50;
  s.wait_for_steady_state = false;
  return s;
}

// Fails every query whose id is a multiple of `every`, alternating timeouts and 5xx.
class SometimesFailingSut final : public SystemUnderTest {
 public:
  explicit SometimesFailingSut(std::uint64_t every) : every_(every) {}
  std::string Name() const override { return "sometimes-failing"; }
  void IssueQuery(std::span<const Query> queries, QueryCompleter& completer) override {
    for (const Query& q : queries) {
      QueryResponse r{q.id, true};
      if (q.id % every_ == 0) {
        r.ok = false;
        r.failure = (q.id / every_) % 2 == 0 ? FailureKind::kTimeout : FailureKind::kServerError;
      }
      completer.Complete(r);
    }
  }

 private:
  std::uint64_t every_;
};

TEST(FailedQueriesTest, AreCountedByKind) {
  SometimesFailingSut sut(20);
  SyntheticSampleLibrary qsl;
  const ScenarioResult r = RunScenario(sut, qsl, Short());
  const auto timeouts = r.failed_by_kind[static_cast<std::size_t>(FailureKind::kTimeout)];
  const auto server = r.failed_by_kind[static_cast<std::size_t>(FailureKind::kServerError)];
  EXPECT_EQ(timeouts + server, r.failed_query_count);
  EXPECT_NEAR(static_cast<double>(r.failed_query_count), r.measured_query_count / 20.0, 2);
  EXPECT_NEAR(static_cast<double>(timeouts), static_cast<double>(server), 2);
  EXPECT_EQ(FormatFailures(r.failed_by_kind),
            fmt::format("http-5xx {}, timeout {}", server, timeouts));
}

TEST(FailedQueriesTest, AboveTheThresholdMakeTheRunInvalidWithTheKinds) {
  SometimesFailingSut sut(20);  // 5 %
  SyntheticSampleLibrary qsl;
  TestSettings s = Short();
  s.max_failed_query_fraction = 0.01;
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_FALSE(r.valid);
  // The failures' check, found by its text (a loaded machine may fail the issue-rate check too).
  const auto check =
      std::find_if(r.failed_checks.begin(), r.failed_checks.end(),
                   [](const std::string& c) { return c.find("failed in the SUT") != c.npos; });
  ASSERT_NE(check, r.failed_checks.end()) << fmt::format("{}", fmt::join(r.failed_checks, "; "));
  EXPECT_NE(check->find("> 1 % allowed"), std::string::npos) << *check;
  EXPECT_NE(check->find("timeout"), std::string::npos) << *check;
}

TEST(FailedQueriesTest, WithinTheThresholdTheRunIsValidAndWarns) {
  SometimesFailingSut sut(20);
  SyntheticSampleLibrary qsl;
  TestSettings s = Short();
  s.max_failed_query_fraction = 0.10;
  const ScenarioResult r = RunScenario(sut, qsl, s);
  EXPECT_TRUE(r.valid) << (r.failed_checks.empty() ? "" : r.failed_checks[0]);
  EXPECT_TRUE(std::any_of(r.warnings.begin(), r.warnings.end(), [](const std::string& w) {
    return w.find("within the 10 % allowed") != std::string::npos;
  }));
  // Throughput counts the successful queries only.
  EXPECT_NEAR(r.throughput_per_s * r.measured_duration_s,
              static_cast<double>(r.measured_query_count - r.failed_query_count), 1.0);
}

TEST(FailedQueriesTest, ThresholdOutsideZeroToOneIsRefused) {
  TestSettings s = Short();
  s.max_failed_query_fraction = 1.0;
  EXPECT_THROW(Validate(s), InputError);
  s.max_failed_query_fraction = -0.1;
  EXPECT_THROW(Validate(s), InputError);
}

// Completes each query with four tokens: the first `first_ns` after the call, then every
// `gap_ns` (times made up on the monotonic clock, as a streaming client records them).
class TokenSut final : public SystemUnderTest {
 public:
  TokenSut(std::int64_t first_ns, std::int64_t gap_ns) : first_ns_(first_ns), gap_ns_(gap_ns) {}
  std::string Name() const override { return "tokens"; }
  void IssueQuery(std::span<const Query> queries, QueryCompleter& completer) override {
    const std::int64_t now = SteadyNowNs();
    for (const Query& q : queries) {
      const std::int64_t t0 = now + first_ns_;
      const std::int64_t times[4] = {t0, t0 + gap_ns_, t0 + 2 * gap_ns_, t0 + 3 * gap_ns_};
      QueryResponse r{q.id, true};
      r.token_times_ns = times;
      completer.Complete(r);
    }
  }

 private:
  std::int64_t first_ns_, gap_ns_;
};

TEST(TokenLatencyTest, TimeToFirstTokenAndGapsComeFromTheTokenTimes) {
  TokenSut sut(/*first_ns=*/5'000'000, /*gap_ns=*/2'000'000);
  SyntheticSampleLibrary qsl;
  TestSettings s = Short();
  s.server_target_qps = 500;
  const ScenarioResult r = RunScenario(sut, qsl, s);
  ASSERT_TRUE(r.tokens.has_value());
  EXPECT_EQ(r.tokens->queries, r.measured_query_count);
  EXPECT_EQ(r.tokens->tokens, 4 * r.measured_query_count);
  // From the scheduled time: at least the 5 ms, plus the issuer's lateness (small).
  EXPECT_GE(r.tokens->time_to_first_token.min_ns, 5'000'000);
  EXPECT_LT(r.tokens->time_to_first_token.p50_ns, 6'000'000);
  // Every gap is exactly 2 ms (within the histogram's 0.4 %).
  EXPECT_NEAR(r.tokens->inter_token_latency.min_ns, 2'000'000, 10'000);
  EXPECT_NEAR(r.tokens->inter_token_latency.max_ns, 2'000'000, 10'000);
  EXPECT_EQ(r.tokens->inter_token_latency.count, 3 * r.measured_query_count);
  EXPECT_NEAR(r.tokens->time_per_output_token.p50_ns, 2'000'000, 10'000);
  EXPECT_NEAR(r.tokens->tokens_per_s, 4 * r.throughput_per_s, 4 * r.throughput_per_s * 0.01);

  run::RunRecord record;
  FillRunRecord(r, record);
  ASSERT_NE(record.FindMetric("time_to_first_token_p99"), nullptr);
  EXPECT_NEAR(record.FindMetric("inter_token_latency_p50")->value, 0.002, 1e-5);
  ASSERT_EQ(record.histograms.size(), 3u);
  EXPECT_EQ(record.histograms[1].name, "inter_token_latency");
  std::uint64_t gaps = 0;
  for (const auto& [upper, count] : record.histograms[1].buckets) gaps += count;
  EXPECT_EQ(gaps, 3 * r.measured_query_count);
}

TEST(TokenLatencyTest, OrdinaryRepliesHaveNoTokenStatistics) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  const ScenarioResult r = RunScenario(sut, qsl, Short());
  EXPECT_FALSE(r.tokens.has_value());
  run::RunRecord record;
  FillRunRecord(r, record);
  EXPECT_EQ(record.FindMetric("time_to_first_token_p50"), nullptr);
  EXPECT_TRUE(record.histograms.empty());
  ASSERT_NE(record.FindMetric("failed_queries"), nullptr);
  EXPECT_EQ(record.FindMetric("failed_queries")->value, 0);
}

}  // namespace
}  // namespace joulebench::load
