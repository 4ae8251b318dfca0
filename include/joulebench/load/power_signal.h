// How the load generator sees power without depending on a running meter: two optional
// callbacks over spans of the steady clock. MeterPowerSignal adapts a sampling::Meter.
#pragma once

#include <functional>

#include "joulebench/sampling/meter.h"

namespace joulebench::load {

// Seconds on std::chrono::steady_clock (time_since_epoch), the clock every load-generator
// timestamp uses.
double SteadyNowSeconds();

struct PowerSignal {
  // Mean total watts over [begin_s, end_s] (steady-clock seconds). Empty = no power signal:
  // steady state then judges throughput alone and says so.
  std::function<double(double begin_s, double end_s)> mean_watts;
  // Optional: the full per-domain report for a span, for power-at-load-level results.
  std::function<sampling::EnergyReport(double begin_s, double end_s)> energy_report;

  explicit operator bool() const { return static_cast<bool>(mean_watts); }
};

// Reads a running meter (the meter must outlive the signal and be Start()ed). Converts
// steady-clock seconds to the meter's own time base with an offset taken once, here.
PowerSignal MeterPowerSignal(const sampling::Meter& meter);

}  // namespace joulebench::load
