#include "joulebench/plan/run_prediction.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "joulebench/error.h"

namespace joulebench::plan {
namespace {

constexpr std::size_t kMaxBatches = 10;

struct RatioEstimate {
  double mean = 0;            // sum(numerator) / sum(work)
  double standard_error = 0;  // from batch means
};

// Ratio of sums with its batch-means standard error.
RatioEstimate Ratio(std::span<const ProgressInterval> intervals, std::size_t batches,
                    double ProgressInterval::*numerator) {
  double total_num = 0;
  double total_work = 0;
  for (const auto& i : intervals) {
    total_num += i.*numerator;
    total_work += i.work;
  }
  RatioEstimate r;
  r.mean = total_num / total_work;
  std::vector<double> batch_ratios;
  const std::size_t n = intervals.size();
  double num = 0;
  double work = 0;
  double last_num = 0;
  double last_work = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    for (std::size_t k = b * n / batches; k < (b + 1) * n / batches; ++k) {
      num += intervals[k].*numerator;
      work += intervals[k].work;
    }
    // A batch without work (a stall) joins the next one, so stalls widen the interval
    // instead of being dropped.
    if (work > 0) {
      batch_ratios.push_back(num / work);
      last_num = num;
      last_work = work;
      num = 0;
      work = 0;
    }
  }
  if (num > 0 && !batch_ratios.empty()) batch_ratios.back() = (last_num + num) / last_work;
  if (batch_ratios.size() >= 2) {
    double sum_sq = 0;
    for (double x : batch_ratios) sum_sq += (x - r.mean) * (x - r.mean);
    const double variance = sum_sq / static_cast<double>(batch_ratios.size() - 1);
    r.standard_error = std::sqrt(variance / static_cast<double>(batch_ratios.size()));
  }
  return r;
}

}  // namespace

double StudentT975(std::size_t dof) {
  // Two-sided 95 % quantiles of Student's t (any statistics table, e.g. NIST/SEMATECH
  // e-Handbook 1.3.6.7.2).
  static constexpr std::array<double, 30> kTable{
      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
      2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
      2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof == 0) return kTable[0];
  if (dof <= kTable.size()) return kTable[dof - 1];
  return 1.960;
}

RunPrediction PredictRun(std::span<const ProgressInterval> observed, double target_work) {
  if (observed.size() < 2) {
    throw InputError(fmt::format(
        "prediction needs at least 2 observed steps or windows (got {}); observe longer",
        observed.size()));
  }
  RunPrediction p;
  for (const auto& i : observed) {
    if (!(i.duration_s > 0) || !(i.work >= 0) || !(i.joules >= 0)) {
      throw InputError("prediction: every observed interval needs a positive duration and "
                       "non-negative work and energy");
    }
    p.observed_duration_s += i.duration_s;
    p.observed_work += i.work;
    p.observed_joules += i.joules;
  }
  if (!(p.observed_work > 0)) {
    throw InputError("prediction: no work (sequences) was done in the observed part");
  }
  if (!(target_work >= p.observed_work * (1 - 1e-9))) {
    throw InputError(fmt::format(
        "prediction: the whole run's work {} is less than the work already observed {}",
        target_work, p.observed_work));
  }
  p.intervals_observed = observed.size();
  p.batches = std::min(kMaxBatches, observed.size());
  p.target_work = target_work;
  const RatioEstimate seconds = Ratio(observed, p.batches, &ProgressInterval::duration_s);
  const RatioEstimate joules = Ratio(observed, p.batches, &ProgressInterval::joules);
  const double t = StudentT975(p.batches - 1);
  const double remaining = std::max(0.0, target_work - p.observed_work);

  p.duration_s.value = p.observed_duration_s + remaining * seconds.mean;
  p.duration_s.low = p.observed_duration_s + remaining * std::max(0.0, seconds.mean -
                                                                        t * seconds.standard_error);
  p.duration_s.high = p.observed_duration_s + remaining * (seconds.mean + t * seconds.standard_error);
  p.joules.value = p.observed_joules + remaining * joules.mean;
  p.joules.low =
      p.observed_joules + remaining * std::max(0.0, joules.mean - t * joules.standard_error);
  p.joules.high = p.observed_joules + remaining * (joules.mean + t * joules.standard_error);

  p.work_per_s.value = p.observed_work / p.observed_duration_s;
  p.work_per_s.low = seconds.mean + t * seconds.standard_error > 0
                         ? 1.0 / (seconds.mean + t * seconds.standard_error)
                         : 0;
  const double fast = seconds.mean - t * seconds.standard_error;
  p.work_per_s.high = fast > 0 ? 1.0 / fast : INFINITY;
  p.watts.value = p.observed_joules / p.observed_duration_s;
  // Power's interval follows from the two ratio intervals' centre: J per work over s per work.
  const double watts_se_rel = std::hypot(joules.standard_error / std::max(joules.mean, 1e-300),
                                         seconds.standard_error / seconds.mean);
  p.watts.low = p.watts.value * std::max(0.0, 1 - t * watts_se_rel);
  p.watts.high = p.watts.value * (1 + t * watts_se_rel);
  return p;
}

RunPrediction ScaleToCluster(const RunPrediction& one_machine, int instances) {
  RunPrediction p = one_machine;
  const double n = instances;
  p.joules.value *= n;
  p.joules.low *= n;
  p.joules.high *= n;
  p.observed_joules *= n;
  p.observed_work *= n;
  p.target_work *= n;
  p.watts.value *= n;
  p.watts.low *= n;
  p.watts.high *= n;
  p.work_per_s.value *= n;
  p.work_per_s.low *= n;
  p.work_per_s.high *= n;
  return p;
}

PredictionCheck CheckPrediction(const RunPrediction& prediction, double actual_duration_s,
                                double actual_joules) {
  PredictionCheck c;
  c.actual_duration_s = actual_duration_s;
  c.actual_joules = actual_joules;
  c.duration_error_percent = (prediction.duration_s.value - actual_duration_s) /
                             actual_duration_s * 100;
  c.joules_error_percent = actual_joules > 0
                               ? (prediction.joules.value - actual_joules) / actual_joules * 100
                               : NAN;
  c.duration_within_interval = actual_duration_s >= prediction.duration_s.low &&
                               actual_duration_s <= prediction.duration_s.high;
  c.joules_within_interval =
      actual_joules >= prediction.joules.low && actual_joules <= prediction.joules.high;
  return c;
}

std::vector<ProgressInterval> IntervalsFromWindows(const std::vector<run::WindowSample>& windows) {
  std::vector<ProgressInterval> intervals;
  for (const auto& w : windows) {
    const double d = w.end_s - w.begin_s;
    if (!(d > 0)) continue;
    intervals.push_back(ProgressInterval{d, w.throughput_per_s * d, w.watts * d});
  }
  return intervals;
}

}  // namespace joulebench::plan
