// Peak searches: the server rate limit (grow, then bisect) and the offline tuning sweep.
#include <fmt/format.h>

#include <cmath>

#include "joulebench/error.h"
#include "joulebench/load/loadgen.h"

namespace joulebench::load {
namespace {

PeakProbeResult ToProbe(const ScenarioResult& r) {
  PeakProbeResult p;
  p.rate_per_s = r.settings.server_target_qps;
  p.achieved_per_s = r.throughput_per_s;
  p.latency_percentile_ns = r.latency.target_percentile_ns;
  p.valid = r.valid;
  p.failed_checks = r.failed_checks;
  return p;
}

}  // namespace

ServerPeakResult FindServerPeak(SystemUnderTest& sut, QuerySampleLibrary& qsl,
                                const TestSettings& settings, const PeakSearchSettings& search,
                                const PowerSignal& power) {
  if (!(search.start_qps > 0) || std::isinf(search.start_qps)) {
    throw InputError(
        fmt::format("peak search: the start rate must be > 0 (got {})", search.start_qps));
  }
  if (!(search.growth_factor > 1)) throw InputError("peak search: the growth factor must be > 1");
  if (!(search.precision_relative > 0)) throw InputError("peak search: the precision must be > 0");
  if (search.max_probes < 2) throw InputError("peak search: allow at least 2 probes");
  TestSettings s = settings;
  s.scenario = Scenario::kServer;
  Validate(s);

  ServerPeakResult result;
  auto probe = [&](double rate) {
    s.server_target_qps = rate;
    if (search.on_probe) search.on_probe(static_cast<int>(result.probes.size()) + 1, rate);
    ScenarioResult r = RunScenario(sut, qsl, s, power);
    result.probes.push_back(ToProbe(r));
    if (s.wait_for_steady_state && !r.steady_state_at_s) {
      result.stopped_because =
          fmt::format("the probe at {:.6g}/s did not reach steady state within {} ms: {}", rate,
                      s.max_warmup_ms, r.failed_checks.empty() ? "" : r.failed_checks.front());
    }
    if (r.valid && (!result.found || rate > result.peak_qps)) {
      result.found = true;
      result.peak_qps = rate;
      result.peak_run = std::move(r);
      return true;
    }
    return r.valid;
  };

  auto probes_left = [&] {
    if (s.stop_requested && s.stop_requested()) return false;
    return result.stopped_because.empty() &&
           static_cast<int>(result.probes.size()) < search.max_probes;
  };
  double low = 0;
  double high = 0;
  // Bracket: grow from the start rate until a probe fails, or shrink until one passes.
  double rate = search.start_qps;
  if (probe(rate)) {
    low = rate;
    while (probes_left()) {
      rate *= search.growth_factor;
      if (!probe(rate)) {
        high = rate;
        break;
      }
      low = rate;
    }
  } else {
    high = rate;
    while (probes_left()) {
      if (rate / search.growth_factor < search.min_qps) {
        result.stopped_because =
            fmt::format("no rate down to {:.6g}/s met the bound; the search's floor is {:.6g}/s",
                        rate, search.min_qps);
        break;
      }
      rate /= search.growth_factor;
      if (probe(rate)) {
        low = rate;
        break;
      }
      high = rate;
    }
  }
  // Bisect the bracket.
  while (low > 0 && high > 0 && (high - low) / low > search.precision_relative && probes_left()) {
    const double mid = 0.5 * (low + high);
    if (probe(mid)) {
      low = mid;
    } else {
      high = mid;
    }
  }
  result.lowest_invalid_qps = high;
  result.precision_relative = (low > 0 && high > 0) ? (high - low) / low : 0;
  return result;
}

OfflinePeakResult FindOfflinePeak(SystemUnderTest& sut, QuerySampleLibrary& qsl,
                                  const TestSettings& settings, const PowerSignal& power) {
  TestSettings s = settings;
  s.scenario = Scenario::kOffline;
  Validate(s);
  const SutTuningSpace space = sut.TuningSpace();
  std::vector<SutTuning> points;
  const std::vector<std::optional<int>> batches =
      space.batch_sizes.empty()
          ? std::vector<std::optional<int>>{std::nullopt}
          : std::vector<std::optional<int>>(space.batch_sizes.begin(), space.batch_sizes.end());
  const std::vector<std::optional<int>> concurrencies =
      space.concurrencies.empty()
          ? std::vector<std::optional<int>>{std::nullopt}
          : std::vector<std::optional<int>>(space.concurrencies.begin(), space.concurrencies.end());
  for (const auto& b : batches) {
    for (const auto& c : concurrencies) points.push_back(SutTuning{b, c});
  }

  OfflinePeakResult result;
  for (const SutTuning& tuning : points) {
    if (!result.runs.empty() && s.stop_requested && s.stop_requested()) break;
    if (tuning.batch_size || tuning.concurrency) sut.ApplyTuning(tuning);
    ScenarioResult r = RunScenario(sut, qsl, s, power);
    r.tuning = tuning;
    const bool better =
        r.valid && (!result.found || r.throughput_per_s > result.best_throughput_per_s);
    if (better) {
      result.found = true;
      result.best_throughput_per_s = r.throughput_per_s;
      result.best_tuning = tuning;
      result.best_run = result.runs.size();
    }
    result.runs.push_back(std::move(r));
  }
  if (result.found && (result.best_tuning.batch_size || result.best_tuning.concurrency)) {
    sut.ApplyTuning(result.best_tuning);
  }
  return result;
}

}  // namespace joulebench::load
