// Power at partial load: the points of a power-versus-load curve.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/load/loadgen.h"
#include "joulebench/load/steady_state_detector.h"
#include "joulebench/units.h"

namespace joulebench::load {
namespace {

void FillDomains(const PowerSignal& power, double begin_s, double end_s, run::LoadLevelPoint& p) {
  if (!power.energy_report || !(end_s > begin_s)) return;
  const sampling::EnergyReport report = power.energy_report(begin_s, end_s);
  for (const auto& d : report.domains) p.watts_by_domain.emplace_back(d.domain.name, d.mean_watts);
}

// Idle: no queries; wait for steady power (at most max_warmup), then measure.
run::LoadLevelPoint MeasureIdle(const TestSettings& s, const LoadLevelSettings& levels,
                                const PowerSignal& power, std::vector<std::string>* invalid) {
  const double window_s = static_cast<double>(s.window_ms) / 1000.0;
  if (s.wait_for_steady_state) {
    SteadyStateDetector detector({s.steady_state_windows, s.steady_state_band_relative,
                                  s.steady_state_drift_relative, /*use_throughput=*/false});
    const double start_s = SteadyNowSeconds();
    double begin_s = start_s;
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(s.window_ms));
      const double end_s = begin_s + window_s;
      if (detector.AddWindow(0, power.mean_watts(begin_s, end_s))) break;
      begin_s = end_s;
      if (end_s - start_s >= static_cast<double>(s.max_warmup_ms) / 1000.0) {
        if (invalid) {
          invalid->push_back(fmt::format("idle: power not steady within {} ({})",
                                         FormatDuration(end_s - start_s), detector.last_reason()));
        }
        break;
      }
    }
  }
  const double begin_s = SteadyNowSeconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(levels.idle_duration_ms));
  const double end_s = SteadyNowSeconds();
  run::LoadLevelPoint p;
  p.watts_total = power.mean_watts(begin_s, end_s);
  FillDomains(power, begin_s, end_s, p);
  return p;
}

}  // namespace

std::vector<run::LoadLevelPoint> MeasurePowerAtLoadLevels(
    SystemUnderTest& sut, QuerySampleLibrary& qsl, const TestSettings& settings, double peak_qps,
    const LoadLevelSettings& levels, const PowerSignal& power,
    std::vector<std::string>* invalid_levels) {
  if (!power.mean_watts) {
    throw InputError("power at load levels needs a power signal (no energy source was found)");
  }
  if (!(peak_qps > 0) || std::isinf(peak_qps)) {
    throw InputError(
        fmt::format("power at load levels: the peak rate must be > 0 (got {})", peak_qps));
  }
  if (levels.load_fractions.empty()) throw InputError("power at load levels: no load level given");
  for (double f : levels.load_fractions) {
    if (!(f >= 0 && f <= 1)) {
      throw InputError(fmt::format("load level {:g} % is outside 0..100 %", f * 100));
    }
  }
  if (levels.idle_duration_ms <= 0)
    throw InputError("power at load levels: idle duration must be > 0");
  TestSettings s = settings;
  s.scenario = Scenario::kServer;
  Validate(s);

  std::vector<run::LoadLevelPoint> points;
  for (double f : levels.load_fractions) {
    if (s.stop_requested && s.stop_requested()) break;
    run::LoadLevelPoint p;
    if (f == 0) {
      p = MeasureIdle(s, levels, power, invalid_levels);
    } else {
      s.server_target_qps = f * peak_qps;
      const ScenarioResult r = RunScenario(sut, qsl, s, power);
      p.rate_per_s = s.server_target_qps;
      p.achieved_per_s = r.throughput_per_s;
      p.watts_total = r.measurement_watts.value_or(std::nan(""));
      FillDomains(power, r.measurement_begin_steady_s, r.measurement_end_steady_s, p);
      if (!r.valid && invalid_levels) {
        std::string reasons;
        for (const auto& c : r.failed_checks) reasons += (reasons.empty() ? "" : "; ") + c;
        invalid_levels->push_back(
            fmt::format("{:g} % ({:.4g}/s): INVALID: {}", f * 100, s.server_target_qps, reasons));
      }
    }
    p.load_fraction = f;
    points.push_back(std::move(p));
  }
  return points;
}

}  // namespace joulebench::load
