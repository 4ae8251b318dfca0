// `joulebench study`: the published study, rerun on this machine. LayoutLM inference (peak
// rate under a latency bound, then power at partial load) and BERT pretraining steps, each to
// steady state after an idle baseline; then the study's two tables (instances, energy and cost
// for an SLA; time, energy and cost of a training run) with this machine next to the study's
// published candidates (marked "given: published study"), and the HTML report.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "joulebench/energy/source.h"
#include "joulebench/plan/inference_plan.h"
#include "joulebench/plan/training_plan.h"
#include "joulebench/run/run_observer.h"
#include "joulebench/run/run_record.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::workloads {

struct StudyOptions {
  // Small shapes and short windows: a few minutes on a 2-core machine without a GPU.
  // Full: layoutlm-base at 512 tokens and bert-large at 128 tokens, as in the study.
  bool quick = false;
  double sla_per_s = 1e6 / 3600;      // the study's 1,000,000 inferences per hour
  std::chrono::nanoseconds latency_bound = std::chrono::seconds(1);  // p99, server scenario
  std::optional<std::string> instance_type;      // this machine in the catalog (price, power)
  std::optional<double> price_usd_per_hour;      // this machine's price, when not in the catalog
  std::string region = "us-east-1";              // grid intensity
  std::optional<double> pue;                     // default: the catalog's AWS PUE
  // The study's published candidates and request (data/examples/study.toml by default).
  std::filesystem::path published_inputs;
  // Overrides of the models and shapes chosen by `quick` (for tests and experiments).
  std::optional<std::string> inference_model;
  std::optional<std::string> training_model;
  std::optional<std::int64_t> inference_seq_len;
  std::optional<std::int64_t> training_seq_len;
  std::optional<std::chrono::nanoseconds> measure_duration;  // per measured part
  std::optional<std::chrono::nanoseconds> baseline;          // idle power before each run
  int threads = 0;                  // libtorch intra-op threads; 0 = every core
  std::string device = "cpu";
  energy::SourceOptions sources;
  sampling::MeterOptions meter;
  // Observers of the two runs (storing, progress, stop on signals); may be null.
  run::RunObserver* inference_observer = nullptr;
  run::RunObserver* training_observer = nullptr;
};

struct StudyResult {
  run::RunRecord inference;
  run::RunRecord training;
  plan::InferencePlan inference_plan;
  plan::TrainingPlan training_plan;
  std::string notes;  // what the tables rest on (shapes, validity of the runs)
};

// Runs both workloads and plans. Throws InputError / EnvironmentError before measuring when
// the options cannot work; INVALID runs are results (the tables say so).
StudyResult RunStudy(const StudyOptions& options);

}  // namespace joulebench::workloads
