// What a scenario run, a peak search and a power-at-load sweep report.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "joulebench/load/system_under_test.h"
#include "joulebench/load/test_settings.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::load {

// Latency of the measured queries (from the scheduled time for server, from the issue time
// otherwise), read from a LatencyHistogram (quantiles within 0.5 %; min, max, mean exact).
struct LatencySummary {
  std::uint64_t count = 0;
  std::int64_t min_ns = 0;
  double mean_ns = 0;
  std::int64_t p50_ns = 0;
  std::int64_t p90_ns = 0;
  std::int64_t p95_ns = 0;
  std::int64_t p99_ns = 0;
  std::int64_t p999_ns = 0;
  std::int64_t max_ns = 0;
  double target_percentile = 0;  // the scenario's percentile (server 99, single-stream 90)
  std::int64_t target_percentile_ns = 0;
};

// Token latencies of the measured queries whose responses carried token arrival times
// (QueryResponse::token_times_ns), e.g. streamed completions.
struct TokenStats {
  std::uint64_t queries = 0;  // measured queries with at least one token
  std::uint64_t tokens = 0;   // their output tokens (chunks), summed
  double tokens_per_s = 0;    // tokens / the measured duration
  // Time to first token: from the query's scheduled time (server) or issue (otherwise) to
  // its first token.
  LatencySummary time_to_first_token;
  // Every gap between two successive tokens of one response.
  LatencySummary inter_token_latency;
  // Per response with >= 2 tokens: (last token - first token) / (tokens - 1).
  LatencySummary time_per_output_token;
  // Non-empty buckets (upper bound ns, count) of the three distributions above.
  std::vector<std::pair<std::int64_t, std::uint64_t>> time_to_first_token_histogram;
  std::vector<std::pair<std::int64_t, std::uint64_t>> inter_token_latency_histogram;
  std::vector<std::pair<std::int64_t, std::uint64_t>> time_per_output_token_histogram;
};

// One fixed window of the whole run (warm-up included), by completion time.
struct WindowStats {
  double begin_s = 0;  // since the run started
  double end_s = 0;
  std::uint64_t completed = 0;  // queries completed in the window
  double throughput_per_s = 0;
  double watts = 0;                 // NaN without a power signal
  std::int64_t latency_p50_ns = 0;  // of queries completed in the window (0 if none)
  std::int64_t latency_p99_ns = 0;
  bool measured = false;  // the window lies after steady state was reached
};

struct ScenarioResult {
  Scenario scenario = Scenario::kServer;
  std::string sut_name;
  TestSettings settings;

  // VALID only if every check passed; failed_checks lists each failed check as a sentence
  // ("min duration not met: 4.2 s < 10 s").
  bool valid = false;
  std::vector<std::string> failed_checks;

  // The measured part.
  std::uint64_t measured_query_count = 0;  // completed, failed ones included
  std::uint64_t failed_query_count = 0;    // measured responses with ok = false
  // failed_query_count by FailureKind (index = static_cast<size_t>(kind)).
  std::array<std::uint64_t, kFailureKindCount> failed_by_kind{};
  // Failed responses to warm-up queries (not measured; reported as a warning).
  std::uint64_t warmup_failed_query_count = 0;
  double measured_duration_s = 0;  // from measurement start to the last measured completion
  // Successful measured completions / measured duration (failed queries do not count).
  double throughput_per_s = 0;
  double offered_qps = 0;                // server: target rate; offline: 0; single-stream: 0
  LatencySummary latency;
  // Non-empty histogram buckets of the measured queries: (upper bound ns, count).
  std::vector<std::pair<std::int64_t, std::uint64_t>> latency_histogram;
  // Present when some measured response carried token arrival times.
  std::optional<TokenStats> tokens;

  std::vector<WindowStats> windows;

  // Steady state: when it was reached (seconds since the run started), by which criterion.
  // Without wait_for_steady_state: 0 and "not awaited (measurement started at once)".
  std::optional<double> steady_state_at_s;
  std::string steady_state_criterion;
  double warmup_duration_s = 0;

  // Timing on the steady clock (seconds, SteadyNowSeconds()), to ask a meter for the
  // measurement's energy afterwards.
  double run_begin_steady_s = 0;
  double measurement_begin_steady_s = 0;
  double measurement_end_steady_s = 0;
  // Mean power over the measurement, when a power signal was given.
  std::optional<double> measurement_watts;

  // Offline only: the tuning this result was measured with (empty if none), and the query
  // count of the measured part.
  SutTuning tuning;
  std::uint64_t offline_query_count = 0;

  // Things worth knowing that did not invalidate the run (a power callback that failed...).
  std::vector<std::string> warnings;
};

struct PeakProbeResult {
  double rate_per_s = 0;
  double achieved_per_s = 0;
  std::int64_t latency_percentile_ns = 0;
  bool valid = false;
  std::vector<std::string> failed_checks;
};

struct ServerPeakResult {
  bool found = false;                      // false when even start_qps is INVALID
  double peak_qps = 0;                     // highest VALID probe
  double lowest_invalid_qps = 0;           // 0 if growth never failed (max_probes hit)
  double precision_relative = 0;           // (lowest invalid - peak) / peak at the end
  std::vector<PeakProbeResult> probes;     // in the order run
  std::optional<ScenarioResult> peak_run;  // the full result of the best probe
  // Why the search ended before reaching its precision ("" when it did): a probe that never
  // reached steady state says nothing about the rate, so the search stops there.
  std::string stopped_because;
};

struct OfflinePeakResult {
  bool found = false;  // some run was VALID; the best is the best VALID run
  double best_throughput_per_s = 0;
  SutTuning best_tuning;
  std::vector<ScenarioResult> runs;  // one per tuning point (one run if nothing is exposed)
  std::size_t best_run = 0;          // index into runs
};

}  // namespace joulebench::load
