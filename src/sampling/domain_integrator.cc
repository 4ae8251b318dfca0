#include "sampling/domain_integrator.h"

#include <algorithm>
#include <cmath>

namespace joulebench::sampling {
namespace {

// Time constant of the recent-power average used to estimate missed wraps.
constexpr double kRecentPowerTauS = 1.0;
// A decreasing counter is a wrap only if the energy the wrap implies fits a plausible power:
// twice the domain's maximum (RAPL's constraint max_power_uw is the most a limit may be set
// to; short excursions above the running limit stay well under twice it), or ten times the
// recent power when no maximum is known (idle to full load of a CPU package is 5-10x). Plus
// one joule for counters read within a millisecond.
constexpr double kMaxWattsFactor = 2.0;
constexpr double kRecentWattsFactor = 10.0;
constexpr double kWrapSlackJoules = 1.0;

}  // namespace

DomainIntegrator::DomainIntegrator(const energy::DomainInfo& domain)
    : signal_(domain.signal),
      range_joules_(domain.counter_range_joules),
      max_watts_(domain.max_watts),
      counts_through_gaps_(domain.counts_through_gaps) {}

IntegrationEvent DomainIntegrator::Add(double t_s, const energy::Reading& reading) {
  IntegrationEvent event;
  if (!reading.ok) {
    if (has_last_) failed_since_last_ = true;
    return event;
  }
  if (!has_last_) {
    has_last_ = true;
    last_t_s_ = t_s;
    last_value_ = reading.value;
    return event;
  }
  event.after_failed_reads = failed_since_last_;
  const double dt = t_s - last_t_s_;
  double delta = 0;
  if (signal_ == energy::SignalKind::kGauge) {
    // Power between two readings with failed ones in between is not known.
    if (failed_since_last_) {
      event.dropped = true;
    } else {
      delta = dt > 0 ? 0.5 * (last_value_ + reading.value) * dt : 0;
    }
  } else if (failed_since_last_ && !counts_through_gaps_) {
    event.dropped = true;
  } else {
    delta = reading.value - last_value_;
    if (range_joules_ > 0) {
      if (delta < 0) {
        const double wrapped = delta + range_joules_;
        const double bound_watts =
            std::max(kMaxWattsFactor * max_watts_, kRecentWattsFactor * recent_watts_);
        if (bound_watts > 0 && dt > 0 && wrapped > bound_watts * dt + kWrapSlackJoules) {
          event.dropped = true;
          event.implausible_jump = true;
          event.jump_joules = -delta;
        }
        delta = wrapped;
      }
      // More than one wrap leaves no trace in the raw values: estimate the number of whole
      // ranges from the energy the domain's power would have used in the gap.
      const double watts = recent_watts_ >= 0 ? recent_watts_ : max_watts_;
      if (!event.dropped && watts > 0 && dt > 0) {
        const double wraps = std::llround((watts * dt - delta) / range_joules_);
        if (wraps > 0) {
          event.extra_wraps = static_cast<long long>(wraps);
          event.gap_s = dt;
          event.assumed_watts = watts;
          // After failed reads the gap is recorded as such: an estimate is no measurement.
          if (failed_since_last_) {
            event.dropped = true;
          } else {
            delta += wraps * range_joules_;
          }
        }
      }
    } else if (delta < 0) {
      event.dropped = true;
      event.counter_reset = true;
    }
  }
  if (event.dropped) {
    event.dropped_from_s = last_t_s_;
    delta = 0;
  }
  joules_ += delta;
  if (dt > 0 && !event.dropped) {
    const double watts = delta / dt;
    const double alpha = 1.0 - std::exp(-dt / kRecentPowerTauS);
    recent_watts_ = recent_watts_ < 0 ? watts : recent_watts_ + alpha * (watts - recent_watts_);
  }
  failed_since_last_ = false;
  last_t_s_ = t_s;
  last_value_ = reading.value;
  return event;
}

}  // namespace joulebench::sampling
