#include "sampling/domain_integrator.h"

#include <cmath>

namespace joulebench::sampling {
namespace {

// Time constant of the recent-power average used to estimate missed wraps.
constexpr double kRecentPowerTauS = 1.0;

}  // namespace

DomainIntegrator::DomainIntegrator(const energy::DomainInfo& domain)
    : signal_(domain.signal),
      range_joules_(domain.counter_range_joules),
      max_watts_(domain.max_watts) {}

IntegrationEvent DomainIntegrator::Add(double t_s, const energy::Reading& reading) {
  IntegrationEvent event;
  if (!reading.ok) return event;
  if (!has_last_) {
    has_last_ = true;
    last_t_s_ = t_s;
    last_value_ = reading.value;
    return event;
  }
  const double dt = t_s - last_t_s_;
  double delta = 0;
  if (signal_ == energy::SignalKind::kGauge) {
    delta = dt > 0 ? 0.5 * (last_value_ + reading.value) * dt : 0;
  } else {
    delta = reading.value - last_value_;
    if (range_joules_ > 0) {
      if (delta < 0) delta += range_joules_;
      // More than one wrap leaves no trace in the raw values: estimate the number of whole
      // ranges from the energy the domain's power would have used in the gap.
      const double watts = recent_watts_ >= 0 ? recent_watts_ : max_watts_;
      if (watts > 0 && dt > 0) {
        const double wraps = std::llround((watts * dt - delta) / range_joules_);
        if (wraps > 0) {
          delta += wraps * range_joules_;
          event.extra_wraps = static_cast<long long>(wraps);
          event.gap_s = dt;
          event.assumed_watts = watts;
        }
      }
    } else if (delta < 0) {
      event.counter_reset = true;
      delta = 0;
    }
  }
  joules_ += delta;
  if (dt > 0 && !event.counter_reset) {
    const double watts = delta / dt;
    const double alpha = 1.0 - std::exp(-dt / kRecentPowerTauS);
    recent_watts_ = recent_watts_ < 0 ? watts : recent_watts_ + alpha * (watts - recent_watts_);
  }
  last_t_s_ = t_s;
  last_value_ = reading.value;
  return event;
}

}  // namespace joulebench::sampling
