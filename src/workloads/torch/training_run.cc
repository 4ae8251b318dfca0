// Torch-free orchestration (lives here because it drives the libtorch workloads).
#include "joulebench/workloads/training_run.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>

#include "joulebench/cluster/mpi_job.h"
#include "joulebench/error.h"
#include "joulebench/load/power_signal.h"
#include "joulebench/load/steady_state_detector.h"
#include "joulebench/sampling/cpu_share.h"
#include "joulebench/units.h"
#include "joulebench/workloads/gemm_peak.h"
#include "workloads/torch/run_metrics.h"

namespace joulebench::workloads {
namespace {

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const auto hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (rank - static_cast<double>(lo));
}

// What the ranks of a data-parallel run agree on after each step (bitwise OR).
enum AgreeBits : std::uint32_t {
  kStop = 1,            // some rank was asked to stop
  kSteady = 2,          // rank 0: steady state reached; the next step begins the measurement
  kWarmupTimedOut = 4,  // rank 0: no steady state within max_warmup
  kDone = 8,            // rank 0: the measured time is over
};

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

}  // namespace

void AddTrainingEnergyMetrics(run::RunRecord& record, const sampling::EnergyReport& energy,
                              double sequences, double projected_sequences) {
  AddEnergyPerUnitMetrics(record, energy, sequences, "energy_per_sequence");
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
  const bool root = dp == nullptr || dp->rank() == 0;
  const std::int64_t ranks = dp != nullptr ? dp->size() : 1;
  TrainOptions train = options.train;
  train.data_parallel = dp;
  MlmTrainer trainer(config, train);

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
  const load::PowerSignal& power = meter.power_signal();
  observer.OnPhase("warm-up", std::nullopt);
  bool stopped = false;
  double last_partial_s = 0;

  load::SteadyStateDetector detector({.windows = options.steady_windows,
                                      .band_relative = options.steady_band_relative,
                                      .drift_relative = options.steady_drift_relative});
  struct StepRecord {
    double begin_s, end_s, loss;
    std::int64_t sequences;  // every rank's
    double cpu_begin_s = 0;  // data-parallel: this process's CPU time at the step's begin
    std::optional<double> busy_begin_s;  // and the machine's busy CPU time
  };
  std::vector<StepRecord> steps;
  const double run_begin = load::SteadyNowSeconds();
  std::optional<std::size_t> first_measured;  // index of the first measured step
  const double max_warmup_s = std::chrono::duration<double>(options.max_warmup).count();
  const double duration_s = std::chrono::duration<double>(options.duration).count();
  const double window_s = std::chrono::duration<double>(options.window).count();
  bool warmup_timed_out = false;
  double window_begin = 0;            // first step of the open window
  std::int64_t window_sequences = 0;  // sequences of the open window's steps
  std::optional<std::string> lost;    // a rank stopped taking part
  for (;;) {
    const double begin = load::SteadyNowSeconds();
    StepRecord record_step{begin, begin, 0, 0, 0, std::nullopt};
    if (dp != nullptr) {
      record_step.cpu_begin_s = ProcessCpuSeconds();
      if (const auto t = sampling::ReadMachineCpuTimes(options.sources.procfs_root)) {
        record_step.busy_begin_s = t->busy_s;
      }
    }
    TrainStep step;
    try {
      step = trainer.Step();
    } catch (const cluster::RankLostError& e) {
      if (steps.empty()) throw;
      lost = e.what();
      stopped = true;
      break;
    }
    const double end = load::SteadyNowSeconds();
    record_step.end_s = end;
    record_step.loss = step.loss;
    record_step.sequences = step.sequences * ranks;
    steps.push_back(record_step);
    if (window_sequences == 0) window_begin = begin;
    window_sequences += record_step.sequences;
    std::uint32_t bits = 0;
    if (end - window_begin >= window_s) {
      const double watts = power ? power.mean_watts(window_begin, end) : std::nan("");
      run::WindowSample w;
      w.begin_s = window_begin - run_begin;
      w.end_s = end - run_begin;
      w.throughput_per_s = static_cast<double>(window_sequences) / (end - window_begin);
      w.watts = std::isnan(watts) ? 0 : watts;
      record.windows.push_back(w);
      window_sequences = 0;
      if (root && !first_measured && detector.AddWindow(w.throughput_per_s, watts)) {
        bits |= kSteady;
        record.steady_state_at_s = end - run_begin;
        record.steady_state_criterion = detector.Criterion(w.end_s - w.begin_s);
      }
      observer.OnProgress(w.throughput_per_s, w.watts);
    }
    if (end - last_partial_s >= 1.0) {  // the windows so far, persisted about once a second
      observer.OnPartial(record);
      last_partial_s = end;
    }
    if (observer.StopRequested()) bits |= kStop;
    if (root && !first_measured && !(bits & kSteady) && end - run_begin > max_warmup_s) {
      bits |= kWarmupTimedOut;
    }
    if (root && !options.steps && first_measured && *first_measured < steps.size() &&
        end - steps[*first_measured].begin_s >= duration_s) {
      bits |= kDone;
    }
    if (dp != nullptr) {
      try {
        bits = dp->AgreeOr(bits);
      } catch (const cluster::RankLostError& e) {
        lost = e.what();
        stopped = true;
        break;
      }
    }
    if ((bits & kSteady) && !first_measured) {
      first_measured = steps.size();
      observer.OnPhase("steady state reached, measuring",
                       options.steps ? std::nullopt : std::optional<double>(duration_s));
    }
    if (bits & kStop) {
      stopped = true;
      break;
    }
    if ((bits & kWarmupTimedOut) && !first_measured) {
      warmup_timed_out = true;
      first_measured = std::min<std::size_t>(2, steps.size());
    }
    if (options.steps) {
      if (static_cast<std::int64_t>(steps.size()) >= *options.steps) break;
    } else if (bits & kDone) {
      break;
    }
  }
  if (!first_measured || *first_measured >= steps.size()) {
    // Too few steps to see steady state: measure all but the first (or the only) step.
    warmup_timed_out = !first_measured;
    first_measured = steps.size() > 1 ? 1 : 0;
    record.verdict_reasons.push_back(fmt::format(
        "steady state not reached in {} step(s); the measurement includes warm-up", steps.size()));
  } else if (warmup_timed_out) {
    record.verdict_reasons.push_back(
        fmt::format("steady state not reached within {} ({}); the first steps were dropped instead",
                    FormatDuration(max_warmup_s), detector.last_reason()));
  }
  if (!record.steady_state_at_s) {
    record.steady_state_at_s = steps[*first_measured].begin_s - run_begin;
    record.steady_state_criterion = "not reached; dropped the first step(s)";
  }
  record.verdict = record.verdict_reasons.empty() ? "VALID" : "INVALID";

  std::vector<double> step_s;
  std::int64_t sequences = 0;
  double loss_sum = 0;
  for (std::size_t i = *first_measured; i < steps.size(); ++i) {
    step_s.push_back(steps[i].end_s - steps[i].begin_s);
    sequences += steps[i].sequences;
    loss_sum += steps[i].loss;
  }
  const double begin = steps[*first_measured].begin_s;
  const double end = steps.back().end_s;
  const double measured_s = end - begin;
  sampling::EnergyReport energy = meter.Report(begin, end);
  energy.name = "measurement";
  const double per_s = static_cast<double>(sequences) / measured_s;
  const std::string timed = "measured: wall time of the measured optimizer steps";
  AddMetric(record, "sequences_per_s", per_s, "1/s", timed);
  AddMetric(record, "sequences_per_hour", per_s * 3600, "1/h", timed);
  AddMetric(record, "measured_steps", static_cast<double>(step_s.size()), "1", timed);
  AddMetric(record, "measured_sequences", static_cast<double>(sequences), "1", timed);
  AddMetric(record, "measured_duration", measured_s, "s", timed);
  AddMetric(record, "step_time_mean", measured_s / static_cast<double>(step_s.size()), "s", timed);
  AddMetric(record, "step_time_min", Percentile(step_s, 0), "s", timed);
  AddMetric(record, "step_time_p50", Percentile(step_s, 50), "s", timed);
  AddMetric(record, "step_time_p90", Percentile(step_s, 90), "s", timed);
  AddMetric(record, "step_time_p99", Percentile(step_s, 99), "s", timed);
  AddMetric(record, "step_time_max", Percentile(step_s, 100), "s", timed);
  const std::string loss_provenance = "measured: MLM cross-entropy on the synthetic stream";
  AddMetric(record, "loss_first_step", steps.front().loss, "nat", loss_provenance);
  AddMetric(record, "loss_measured_mean", loss_sum / static_cast<double>(step_s.size()), "nat",
            loss_provenance);
  AddMetric(record, "loss_last_step", steps.back().loss, "nat", loss_provenance);
  const double flops_per_sequence =
      trainer.FlopsPerStep() / static_cast<double>(trainer.sequences_per_step());
  AddFlopsMetrics(record, per_s * flops_per_sequence, flops_per_sequence, "sequence", gemm);

  // The naive projection: this one machine (or this job) at its measured rate for the whole
  // run.
  const double n = options.projected_sequences;
  const std::string projected =
      fmt::format("projected: {:.4g} sequences / measured rate on this {}", n,
                  ranks > 1 ? fmt::format("job of {} ranks", ranks) : std::string("one machine"));
  AddMetric(record, "projected_sequences", n, "1", "given: --sequences");
  AddMetric(record, "projected_time", n / per_s, "s", projected);
  if (options.energy_metrics) {
    AddTrainingEnergyMetrics(record, energy, static_cast<double>(sequences), n);
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
  if (dp != nullptr) {
    const StepRecord& first = steps[*first_measured];
    const std::string cpu = "measured: CLOCK_PROCESS_CPUTIME_ID over the measured steps";
    AddMetric(record, "rank_cpu_time", ProcessCpuSeconds() - first.cpu_begin_s, "s", cpu);
    const auto busy = sampling::ReadMachineCpuTimes(options.sources.procfs_root);
    if (busy && first.busy_begin_s) {
      AddMetric(record, "machine_busy_cpu_time", busy->busy_s - *first.busy_begin_s, "s",
                fmt::format("measured: {}/stat busy time over the measured steps",
                            options.sources.procfs_root.string()));
    }
  }
  record.energy.push_back(std::move(energy));
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
      {"steps_run", steps.size()},
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
