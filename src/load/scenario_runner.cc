// RunScenario: the issuing loops of the three scenarios and the verdict.
#include <fmt/format.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <thread>
#include <vector>

#include "joulebench/error.h"
#include "joulebench/load/loadgen.h"
#include "joulebench/units.h"
#include "random_source.h"
#include "run_completer.h"
#include "window_monitor.h"

namespace joulebench::load {
namespace {

constexpr std::int64_t kMsToNs = 1'000'000;

inline void CpuRelax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Sleeps of the issuer overshoot by the thread's timer slack (50 us by default on Linux);
// 1 us keeps a sleeping issuer on time. Restored when the run ends.
class TimerSlackGuard {
 public:
  TimerSlackGuard() : previous_(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)) {
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  }
  ~TimerSlackGuard() {
    if (previous_ > 0) prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(previous_), 0, 0, 0);
  }

 private:
  long previous_;
};

// Waits until steady time `target_ns`: sleeps while far away, spins the last stretch.
void WaitUntil(std::int64_t target_ns) noexcept {
  constexpr std::int64_t kSpinNs = 40'000;
  std::int64_t now = SteadyNowNs();
  if (target_ns - now > kSpinNs + 20'000) {
    const std::int64_t wake = target_ns - kSpinNs;
    timespec ts{static_cast<time_t>(wake / 1'000'000'000), static_cast<long>(wake % 1'000'000'000)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
  }
  while (SteadyNowNs() < target_ns) CpuRelax();
}

LatencySummary Summarize(const LatencyHistogram& h, double target_percentile) {
  LatencySummary s;
  s.count = h.count();
  s.min_ns = h.min_ns();
  s.mean_ns = h.mean_ns();
  s.p50_ns = h.PercentileNs(50);
  s.p90_ns = h.PercentileNs(90);
  s.p95_ns = h.PercentileNs(95);
  s.p99_ns = h.PercentileNs(99);
  s.p999_ns = h.PercentileNs(99.9);
  s.max_ns = h.max_ns();
  s.target_percentile = target_percentile;
  s.target_percentile_ns = h.PercentileNs(target_percentile);
  return s;
}

std::string Ms(std::int64_t ns) { return FormatDuration(static_cast<double>(ns) / 1e9); }

}  // namespace

std::string FormatFailures(const std::array<std::uint64_t, kFailureKindCount>& by_kind) {
  std::string out;
  for (std::size_t k = 0; k < kFailureKindCount; ++k) {
    if (by_kind[k] == 0) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", FailureKindName(static_cast<FailureKind>(k)), by_kind[k]);
  }
  return out.empty() ? "none" : out;
}

namespace {

// State shared by the three issuing loops.
struct Run {
  SystemUnderTest& sut;
  const TestSettings& settings;
  std::int64_t begin_ns;
  RunCompleter& completer;
  WindowMonitor& monitor;
  RandomSource sample_rng;
  std::uint64_t sample_count;

  std::uint64_t issued = 0;
  std::uint64_t measured_issued = 0;
  std::int64_t measure_begin_ns = -1;   // relative to begin_ns
  std::uint64_t offline_topped_up = 0;  // queries added to reach the minimum duration
  bool overloaded = false;
  bool hit_max_duration = false;
  bool stopped = false;

