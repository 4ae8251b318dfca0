#include "joulebench/load/power_signal.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace joulebench::load {

double SteadyNowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

namespace {

// The meter's timeline ends at its last sample, up to one sampling period ago; a span that
// reaches past it would be averaged over a shorter stretch. Wait (at most two periods) for
// a sample at or after the span's end.
sampling::EnergyReport SettledReport(const sampling::Meter& meter, double begin_s, double end_s) {
  const double interval_s = std::chrono::duration<double>(meter.options().interval).count();
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(2 * interval_s + 0.005);
  while (true) {
    sampling::EnergyReport report = meter.Between(begin_s, end_s);
    if (report.end_s >= end_s - 1e-6 || std::chrono::steady_clock::now() >= give_up) return report;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(0.005, interval_s / 4)));
  }
}

}  // namespace

PowerSignal MeterPowerSignal(const sampling::Meter& meter) {
  // meter time = steady time + offset; both clocks are monotonic and tick at the same rate.
  const double offset_s = meter.Now() - SteadyNowSeconds();
  const sampling::Meter* m = &meter;
  PowerSignal signal;
  signal.mean_watts = [m, offset_s](double begin_s, double end_s) {
    return SettledReport(*m, begin_s + offset_s, end_s + offset_s).mean_watts;
  };
  signal.energy_report = [m, offset_s](double begin_s, double end_s) {
    return SettledReport(*m, begin_s + offset_s, end_s + offset_s);
  };
  return signal;
}

}  // namespace joulebench::load
