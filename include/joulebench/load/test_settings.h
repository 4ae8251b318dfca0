// Settings of one scenario run and of the searches built on it. One plain struct per job,
// snake_case fields with the unit in the name (as MLPerf LoadGen's TestSettings). Every
// default is stated next to its field. Validate() rejects nonsense with an InputError.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace joulebench::load {

class LatencyHistogram;

enum class Scenario {
  // All queries issued at once in one IssueQuery call; metric = samples per second from the
  // issue to the last completion.
  kOffline,
  // Poisson arrivals at server_target_qps (exponential gaps from a seeded generator);
  // latency measured from each query's *scheduled* time, so the generator's own lateness
  // counts against the result. Metric: the rate, valid if the latency percentile meets
  // server_target_latency_ns.
  kServer,
  // One query at a time, the next issued when the previous completes; metric = the
  // single_stream_target_latency_percentile latency (p90 by default).
  kSingleStream,
};
std::string_view ScenarioName(Scenario s);      // "offline", "server", "single-stream"
Scenario ParseScenario(std::string_view name);  // throws InputError

struct TestSettings {
  Scenario scenario = Scenario::kServer;

  // --- server -------------------------------------------------------------------------
  double server_target_qps = 1000;                     // offered rate, queries/s, > 0
  std::int64_t server_target_latency_ns = 10'000'000;  // bound on the percentile, 10 ms
  double server_target_latency_percentile = 99.0;      // percent, in (0, 100)
  // When the generator is late it issues every overdue query at once, at most this many per
  // IssueQuery call (latency still counts from each query's scheduled time).
  std::size_t server_max_coalesce = 64;

  // --- offline ------------------------------------------------------------------------
  // Expected throughput, used only to size the run: the query count is
  // max(min_query_count, offline_expected_qps * min_duration_ms / 1000 * 1.1).
  // 0 (default) = use the throughput measured during warm-up (the mean of the last
  // steady windows; without wait_for_steady_state, two calibration windows are run first
  // and the rate of the second is used), with a margin of 1.25 instead of 1.1.
  // The queries are issued at once when they fit in max_outstanding_queries / 2, otherwise
  // in slabs of that size, each issued while the previous one is still being processed.
  double offline_expected_qps = 0;

  // --- single-stream ------------------------------------------------------------------
  double single_stream_target_latency_percentile = 90.0;  // percent, in (0, 100)
  // Optional bound on that percentile; 0 = none (single-stream is then valid on duration
  // and count alone, as in LoadGen).
  std::int64_t single_stream_target_latency_ns = 0;

  // --- validity (all scenarios) -------------------------------------------------------
  // The measured part (after steady state) must last at least this long and contain at
  // least this many queries; otherwise the result is INVALID naming the check.
  std::int64_t min_duration_ms = 10'000;
  std::uint64_t min_query_count = 100;
  // Hard stop of the whole run (warm-up + measurement) in the server and single-stream
  // scenarios; 0 = none. A run stopped by it is INVALID if a check above is not met.
  std::int64_t max_duration_ms = 0;
  // Most queries outstanding (issued, not completed) before the server scenario gives up
  // (INVALID: "SUT fell behind"). Also sizes the schedule ring: 8 bytes per entry,
  // rounded up to a power of two. Default 2^20 (8 MiB), independent of the run's length.
  std::uint64_t max_outstanding_queries = 1u << 20;
  // Failed queries (QueryResponse::ok = false) tolerated in the measured part, as a fraction
  // of the measured queries, in [0, 1): more makes the run INVALID ("3.2 % of queries
  // failed (timeout 12, http-5xx 4) > 1 %"). Default 0: any failure invalidates, as in
  // MLPerf LoadGen. `joulebench loadgen --max-failed` sets it (1 % there by default).
  double max_failed_query_fraction = 0;

  // --- randomness ---------------------------------------------------------------------
  std::uint64_t schedule_seed = 0x6a6f756c65;      // arrival gaps (server)
  std::uint64_t sample_index_seed = 0x62656e6368;  // which sample each query uses

  // --- per-window statistics and steady state -----------------------------------------
  // Throughput, latency and power are reported per window of this length (whole run).
  std::int64_t window_ms = 1000;
  // When true the measurement starts only once the last steady_state_windows windows of
  // throughput (and of power, when a power signal is given) are steady (see
  // SteadyStateDetector); when false, measurement starts at once.
  bool wait_for_steady_state = true;
  // Longest warm-up allowed; steady state not reached by then makes the run INVALID
  // ("steady state not reached within ..."), and nothing is measured.
  std::int64_t max_warmup_ms = 60'000;
  int steady_state_windows = 5;              // k, >= 2
  double steady_state_band_relative = 0.05;  // each of the k windows within +-5 % of their mean
  // |mean of the last floor(k/2) windows - mean of the first floor(k/2)| / mean <= this:
  // rejects a slow drift that the band alone would let through.
  double steady_state_drift_relative = 0.02;

  // --- hooks (optional; empty = none) ---------------------------------------------------
  // Polled by the issuing loop (server and single-stream: at least every 10 ms; offline:
  // during warm-up) and before each probe of a peak search or each load level. Once it
  // returns true the run stops issuing, drains what is outstanding and is INVALID
  // ("stopped on request"); searches and level sweeps return what they have.
  std::function<bool()> stop_requested;
  // Called on the window thread after each statistics window: its throughput, its mean
  // power (NaN without a power signal) and whether the measured part has begun.
  std::function<void(double throughput_per_s, double watts, bool measuring)> on_window;
  // Called on the window thread with the latencies of the queries completed in each window,
  // the last partial window included (however short), so that the windows of a run add up to
  // every completed query.
  std::function<void(const LatencyHistogram& window)> on_window_latencies;
};

// Throws InputError naming the field and the accepted range.
void Validate(const TestSettings& settings);

// Server peak search: grow the rate geometrically until a probe is INVALID, then bisect
// between the last valid and the first invalid rate until (high - low) / low <= precision.
struct PeakSearchSettings {
  double start_qps = 100;            // first probe, > 0
  double growth_factor = 2.0;        // > 1
  double precision_relative = 0.02;  // stop bisecting at this relative gap, > 0
  int max_probes = 40;               // including the growth phase
  // When even start_qps fails, the rate shrinks no further than this (a step at a low rate
  // lasts min_query_count / rate); 0 = no floor.
  double min_qps = 0;
  // Optional: called before each probe with its number (1, 2, ...) and offered rate.
  std::function<void(int probe, double rate_qps)> on_probe;
  // Each probe is a full server run with the base TestSettings (so each is long enough to be
  // valid on duration and count). Steady-state waiting per probe follows those settings.
};

}  // namespace joulebench::load