  bool PastMaxDuration(std::int64_t now_ns) {
    if (settings.stop_requested && settings.stop_requested()) stopped = true;
    if (stopped) return true;
    if (settings.max_duration_ms > 0 && now_ns - begin_ns >= settings.max_duration_ms * kMsToNs) {
      hit_max_duration = true;
    }
    return hit_max_duration;
  }
  Query NextQuery() { return Query{issued++, sample_rng.Below(sample_count)}; }
};

void RunServer(Run& run) {
  const TestSettings& s = run.settings;
  const double mean_gap_ns = 1e9 / s.server_target_qps;
  RandomSource gaps(s.schedule_seed);
  std::vector<Query> batch(s.server_max_coalesce);
  const std::int64_t min_duration_ns = s.min_duration_ms * kMsToNs;
  double next_offset_ns = gaps.Exponential(mean_gap_ns);
  bool done = false;
  while (!done) {
    const std::int64_t now = SteadyNowNs();
    std::int64_t next_ns = run.begin_ns + static_cast<std::int64_t>(next_offset_ns);
    if (next_ns > now) {
      if (run.monitor.warmup_failed() || run.PastMaxDuration(now)) break;
      WaitUntil(std::min(next_ns, now + 10 * kMsToNs));
      continue;
    }
    const std::int64_t measure_start = run.monitor.measure_start_ns();
    std::size_t n = 0;
    while (n < batch.size() && next_ns <= now) {
      const std::int64_t offset_ns = next_ns - run.begin_ns;
      const bool measured = offset_ns >= measure_start;
      if (!run.completer.Schedule(run.issued, next_ns, measured)) {
        run.overloaded = true;
        break;
      }
      batch[n++] = run.NextQuery();
      next_offset_ns += gaps.Exponential(mean_gap_ns);
      next_ns = run.begin_ns + static_cast<std::int64_t>(next_offset_ns);
      if (!measured) continue;
      if (run.measured_issued++ == 0) run.measure_begin_ns = measure_start;
      // The schedule ends with the first query at or past the minimum duration (once the
      // minimum count is reached), so it depends on the seed alone, not on timing.
      if (run.measured_issued >= s.min_query_count &&
          offset_ns - run.measure_begin_ns >= min_duration_ns) {
        done = true;
        break;
      }
    }
    if (n != 0) run.sut.IssueQuery(std::span<const Query>(batch.data(), n), run.completer);
    if (run.overloaded) break;
  }
}

void RunSingleStream(Run& run) {
  const TestSettings& s = run.settings;
  const std::int64_t min_duration_ns = s.min_duration_ms * kMsToNs;
  while (true) {
    const std::int64_t now = SteadyNowNs();
    if (run.monitor.warmup_failed() || run.PastMaxDuration(now)) break;
    const std::int64_t measure_start = run.monitor.measure_start_ns();
    const bool measured = now - run.begin_ns >= measure_start;
    if (measured && run.measured_issued == 0) run.measure_begin_ns = now - run.begin_ns;
    if (!run.completer.Schedule(run.issued, now, measured)) {
      run.overloaded = true;
      break;
    }
    if (measured) ++run.measured_issued;
    const Query q = run.NextQuery();
    run.sut.IssueQuery(std::span<const Query>(&q, 1), run.completer);
    run.completer.WaitForCompleted(run.issued);
    // The measured time ends at the last completion (what measured_duration_s counts), not at
    // this thread's wake-up after it: a completion just before the minimum with a wake-up just
    // after it ended runs "min duration not met".
    if (run.measured_issued >= s.min_query_count &&
        run.completer.last_measured_completion_ns() - run.measure_begin_ns >= min_duration_ns) {
      break;
    }
  }
}

// Issues `count` queries scheduled at `scheduled_ns` in calls of at most `slab` queries,
// keeping at most 2 * slab outstanding so that the SUT never runs dry.
void IssueOfflineQueries(Run& run, std::vector<Query>& buffer, std::uint64_t slab,
                         std::uint64_t count, bool measured, std::int64_t scheduled_ns) {
  if (buffer.size() < std::min(count, slab)) buffer.resize(std::min(count, slab));
  std::uint64_t left = count;
  while (left > 0) {
    if (run.issued - run.completer.completed() > slab) {
      run.completer.WaitForCompleted(run.issued - slab);
    }
    const std::uint64_t n = std::min(left, slab);
    for (std::uint64_t i = 0; i < n; ++i) {
      // The ring holds 2.25 slabs and at most 2 slabs are outstanding, so the slot is free
      // unless the SUT still holds a query from more than a ring ago: wait for it.
      while (!run.completer.Schedule(run.issued, scheduled_ns, measured)) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
      buffer[i] = run.NextQuery();
    }
    run.sut.IssueQuery(std::span<const Query>(buffer.data(), n), run.completer);
    left -= n;
  }
}

void RunOffline(Run& run, std::vector<Query>& buffer, std::uint64_t slab,
                std::uint64_t* query_count) {
  const TestSettings& s = run.settings;
  // Warm-up: chunks of about half a window of work, at most two outstanding, until steady
  // (or one calibration window when not waiting and the rate is unknown).
  const bool calibrate = s.offline_expected_qps <= 0;
  const bool warm = s.wait_for_steady_state || calibrate;
  // Without steady-state waiting, calibration takes two windows and measures the rate over
  // the second (the first includes the SUT's start).
  const std::int64_t window_ns = s.window_ms * kMsToNs;
  std::int64_t mark_ns = -1;
  std::uint64_t mark_completed = 0;
  double calibrated_qps = 0;
  if (warm) {
    const std::int64_t warm_until =
        s.wait_for_steady_state ? WindowMonitor::kNotYet : run.begin_ns + 2 * window_ns;
    std::uint64_t chunk = 16;
    while (true) {
      const std::int64_t now = SteadyNowNs();
      if (mark_ns < 0 && now >= run.begin_ns + window_ns) {
        mark_ns = now;
        mark_completed = run.completer.completed();
      }
      if (run.monitor.warmup_failed()) break;
      if (s.stop_requested && s.stop_requested()) {
        run.stopped = true;
        break;
      }
      if (now >= warm_until) {
        calibrated_qps = static_cast<double>(run.completer.completed() - mark_completed) /
                         (static_cast<double>(now - mark_ns) / 1e9);
        break;
      }
      if (s.wait_for_steady_state && run.monitor.measure_start_ns() != WindowMonitor::kNotYet)
        break;
      const double rate = run.monitor.last_throughput_per_s();
      if (rate > 0) {
        chunk = static_cast<std::uint64_t>(rate * static_cast<double>(s.window_ms) / 2000.0);
      }
      chunk = std::clamp<std::uint64_t>(chunk, 16, slab / 2);
      if (run.issued - run.completer.completed() >= chunk) {
        run.completer.WaitForCompletedUntil(run.issued - chunk + 1,
                                            std::min(now + 2 * kMsToNs, warm_until));
        continue;
      }
      IssueOfflineQueries(run, buffer, slab, chunk, false, now);
    }
    run.sut.FlushQueries();
    run.completer.WaitForCompleted(run.issued);  // drain, so the measured part starts clean
    if (run.monitor.warmup_failed() || run.stopped) return;
  }
  double expected_qps = s.offline_expected_qps;
  double margin = 1.1;  // as LoadGen sizes an offline run from the expected rate
  if (calibrate) {
    expected_qps = s.wait_for_steady_state ? run.monitor.steady_throughput_per_s() : calibrated_qps;
    margin = 1.25;  // a measured rate is noisier than a declared one
  }
  const auto sized = static_cast<std::uint64_t>(
      std::ceil(expected_qps * static_cast<double>(s.min_duration_ms) / 1000.0 * margin - 1e-9));
  *query_count = std::max<std::uint64_t>(s.min_query_count, sized);
  const std::int64_t start = SteadyNowNs();
  run.measure_begin_ns = start - run.begin_ns;
  run.measured_issued = *query_count;
  IssueOfflineQueries(run, buffer, slab, *query_count, true, start);
  // A count sized from a rate that turned out low would end the run before its minimum
  // duration (INVALID in LoadGen). Instead, when the SUT has finished everything before that
  // duration, issue more, sized from the rate measured so far; the result says how many.
  const std::int64_t min_end_ns = start + s.min_duration_ms * kMsToNs;
  while (true) {
    if (s.stop_requested && s.stop_requested()) {
      run.stopped = true;
      break;
    }
    run.completer.WaitForCompletedUntil(run.issued, min_end_ns);
    const std::int64_t now = SteadyNowNs();
    // Queries still out complete later than now; otherwise the last completion counts.
    if (now >= min_end_ns &&
        (run.issued > run.completer.completed() ||
         run.begin_ns + run.completer.last_measured_completion_ns() >= min_end_ns)) {
      break;
    }
    if (run.issued > run.completer.completed()) continue;
    const double rate = static_cast<double>(run.measured_issued) /
                        (static_cast<double>(std::max<std::int64_t>(now - start, 1)) / 1e9);
    const auto more =
        static_cast<std::uint64_t>(std::ceil(
            rate * static_cast<double>(std::max<std::int64_t>(min_end_ns - now, 0)) / 1e9 * 1.1)) +
        1;
    IssueOfflineQueries(run, buffer, slab, more, true, start);
    run.measured_issued += more;
    run.offline_topped_up += more;
    *query_count += more;
  }
}

}  // namespace

