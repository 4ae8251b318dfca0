// Torch-free orchestration (lives here because it drives the libtorch workloads).
#include "workloads/torch/training_measurement.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>

#include "joulebench/cluster/mpi_job.h"
#include "joulebench/load/power_signal.h"
#include "joulebench/load/steady_state_detector.h"
#include "joulebench/sampling/cpu_share.h"
#include "joulebench/units.h"

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

TrainingMeasurement MeasureTrainingSteps(MlmTrainer& trainer, const TrainingRunOptions& options,
                                         const RunMeter& meter, run::RunObserver& observer,
                                         const std::optional<GemmPeak>& gemm,
                                         run::RunRecord& record) {
  DataParallelGroup* const dp = options.data_parallel;
  const bool root = dp == nullptr || dp->rank() == 0;
  const std::int64_t ranks = dp != nullptr ? dp->size() : 1;
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
  if (options.energy_metrics) {
    AddEnergyPerUnitMetrics(record, energy, static_cast<double>(sequences), "energy_per_sequence");
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
  return {stopped, per_s, sequences, steps.size(), lost};
}

}  // namespace joulebench::workloads
