#include "joulebench/plan/training_prediction.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "joulebench/error.h"

namespace joulebench::plan {

TrainingPrediction PredictTrainingFromRun(const ResolvedRun& run, double observed_fraction,
                                          const TrainingRequest& request) {
  if (!(observed_fraction > 0 && observed_fraction <= 1)) {
    throw InputError(fmt::format("--observe: {} is outside (0, 1], e.g. 0.25", observed_fraction));
  }
  const auto intervals = IntervalsFromWindows(run.record.windows);
  if (intervals.size() < 2) {
    throw InputError(fmt::format("--predict-from: {} has {} time windows; a prediction needs at "
                                 "least 2 (run train for longer)",
                                 run.label, intervals.size()));
  }
  const std::size_t observed = std::clamp<std::size_t>(
      static_cast<std::size_t>(std::ceil(observed_fraction * intervals.size())), 2,
      intervals.size());
  std::span<const ProgressInterval> first(intervals.data(), observed);

  TrainingPrediction p;
  p.run_label = run.label;
  p.observed_fraction = static_cast<double>(observed) / static_cast<double>(intervals.size());
  double total_work = 0;
  double total_s = 0;
  double total_j = 0;
  for (const auto& i : intervals) {
    total_work += i.work;
    total_s += i.duration_s;
    total_j += i.joules;
  }
  p.run = PredictRun(first, total_work);
  if (run.record.status == run::RunStatus::kComplete) {
    p.check = CheckPrediction(p.run, total_s, total_j);
  }
  const double per_machine_work =
      request.total_sequences / (request.instances * request.scaling_efficiency.value);
  p.cluster = ScaleToCluster(PredictRun(first, std::max(per_machine_work, p.run.observed_work)),
                             request.instances);
  return p;
}

}  // namespace joulebench::plan