ScenarioResult RunScenario(SystemUnderTest& sut, QuerySampleLibrary& qsl,
                           const TestSettings& settings, const PowerSignal& power) {
  Validate(settings);
  const std::size_t total = qsl.TotalSampleCount();
  if (total == 0) throw InputError(fmt::format("sample library '{}' has no samples", qsl.Name()));
  const std::size_t performance =
      std::min(total, std::max<std::size_t>(1, qsl.PerformanceSampleCount()));
  std::vector<SampleIndex> loaded(performance);
  std::iota(loaded.begin(), loaded.end(), SampleIndex{0});
  qsl.LoadSamples(loaded);

  ScenarioResult result;
  result.scenario = settings.scenario;
  result.sut_name = sut.Name();
  result.settings = settings;
  result.offered_qps = settings.scenario == Scenario::kServer ? settings.server_target_qps : 0;

  // Offline issues in slabs of up to half the ring.
  const std::uint64_t slab = std::max<std::uint64_t>(1, settings.max_outstanding_queries / 2);
  std::vector<Query> offline_buffer;  // grown to min(query count, slab) when needed
  const std::uint64_t ring = settings.scenario == Scenario::kOffline
                                 ? 2 * slab + 2 * slab / 8 + 16
                                 : settings.max_outstanding_queries;

  TimerSlackGuard slack;
  RunCompleter completer(ring, 0);
  const std::int64_t begin_ns = SteadyNowNs();
  completer.set_run_begin_ns(begin_ns);
  SteadyStateOptions steady{settings.steady_state_windows, settings.steady_state_band_relative,
                            settings.steady_state_drift_relative, true,
                            static_cast<double>(settings.window_ms) / 1000.0};
  WindowMonitor monitor(completer, begin_ns, settings.window_ms * kMsToNs, power,
                        settings.wait_for_steady_state, steady, settings.max_warmup_ms * kMsToNs);
  result.run_begin_steady_s = static_cast<double>(begin_ns) / 1e9;
  if (settings.on_window) monitor.set_on_window(settings.on_window);
  if (settings.on_window_latencies) monitor.set_on_window_latencies(settings.on_window_latencies);
  monitor.Start();

  Run run{sut,        settings, begin_ns,
          completer,  monitor,  RandomSource(settings.sample_index_seed),
          performance};
  switch (settings.scenario) {
    case Scenario::kServer:
      RunServer(run);
      break;
    case Scenario::kSingleStream:
      RunSingleStream(run);
      break;
    case Scenario::kOffline:
      RunOffline(run, offline_buffer, slab, &result.offline_query_count);
      break;
  }
  sut.FlushQueries();
  // Every issued query must come back before the completer may go away.
  completer.WaitForCompleted(run.issued);
  monitor.Stop();
  qsl.UnloadSamples(loaded);

  // --- results -------------------------------------------------------------------------
  auto measured = std::make_unique<LatencyHistogram>();
  completer.MergeMeasuredInto(*measured);
  const double percentile = settings.scenario == Scenario::kSingleStream
                                ? settings.single_stream_target_latency_percentile
                                : settings.server_target_latency_percentile;
  result.latency = Summarize(*measured, percentile);
  result.latency_histogram = measured->NonEmptyBuckets();
  result.measured_query_count = measured->count();
  result.failed_by_kind = completer.measured_failed_by_kind();
  for (std::uint64_t n : result.failed_by_kind) result.failed_query_count += n;
  const std::uint64_t all_failed = completer.failed_count();
  result.warmup_failed_query_count =
      all_failed > result.failed_query_count ? all_failed - result.failed_query_count : 0;
  const std::int64_t last_ns = completer.last_measured_completion_ns();
  if (run.measure_begin_ns >= 0 && last_ns >= run.measure_begin_ns) {
    result.measured_duration_s = static_cast<double>(last_ns - run.measure_begin_ns) / 1e9;
    result.measurement_begin_steady_s = static_cast<double>(begin_ns + run.measure_begin_ns) / 1e9;
    result.measurement_end_steady_s = static_cast<double>(begin_ns + last_ns) / 1e9;
  }
  if (result.measured_duration_s > 0) {
    result.throughput_per_s =
        static_cast<double>(result.measured_query_count - result.failed_query_count) /
        result.measured_duration_s;
  }
  if (const RunCompleter::TokenTotals totals = completer.measured_token_totals();
      totals.queries > 0) {
    TokenStats tokens;
    tokens.queries = totals.queries;
    tokens.tokens = totals.tokens;
    if (result.measured_duration_s > 0) {
      tokens.tokens_per_s = static_cast<double>(totals.tokens) / result.measured_duration_s;
    }
    auto first = std::make_unique<LatencyHistogram>();
    auto gaps = std::make_unique<LatencyHistogram>();
    auto per_token = std::make_unique<LatencyHistogram>();
    completer.MergeTokenHistogramsInto(*first, *gaps, *per_token);
    tokens.time_to_first_token = Summarize(*first, percentile);
    tokens.inter_token_latency = Summarize(*gaps, percentile);
    tokens.time_per_output_token = Summarize(*per_token, percentile);
    tokens.time_to_first_token_histogram = first->NonEmptyBuckets();
    tokens.inter_token_latency_histogram = gaps->NonEmptyBuckets();
    tokens.time_per_output_token_histogram = per_token->NonEmptyBuckets();
    result.tokens = std::move(tokens);
  }
  result.windows = std::move(monitor.windows());
  for (auto& w : result.windows) {
    w.measured = run.measure_begin_ns >= 0 &&
                 w.begin_s >= static_cast<double>(run.measure_begin_ns) / 1e9 - 1e-9;
  }
  result.warnings = std::move(monitor.warnings());
  if (run.offline_topped_up > 0) {
    result.warnings.push_back(fmt::format(
        "offline: the {} queries sized from the expected rate took less than the minimum "
        "duration; {} more were issued to reach it (the expected rate was low)",
        result.offline_query_count - run.offline_topped_up, run.offline_topped_up));
  }
  if (settings.wait_for_steady_state) {
    result.steady_state_criterion = monitor.criterion();
    const std::int64_t ms = monitor.measure_start_ns();
    if (ms != WindowMonitor::kNotYet) {
      result.steady_state_at_s = static_cast<double>(ms) / 1e9;
      result.warmup_duration_s = *result.steady_state_at_s;
    }
  } else {
    result.steady_state_at_s = 0;
    result.steady_state_criterion = "not awaited (measurement started at once)";
  }
  if (power.mean_watts && result.measured_duration_s > 0) {
    try {
      result.measurement_watts =
          power.mean_watts(result.measurement_begin_steady_s, result.measurement_end_steady_s);
    } catch (const std::exception& e) {
      result.warnings.push_back(fmt::format("power signal failed: {}", e.what()));
    }
  }

  // --- verdict -------------------------------------------------------------------------
  auto& failed = result.failed_checks;
  if (settings.wait_for_steady_state && !result.steady_state_at_s) {
    failed.push_back(
        fmt::format("steady state not reached within the maximum warm-up of {} ({})",
                    Ms(settings.max_warmup_ms * kMsToNs),
                    monitor.last_reason().empty() ? "run stopped" : monitor.last_reason()));
  }
  if (run.overloaded) {
    failed.push_back(
        fmt::format("SUT fell behind: more than {} queries outstanding", completer.capacity()));
  }
  if (run.stopped) failed.push_back("stopped on request (SIGINT/SIGTERM)");
  if (run.hit_max_duration && !run.stopped) {
    failed.push_back(
        fmt::format("maximum duration of {} reached", Ms(settings.max_duration_ms * kMsToNs)));
  }
  if (result.measured_query_count < settings.min_query_count) {
    failed.push_back(fmt::format("min query count not met: {} < {}", result.measured_query_count,
                                 settings.min_query_count));
  }
  if (result.measured_duration_s * 1000 < static_cast<double>(settings.min_duration_ms)) {
    std::string hint;
    if (settings.scenario == Scenario::kOffline) {
      hint = " (raise offline_expected_qps, or set it to 0 to measure it during warm-up)";
    }
    failed.push_back(fmt::format("min duration not met: {} < {}{}",
                                 FormatDuration(result.measured_duration_s),
                                 Ms(settings.min_duration_ms * kMsToNs), hint));
  }
  std::int64_t bound_ns = 0;
  if (settings.scenario == Scenario::kServer) bound_ns = settings.server_target_latency_ns;
  if (settings.scenario == Scenario::kSingleStream)
    bound_ns = settings.single_stream_target_latency_ns;
  if (bound_ns > 0 && result.measured_query_count > 0 &&
      result.latency.target_percentile_ns > bound_ns) {
    failed.push_back(fmt::format("latency bound not met: p{:g} {} > {}", percentile,
                                 Ms(result.latency.target_percentile_ns), Ms(bound_ns)));
  }
  if (result.failed_query_count > 0) {
    const double fraction = result.measured_query_count > 0
                                ? static_cast<double>(result.failed_query_count) /
                                      static_cast<double>(result.measured_query_count)
                                : 1.0;
    if (fraction > settings.max_failed_query_fraction) {
      failed.push_back(fmt::format(
          "{} queries failed in the SUT ({:.3g} % of {} measured; {}) "
          "> {:g} % allowed",
          result.failed_query_count, fraction * 100, result.measured_query_count,
          FormatFailures(result.failed_by_kind), settings.max_failed_query_fraction * 100));
    } else {
      result.warnings.push_back(fmt::format(
          "{} queries failed in the SUT ({:.3g} % of {} measured; {}), within the {:g} % allowed",
          result.failed_query_count, fraction * 100, result.measured_query_count,
          FormatFailures(result.failed_by_kind), settings.max_failed_query_fraction * 100));
    }
  }
  if (result.warmup_failed_query_count > 0) {
    result.warnings.push_back(fmt::format("{} warm-up queries failed in the SUT (not measured)",
                                          result.warmup_failed_query_count));
  }
  result.valid = failed.empty();
  return result;
}

}  // namespace joulebench::load
