// Plans as a terminal table, JSON (schema in docs/planner.md) and CSV. Every number has its
// unit; every input its provenance (measured run, catalog entry, or given).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "joulebench/plan/inference_plan.h"
#include "joulebench/plan/training_plan.h"
#include "joulebench/plan/training_prediction.h"

namespace joulebench::plan {

// Version tags of the JSON documents (the "schema" field).
inline constexpr const char* kInferencePlanSchema = "joulebench.plan.infer/1";
inline constexpr const char* kTrainingPlanSchema = "joulebench.plan.train/1";

std::string RenderTable(const InferencePlan& plan);
nlohmann::json ToJson(const InferencePlan& plan);
std::string ToCsv(const InferencePlan& plan);  // one row per candidate, header first

std::string RenderTable(const TrainingPlan& plan,
                        const std::optional<TrainingPrediction>& prediction = std::nullopt);
nlohmann::json ToJson(const TrainingPlan& plan,
                      const std::optional<TrainingPrediction>& prediction = std::nullopt);
std::string ToCsv(const TrainingPlan& plan);

}  // namespace joulebench::plan
