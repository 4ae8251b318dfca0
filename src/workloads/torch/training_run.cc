// Torch-free orchestration (lives here because it drives the libtorch workloads).
#include "joulebench/workloads/training_run.h"

#include <fmt/format.h>

#include "joulebench/cluster/mpi_job.h"
#include "joulebench/error.h"
#include "joulebench/units.h"
#include "joulebench/workloads/gemm_peak.h"
#include "workloads/torch/run_metrics.h"
#include "workloads/torch/training_measurement.h"

namespace joulebench::workloads {

namespace {

void AddProjectedTrainingEnergy(run::RunRecord& record, const sampling::EnergyReport& energy,
                                double sequences, double projected_sequences) {
  if (!(sequences > 0)) return;
  const std::string projected = fmt::format(
      "projected: {:.4g} sequences x measured energy per sequence", projected_sequences);
  AddMetric(record, "projected_energy", energy.total_joules / sequences * projected_sequences, "J",
            projected);
  if (energy.total_attributable_joules) {
    AddMetric(record, "projected_energy_attributable",
              *energy.total_attributable_joules / sequences * projected_sequences, "J",
              fmt::format("projected: {:.4g} sequences x attributable energy per sequence",
                          projected_sequences));
  }
}

}  // namespace

void AddTrainingEnergyMetrics(run::RunRecord& record, const sampling::EnergyReport& energy,
                              double sequences, double projected_sequences) {
  AddEnergyPerUnitMetrics(record, energy, sequences, "energy_per_sequence");
  AddProjectedTrainingEnergy(record, energy, sequences, projected_sequences);
}

run::RunRecord RunTraining(const TrainingRunOptions& options) {
  run::RunRecord record;
  record.kind = "train";
  record.name = options.model;
  const ModelConfig config = FindModel(options.model);
  if (options.steps && *options.steps < 1) throw InputError("--steps must be at least 1");
  if (options.steady_windows < 2) throw InputError("steady-state windows must be at least 2");
  if (options.window.count() <= 0) throw InputError("--window must be longer than 0 s");
  if (!(options.projected_sequences > 0)) throw InputError("--sequences must be > 0");
  DataParallelGroup* const dp = options.data_parallel;
  const std::int64_t ranks = dp != nullptr ? dp->size() : 1;
  TrainOptions train = options.train;
  train.data_parallel = dp;
  MlmTrainer trainer(config, train);

  std::optional<GemmPeak> gemm;
  if (options.gemm_peak_duration.count() > 0) {
    gemm = MeasureGemmPeak({.torch = options.train.torch, .duration = options.gemm_peak_duration});
  }
  RunMeter meter(options.sources, options.meter);
  run::RunObserver& observer = ObserverOrNone(options.observer);
  BeginMeteredRun(meter, record, observer, options.baseline);
  const TrainingMeasurement measured =
      MeasureTrainingSteps(trainer, options, meter, observer, gemm, record);
  const bool stopped = measured.stopped;
  const double per_s = measured.sequences_per_s;
  const std::int64_t sequences = measured.sequences;
  const std::optional<std::string>& lost = measured.lost;
  const sampling::EnergyReport& energy = record.energy.back();

  // The naive projection: this one machine (or this job) at its measured rate for the whole
  // run.
  const double n = options.projected_sequences;
  const std::string projected =
      fmt::format("projected: {:.4g} sequences / measured rate on this {}", n,
                  ranks > 1 ? fmt::format("job of {} ranks", ranks) : std::string("one machine"));
  AddMetric(record, "projected_sequences", n, "1", "given: --sequences");
  AddMetric(record, "projected_time", n / per_s, "s", projected);
  if (options.energy_metrics) {
    AddProjectedTrainingEnergy(record, energy, static_cast<double>(sequences), n);
  }
  if (dp != nullptr && dp->size() > 1 && !lost) {
    try {
      AddMetric(record, "replica_weight_difference", trainer.ReplicaWeightDifference(), "1",
                "measured: largest |weight - rank 0's weight| of each replica after the last "
                "step, summed over the ranks (0: identical replicas)");
    } catch (const cluster::RankLostError& e) {
      record.warnings.push_back(fmt::format("replicas not compared: {}", e.what()));
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
  if (dp != nullptr) {
    record.config["workload"]["data_parallel"] = {
        {"ranks", ranks},
        {"gradients", "summed over the ranks in fp32 before every optimizer step, then averaged"},
        {"data", "each rank its own documents (seed + 1000003 x rank)"},
    };
  }
  record.status = stopped ? run::RunStatus::kIncomplete : run::RunStatus::kComplete;
  if (lost) {
    record.warnings.push_back(fmt::format("{}: results are partial", *lost));
  } else if (stopped) {
    record.warnings.push_back("stopped on request (SIGINT/SIGTERM): results are partial");
  }
  meter.Finish(record);
  observer.OnEnd(record);
  return record;
}

}  // namespace joulebench::workloads
