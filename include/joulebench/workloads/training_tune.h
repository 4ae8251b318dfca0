// `joulebench tune train` as a library function: the training configuration (batch size,
// intra-op threads, dtype) that uses the least energy per sequence, optionally only among those
// fast enough to train a given number of sequences within a time budget on this machine. Each
// probe is a metered stretch of MLM pretraining steps through the same code as `train`
// (steady state, then a measured part), on one sampler for the whole search; the search is
// tune/search.h's. The result is a run record of kind "tune" (config.tune.mode "train") whose
// metrics are the chosen configuration's, as `plan train` reads them from `run=ID`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/run/run_record.h"
#include "joulebench/tune/search.h"
#include "joulebench/workloads/training_run.h"

namespace joulebench::workloads {

struct TrainingTuneOptions {
  // Model, sequence length, device / seed / weights / linear kernel (base.train), sequences of
  // the whole run (base.projected_sequences), sources, meter, baseline, observer. Batch,
  // threads and dtype are the search's.
  TrainingRunOptions base;
  // VALID only when base.projected_sequences / measured sequences per second fits in it.
  std::optional<std::chrono::nanoseconds> time_budget;
  // Values of each knob; empty = defaults: batches 2, 4, 8, 16 (default 8, as `train`);
  // threads 1, 2, 4... up to the CPUs; dtypes fp32 and bf16 (where native).
  std::vector<std::int64_t> batches;
  std::vector<int> threads;
  std::vector<std::string> dtypes;
  tune::SearchSettings search;
  // Measured part of a rung-0 probe (rung r: times eta^r), its windows of whole steps, the
  // steady-state test and its longest wait.
  std::chrono::nanoseconds probe_duration = std::chrono::seconds(10);
  std::chrono::nanoseconds probe_window = std::chrono::seconds(2);
  int probe_steady_windows = 3;
  std::chrono::nanoseconds probe_max_warmup = std::chrono::seconds(40);
  std::string procfs_root = "/proc";
};

// Throws InputError / EnvironmentError before measuring when options, model or device are bad.
run::RunRecord RunTrainingTune(const TrainingTuneOptions& options);

// "fp32 t2 b8".
std::string TrainingConfigurationName(const tune::Configuration& config);

}  // namespace joulebench::workloads
