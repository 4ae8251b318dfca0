#include "joulebench/load/power_signal.h"

#include <chrono>

namespace joulebench::load {

double SteadyNowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

PowerSignal MeterPowerSignal(const sampling::Meter& meter) {
  // meter time = steady time + offset; both clocks are monotonic and tick at the same rate.
  const double offset_s = meter.Now() - SteadyNowSeconds();
  const sampling::Meter* m = &meter;
  PowerSignal signal;
  signal.mean_watts = [m, offset_s](double begin_s, double end_s) {
    return m->Between(begin_s + offset_s, end_s + offset_s).mean_watts;
  };
  signal.energy_report = [m, offset_s](double begin_s, double end_s) {
    return m->Between(begin_s + offset_s, end_s + offset_s);
  };
  return signal;
}

}  // namespace joulebench::load
