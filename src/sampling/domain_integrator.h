// Turns one domain's readings into cumulative joules: counters are differenced with
// wrap-around correction, gauges integrated with the trapezoid rule.
#pragma once

#include "joulebench/energy/source.h"

namespace joulebench::sampling {

// What happened while adding one reading, for the sampler's warnings.
struct IntegrationEvent {
  // Counters: wraps added beyond the one a decreasing value shows, estimated from the gap's
  // length times the recent power (or the domain's max_watts when no power is known yet).
  long long extra_wraps = 0;
  double gap_s = 0;
  double assumed_watts = 0;
  // A counter without a known range went backwards (driver reload): that interval is dropped.
  bool counter_reset = false;
};

class DomainIntegrator {
 public:
  explicit DomainIntegrator(const energy::DomainInfo& domain);

  // Adds a reading taken at t_s (seconds, increasing). A reading with ok=false is ignored:
  // the next good one covers the gap. No allocation.
  IntegrationEvent Add(double t_s, const energy::Reading& reading);

  double joules() const { return joules_; }
  // Time-weighted recent power (about the last second), or a negative value before two
  // good readings.
  double recent_watts() const { return recent_watts_; }

 private:
  energy::SignalKind signal_;
  double range_joules_;
  double max_watts_;
  bool has_last_ = false;
  double last_t_s_ = 0;
  double last_value_ = 0;
  double joules_ = 0;
  double recent_watts_ = -1;
};

}  // namespace joulebench::sampling
