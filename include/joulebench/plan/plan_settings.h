// The inputs of `plan infer` and `plan train` as a user writes them (command-line flags, a TOML
// plan file, keyword arguments of the Python binding) and the plans they give. Values stay text
// until here, so that every front end gets the same one-line errors, which name a setting by its
// flag ("--sla: required; ...").
//
//   plan::PlanSettings s;
//   s.config = "data/examples/study.toml";
//   s.Set("region", "eu-west-1");
//   plan::InferencePlan p = plan::PlanInferenceFromSettings(std::move(s));
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/plan/candidate_spec.h"
#include "joulebench/plan/inference_plan.h"
#include "joulebench/plan/training_plan.h"
#include "joulebench/plan/training_prediction.h"

namespace joulebench::plan {

struct PlanSettings {
  // Setting (the flag's name without "--": "sla", "grid-intensity", ...) -> its value as text.
  std::map<std::string, std::string> values;
  // Setting -> where it was given, shown as the provenance of given figures ("--pue",
  // "study.toml [infer] pue"). A setting without one is shown as its flag.
  std::map<std::string, std::string> origins;
  // Candidates; when any are given they replace the plan file's.
  std::vector<CandidateSpec> candidates;
  // CSV files adding or overriding machine types (after a plan file's own `catalog`).
  std::vector<std::string> catalogs;
  // A TOML plan file (plan_file.h): its [infer] or [train] section fills the settings not given.
  std::string config;

  // values[name] = value, origins[name] = origin (default: the flag, "--" + name).
  void Set(const std::string& name, std::string value, std::string origin = "");
};

// The settings each planner reads besides candidates, catalogs and config: the flags of
// `plan infer` / `plan train` without "--" (and "catalog", which only a plan file may hold).
const std::vector<std::string>& InferenceSettingNames();
const std::vector<std::string>& TrainingSettingNames();

// Reads the plan file (when set), resolves the candidates against the catalog, the run store
// (through the lookup registered with RegisterRunLookup) and the given figures, and plans.
// Throws InputError naming the setting, file or candidate at fault; EnvironmentError when the
// data files are missing.
InferencePlan PlanInferenceFromSettings(PlanSettings settings);

struct TrainingPlanOutcome {
  TrainingPlan plan;
  std::optional<TrainingPrediction> prediction;  // with the setting "predict-from"
};
TrainingPlanOutcome PlanTrainingFromSettings(PlanSettings settings);

}  // namespace joulebench::plan
