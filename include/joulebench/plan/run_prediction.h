// Predicting a whole training run from its first steps, as Carbontracker does (Anthony et al.
// 2020, which extrapolates the first epoch linearly), with an uncertainty interval from the
// variance observed so far.
//
// Input: consecutive intervals of the run (training steps, or fixed time windows), each with
// its duration, the work done (sequences) and the energy used. The time and energy per unit of
// work are ratio estimates (sum of seconds / sum of work); their standard errors come from
// batch means (the intervals split into up to 10 contiguous batches, which keeps the estimate
// honest when neighbouring steps are correlated). The remaining work is extrapolated:
//
//   predicted time    = observed time + remaining work x seconds per unit of work
//   interval (95 %)   = predicted time -/+ remaining work x t(0.975, batches-1) x standard error
//
// and the same for energy. `train` may call this while it runs (the workloads), and
// `plan train --predict-from RUN.json` checks it against a finished run.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "joulebench/run/run_record.h"

namespace joulebench::plan {

struct ProgressInterval {
  double duration_s = 0;  // > 0
  double work = 0;        // units of work done in the interval (sequences), >= 0
  double joules = 0;      // energy used in the interval, >= 0
};

struct Estimate {
  double value = 0;
  double low = 0;   // lower end of the interval
  double high = 0;  // upper end
};

struct RunPrediction {
  std::size_t intervals_observed = 0;
  std::size_t batches = 0;          // batch means used for the standard errors
  double observed_duration_s = 0;
  double observed_work = 0;
  double observed_joules = 0;
  double target_work = 0;
  double confidence = 0.95;
  Estimate work_per_s;   // mean throughput over the observed part
  Estimate watts;        // mean power over the observed part
  Estimate duration_s;   // of the whole run, for target_work
  Estimate joules;       // of the whole run
};

// Throws InputError when fewer than 2 intervals are given, an interval has a non-positive
// duration or negative work or energy, no work was observed, or target_work is below the
// observed work.
RunPrediction PredictRun(std::span<const ProgressInterval> observed, double target_work);

// A one-machine prediction for the share of work each of `instances` identical machines does
// (the caller passes that share as target_work), turned into the cluster's: work, power and
// energy times `instances`; durations unchanged.
RunPrediction ScaleToCluster(const RunPrediction& one_machine, int instances);

struct PredictionCheck {
  double actual_duration_s = 0;
  double actual_joules = 0;
  double duration_error_percent = 0;  // (predicted - actual) / actual x 100
  double joules_error_percent = 0;
  bool duration_within_interval = false;
  bool joules_within_interval = false;
};

PredictionCheck CheckPrediction(const RunPrediction& prediction, double actual_duration_s,
                                double actual_joules);

// The windows of a run record as intervals: duration end-begin, work throughput x duration,
// energy watts x duration. Windows with a non-positive duration are skipped.
std::vector<ProgressInterval> IntervalsFromWindows(const std::vector<run::WindowSample>& windows);

// Two-sided Student t quantile for 95 % confidence at `dof` degrees of freedom (>= 1).
double StudentT975(std::size_t dof);

}  // namespace joulebench::plan
