// Torch-free orchestration (lives here because it drives the libtorch workloads).
#include "joulebench/workloads/training_run.h"

#include <fmt/format.h>

#include "joulebench/error.h"
#include "joulebench/workloads/gemm_peak.h"
#include "workloads/torch/run_metrics.h"
#include "workloads/torch/training_measurement.h"

namespace joulebench::workloads {

run::RunRecord RunTraining(const TrainingRunOptions& options) {
  run::RunRecord record;
  record.kind = "train";
  record.name = options.model;
  const ModelConfig config = FindModel(options.model);
  if (options.steps && *options.steps < 1) throw InputError("--steps must be at least 1");
  if (options.steady_windows < 2) throw InputError("steady-state windows must be at least 2");
  if (options.window.count() <= 0) throw InputError("--window must be longer than 0 s");
  if (!(options.projected_sequences > 0)) throw InputError("--sequences must be > 0");
  MlmTrainer trainer(config, options.train);

  std::optional<GemmPeak> gemm;
  if (options.gemm_peak_duration.count() > 0) {
    gemm = MeasureGemmPeak({.torch = options.train.torch, .duration = options.gemm_peak_duration});
  }
  RunMeter meter(options.sources, options.meter);
  record.start_unix_s = meter.start_unix_s();
  run::RunObserver no_observer;
  run::RunObserver& observer = options.observer != nullptr ? *options.observer : no_observer;
  observer.OnBegin(record, meter.meter());
  if (options.baseline) {
    observer.OnPhase("baseline", std::chrono::duration<double>(*options.baseline).count());
    record.energy.push_back(meter.MeasureBaseline(*options.baseline));
  }
  const TrainingMeasurement measured =
      MeasureTrainingSteps(trainer, options, meter, observer, gemm, record);
  const bool stopped = measured.stopped;
  const double per_s = measured.sequences_per_s;
  const std::int64_t sequences = measured.sequences;
  const sampling::EnergyReport& energy = record.energy.back();

  // The naive projection: this one machine at its measured rate for the whole run.
  const double n = options.projected_sequences;
  const std::string projected =
      fmt::format("projected: {:.4g} sequences / measured rate on this one machine", n);
  AddMetric(record, "projected_sequences", n, "1", "given: --sequences");
  AddMetric(record, "projected_time", n / per_s, "s", projected);
  if (sequences > 0) {
    AddMetric(record, "projected_energy", energy.total_joules / static_cast<double>(sequences) * n,
              "J", projected + " x measured energy per sequence");
    if (energy.total_attributable_joules) {
      AddMetric(record, "projected_energy_attributable",
                *energy.total_attributable_joules / static_cast<double>(sequences) * n, "J",
                projected + " x attributable energy per sequence");
    }
  }
  const TrainOptions& t = trainer.options();
  record.config["workload"] = {
      {"model", options.model},
      {"seq_len", t.seq_len},
      {"batch", t.batch_size},
      {"grad_accum", t.grad_accum},
      {"learning_rate", t.learning_rate},
      {"weight_decay", t.weight_decay},
      {"warmup_steps", t.warmup_steps},
      {"masking", "15 % of word tokens; 80 % [MASK], 10 % random, 10 % kept"},
      {"steps_run", measured.steps_run},
  };
  AddTorchConfig(record, t.torch);
  record.status = stopped ? run::RunStatus::kIncomplete : run::RunStatus::kComplete;
  if (stopped)
    record.warnings.push_back("stopped on request (SIGINT/SIGTERM): results are partial");
  meter.Finish(record);
  observer.OnEnd(record);
  return record;
}

}  // namespace joulebench::workloads
