// Turns one domain's readings into cumulative joules: counters are differenced with
// wrap-around correction, gauges integrated with the trapezoid rule. An interval whose energy
// is not measured (after failed reads of a gauge, a counter that went back by more than a wrap
// allows) adds nothing: the caller records it as a gap.
#pragma once

#include "joulebench/energy/source.h"

namespace joulebench::sampling {

// What happened while adding one reading, for the sampler's gaps and warnings.
struct IntegrationEvent {
  // Counters: wraps added beyond the one a decreasing value shows, estimated from the gap's
  // length times the recent power (or the domain's max_watts when no power is known yet).
  long long extra_wraps = 0;
  double gap_s = 0;
  double assumed_watts = 0;
  // The interval from the last good reading (at dropped_from_s) to this one is not counted.
  bool dropped = false;
  double dropped_from_s = 0;
  // Why it was dropped, when not because of failed reads of a sensor that cannot bridge them:
  // a counter without a known range went backwards (driver reload), or a counter with a range
  // went back by `jump_joules`, more than a wrap allows (the energy a wrap implies is beyond
  // any plausible power).
  bool counter_reset = false;
  bool implausible_jump = false;
  double jump_joules = 0;
  // This is the first good reading after failed ones.
  bool after_failed_reads = false;
};

class DomainIntegrator {
 public:
  explicit DomainIntegrator(const energy::DomainInfo& domain);

  // Adds a reading taken at t_s (seconds, increasing). A reading with ok=false adds nothing;
  // the next good one covers the gap when the domain is a counter that counts through gaps
  // (and its difference is plausible), else that interval is dropped. No allocation.
  IntegrationEvent Add(double t_s, const energy::Reading& reading);

  double joules() const { return joules_; }
  // Time-weighted recent power (about the last second), or a negative value before two
  // good readings.
  double recent_watts() const { return recent_watts_; }
  // Whether a good reading was added yet, and the time of the last one.
  bool has_reading() const { return has_last_; }
  double last_good_s() const { return last_t_s_; }

 private:
  energy::SignalKind signal_;
  double range_joules_;
  double max_watts_;
  bool counts_through_gaps_;
  bool has_last_ = false;
  bool failed_since_last_ = false;
  double last_t_s_ = 0;
  double last_value_ = 0;
  double joules_ = 0;
  double recent_watts_ = -1;
};

}  // namespace joulebench::sampling
