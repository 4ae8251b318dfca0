// `plan train --predict-from RUN.json`: predicts a train run from its first part, checks the
// prediction against the finished run, and projects the planned cluster run (e.g. 450M
// sequences on 16 instances) with the same uncertainty.
#pragma once

#include <optional>
#include <string>

#include "joulebench/plan/run_prediction.h"
#include "joulebench/plan/run_resolver.h"
#include "joulebench/plan/training_plan.h"

namespace joulebench::plan {

struct TrainingPrediction {
  std::string run_label;
  double observed_fraction = 0;   // of the run's windows used for the prediction
  RunPrediction run;              // the run's own total work, from its first part
  std::optional<PredictionCheck> check;  // against the finished run (when it completed)
  RunPrediction cluster;          // request.total_sequences on request.instances machines
};

// Uses the first `observed_fraction` (0, 1] of the run's windows (at least 2). When the
// fraction is 1 the prediction is the run itself. Throws InputError when the run has fewer
// than 2 windows or no work.
TrainingPrediction PredictTrainingFromRun(const ResolvedRun& run, double observed_fraction,
                                          const TrainingRequest& request);

}  // namespace joulebench::plan
