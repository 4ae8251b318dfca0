// Decides when a run has stopped drifting, from per-window throughput and (optionally)
// power. Both signals must pass two checks over the last k windows:
//   band:  every window within +-band_relative of the k windows' mean (noise is small);
//   drift: |mean(last floor(k/2)) - mean(first floor(k/2))| / mean <= drift_relative (no
//          slow trend: a drift of d per window changes the half means by about d*ceil(k/2),
//          so with k = 5 and 2 % a drift of 1 %/window is rejected even though every window
//          stays inside a 5 % band).
// A signal whose k windows are all zero (idle throughput) passes. Power NaN = no power
// signal: throughput alone decides and the criterion says so.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace joulebench::load {

struct SteadyStateOptions {
  int windows = 5;               // k, >= 2
  double band_relative = 0.05;   // > 0
  double drift_relative = 0.02;  // > 0
  bool use_throughput = true;    // false for an idle (0 %) load level
  // Window length in seconds, for the counting-noise allowance of throughput: a window that
  // holds n completions of a Poisson stream varies by 1/sqrt(n) on its own, so the band
  // becomes max(band, 3/sqrt(n)) and the drift limit max(drift, 3*sqrt(2/(floor(k/2) n))).
  // 0 = no allowance (synthetic series).
  double window_s = 0;
};

class SteadyStateDetector {
 public:
  explicit SteadyStateDetector(SteadyStateOptions options);

  // Feeds one window; returns true once steady (and stays true until Reset). `watts` NaN
  // when there is no power signal.
  bool AddWindow(double throughput_per_s, double watts);
  bool steady() const { return steady_at_window_.has_value(); }
  // Index (0-based) of the window whose end made the run steady.
  std::optional<std::size_t> steady_at_window() const { return steady_at_window_; }
  std::size_t window_count() const { return throughput_.size(); }
  // Human sentence: which signals, k, band and drift, e.g. "throughput and power: last 5
  // windows of 1 s within +-5 % of their mean, half-to-half change <= 2 %". Describes the
  // criterion even before it is met.
  std::string Criterion(double window_s) const;
  // Why the last window did not make the run steady ("power drifts 3.1 %"); "" if steady.
  const std::string& last_reason() const { return last_reason_; }
  void Reset();

 private:
  bool SignalSteady(const std::vector<double>& series, const char* name, bool counts);

  SteadyStateOptions options_;
  std::vector<double> throughput_;
  std::vector<double> watts_;
  bool any_power_ = false;
  std::optional<std::size_t> steady_at_window_;
  std::string last_reason_;
};

}  // namespace joulebench::load
