// `joulebench train` as a library function: BERT MLM pretraining steps, metered, until the
// step rate and power are steady, then a measured part; the result is a run record with
// sequences per second and per hour, step times, loss, energy per sequence, FLOP/s, and the
// naive single-machine projection for a number of sequences.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "joulebench/energy/source.h"
#include "joulebench/run/run_observer.h"
#include "joulebench/run/run_record.h"
#include "joulebench/sampling/meter.h"
#include "joulebench/workloads/data_parallel.h"
#include "joulebench/workloads/mlm_trainer.h"

namespace joulebench::workloads {

struct TrainingRunOptions {
  std::string model = "bert-large";  // a built-in model; LayoutLM trains its MLM head on text
  TrainOptions train;
  // Stop rule: measured time after steady state (default 30 s), or a total number of steps.
  std::chrono::nanoseconds duration = std::chrono::seconds(30);
  std::optional<std::int64_t> steps;
  // Steady state is judged on windows of whole optimizer steps, each lasting at least
  // `window` (default 5 s): a single step's time jitters by several per cent (allocation,
  // the sampler, the other processes of the machine), a window of several steps much less.
  // Steady: the last `steady_windows` windows' sequences/s (and power, when measured) within
  // +-band of their mean and drifting <= drift; at most max_warmup of waiting, after which
  // the first two steps are dropped and the run is marked INVALID.
  std::chrono::nanoseconds window = std::chrono::seconds(5);
  int steady_windows = 3;
  double steady_band_relative = 0.05;
  double steady_drift_relative = 0.03;
  std::chrono::nanoseconds max_warmup = std::chrono::seconds(120);
  double projected_sequences = 450e6;  // the study's BERT-Large pretraining run
  std::optional<std::chrono::nanoseconds> baseline;
  energy::SourceOptions sources;
  sampling::MeterOptions meter;
  std::chrono::nanoseconds gemm_peak_duration = std::chrono::seconds(1);  // 0 = skip
  // Told about the run as it happens (storing, progress, stop requests); nullptr = none.
  // A stop request ends the run after the current step with status incomplete.
  run::RunObserver* observer = nullptr;
  // Data-parallel training with other ranks (train --mpi; nullptr: alone). The trainer sums
  // gradients through it, and the ranks agree after every step on when the measurement
  // begins and when the run stops: rank 0's steady state and stop rule, any rank's stop
  // request. Throughput counts every rank's sequences. A rank that stops taking part ends the
  // run as incomplete. Adds the metrics rank_cpu_time (this process) and
  // machine_busy_cpu_time (procfs stat) over the measured steps, for per-rank attribution.
  DataParallelGroup* data_parallel = nullptr;
  // Adds the energy figures of this process's meter (AddTrainingEnergyMetrics). A multi-node
  // run turns this off and adds them from the sum of its nodes instead.
  bool energy_metrics = true;
};

// Throws InputError / EnvironmentError before anything runs when options or device are bad.
run::RunRecord RunTraining(const TrainingRunOptions& options);

// The energy figures of a train record: mean power and energy of the measurement, energy per
// sequence (total, attributable, per domain), and the projected energy of
// `projected_sequences` at that energy per sequence.
void AddTrainingEnergyMetrics(run::RunRecord& record, const sampling::EnergyReport& energy,
                              double sequences, double projected_sequences);

}  // namespace joulebench::workloads
