#include "joulebench/load/steady_state_detector.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "joulebench/error.h"

namespace joulebench::load {

SteadyStateDetector::SteadyStateDetector(SteadyStateOptions options) : options_(options) {
  if (options_.windows < 2) throw InputError("steady state: the window count k must be >= 2");
  if (!(options_.band_relative > 0)) throw InputError("steady state: the band must be > 0");
  if (!(options_.drift_relative > 0)) throw InputError("steady state: the drift limit must be > 0");
}

void SteadyStateDetector::Reset() {
  throughput_.clear();
  watts_.clear();
  any_power_ = false;
  steady_at_window_.reset();
  last_reason_.clear();
}

bool SteadyStateDetector::SignalSteady(const std::vector<double>& series, const char* name,
                                       bool counts) {
  const auto k = static_cast<std::size_t>(options_.windows);
  const auto last = series.end() - static_cast<std::ptrdiff_t>(k);
  const double mean = std::accumulate(last, series.end(), 0.0) / static_cast<double>(k);
  const double largest = *std::max_element(
      last, series.end(), [](double a, double b) { return std::fabs(a) < std::fabs(b); });
  if (!std::isfinite(mean)) {
    last_reason_ = fmt::format("{} is not a finite number", name);
    return false;
  }
  if (largest == 0) return true;  // idle: all zero
  if (!(mean > 0)) {
    last_reason_ = fmt::format("{} mean is not positive", name);
    return false;
  }
  const std::size_t half = k / 2;
  double band = options_.band_relative;
  double drift_limit = options_.drift_relative;
  if (counts && options_.window_s > 0) {
    const double n = mean * options_.window_s;  // completions per window
    band = std::max(band, 3 / std::sqrt(n));
    drift_limit = std::max(drift_limit, 3 * std::sqrt(2 / (static_cast<double>(half) * n)));
  }
  double worst = 0;
  for (auto it = last; it != series.end(); ++it)
    worst = std::max(worst, std::fabs(*it - mean) / mean);
  if (worst > band) {
    last_reason_ =
        fmt::format("{} varies by {:.1f} % (band +-{:.1f} %)", name, worst * 100, band * 100);
    return false;
  }
  const double first = std::accumulate(last, last + static_cast<std::ptrdiff_t>(half), 0.0) /
                       static_cast<double>(half);
  const double second =
      std::accumulate(series.end() - static_cast<std::ptrdiff_t>(half), series.end(), 0.0) /
      static_cast<double>(half);
  const double drift = std::fabs(second - first) / mean;
  if (drift > drift_limit) {
    last_reason_ =
        fmt::format("{} drifts by {:.1f} % (limit {:.1f} %)", name, drift * 100, drift_limit * 100);
    return false;
  }
  return true;
}

bool SteadyStateDetector::AddWindow(double throughput_per_s, double watts) {
  throughput_.push_back(throughput_per_s);
  watts_.push_back(watts);
  if (!std::isnan(watts)) any_power_ = true;
  if (steady_at_window_) return true;
  const auto k = static_cast<std::size_t>(options_.windows);
  if (throughput_.size() < k) {
    last_reason_ = fmt::format("fewer than {} windows so far", k);
    return false;
  }
  if (options_.use_throughput && !SignalSteady(throughput_, "throughput", true)) return false;
  if (any_power_) {
    const bool all_power = std::none_of(watts_.end() - static_cast<std::ptrdiff_t>(k), watts_.end(),
                                        [](double w) { return std::isnan(w); });
    if (!all_power) {
      last_reason_ = "power missing in a recent window";
      return false;
    }
    if (!SignalSteady(watts_, "power", false)) return false;
  }
  last_reason_.clear();
  steady_at_window_ = throughput_.size() - 1;
  return true;
}

std::string SteadyStateDetector::Criterion(double window_s) const {
  std::string signals;
  if (options_.use_throughput && any_power_) {
    signals = "throughput and power";
  } else if (options_.use_throughput) {
    signals = "throughput (no power signal)";
  } else {
    signals = "power";
  }
  return fmt::format(
      "{}: last {} windows of {:g} s within +-{:g} % of their mean, half-to-half change <= {:g} "
      "%{}",
      signals, options_.windows, window_s, options_.band_relative * 100,
      options_.drift_relative * 100,
      options_.use_throughput && options_.window_s > 0
          ? " (throughput limits widened to 3 sigma of counting noise when windows hold few "
            "queries)"
          : "");
}

}  // namespace joulebench::load
