// The measured part of `train`: optimizer steps until steady state, then the measurement,
// with metrics and the energy report (internal; torch-free). `tune train` runs it for each
// probe on its one meter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "joulebench/run/run_observer.h"
#include "joulebench/run/run_record.h"
#include "joulebench/workloads/gemm_peak.h"
#include "joulebench/workloads/mlm_trainer.h"
#include "joulebench/workloads/training_run.h"
#include "workloads/torch/run_metrics.h"

namespace joulebench::workloads {

struct TrainingMeasurement {
  bool stopped = false;  // the observer asked to stop: the record is partial
  double sequences_per_s = 0;
  std::int64_t sequences = 0;  // measured sequences
  std::size_t steps_run = 0;   // warm-up included
  std::optional<std::string> lost;  // data-parallel: why a rank stopped taking part
};

// Steps `trainer` per options (window, steady state, duration or steps, longest warm-up) on
// `meter`, and fills `record`: windows, steady state, verdict (INVALID when steady state was not
// reached), step-time, loss, energy-per-sequence and FLOP metrics, and appends the energy report
// "measurement" (energy per sequence only with options.energy_metrics: a multi-node job
// reports its nodes' sum instead). With options.data_parallel the ranks agree after every step
// on steady state, the end and a stop; a lost rank ends the loop (TrainingMeasurement::lost).
TrainingMeasurement MeasureTrainingSteps(MlmTrainer& trainer, const TrainingRunOptions& options,
                                         const RunMeter& meter, run::RunObserver& observer,
                                         const std::optional<GemmPeak>& gemm,
                                         run::RunRecord& record);

}  // namespace joulebench::workloads
