// Torch-free orchestration (lives here because it drives the libtorch workloads).
#include "workloads/torch/training_measurement.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

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

// This process's CPU time and the machine's (nullopt without PROCFS/stat) at one instant.
struct CpuTimes {
  double self_s = 0;
  std::optional<sampling::MachineCpuTimes> machine;
};

CpuTimes ReadCpuTimes(const std::filesystem::path& procfs_root) {
  return {ProcessCpuSeconds(), sampling::ReadMachineCpuTimes(procfs_root)};
}

// The share of every CPU's time between `from` and `to` that other processes used (machine
// busy time less this process's); nullopt when the machine's times are unknown or did not
// move.
std::optional<double> OtherProcessesShare(const CpuTimes& from, const CpuTimes& to) {
  if (!from.machine || !to.machine) return std::nullopt;
  const double total = to.machine->total_s - from.machine->total_s;
  if (!(total > 0)) return std::nullopt;
  const double busy = to.machine->busy_s - from.machine->busy_s;
  return std::clamp((busy - (to.self_s - from.self_s)) / total, 0.0, 1.0);
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
    CpuTimes cpu_begin;      // this process's and the machine's CPU time at the step's begin
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
  CpuTimes warmup_end;                // CPU times when the warm-up timed out
  for (;;) {
    // CPU times first: reading /proc/stat is not part of the step's time.
    CpuTimes cpu_begin = ReadCpuTimes(options.sources.procfs_root);
    const double begin = load::SteadyNowSeconds();
    StepRecord record_step{begin, begin, 0, 0, std::move(cpu_begin)};
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
      warmup_end = ReadCpuTimes(options.sources.procfs_root);
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
    // Other processes taking the cores is the usual cause of a rate that will not settle (a
    // 2-thread step waits for its slower thread): say so when it was the case.
    const auto others = OtherProcessesShare(steps.front().cpu_begin, warmup_end);
    record.verdict_reasons.push_back(fmt::format(
        "steady state not reached within {} ({}){}; the first steps were dropped instead",
        FormatDuration(max_warmup_s),
        detector.last_reason().empty()
            ? fmt::format("no window of {} ended", FormatDuration(window_s))
            : detector.last_reason(),
        others && *others > kSharedMachineShare
            ? fmt::format("; other processes used {:.0f} % of the machine's CPU time meanwhile",
                          *others * 100)
            : ""));
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
  // The CPU cost of a sequence, and how much of the machine other processes took meanwhile.
  const CpuTimes& first = steps[*first_measured].cpu_begin;
  const CpuTimes last = ReadCpuTimes(options.sources.procfs_root);
  const std::string cpu = "measured: CLOCK_PROCESS_CPUTIME_ID over the measured steps";
  const double cpu_s = last.self_s - first.self_s;
  AddMetric(record, "process_cpu_time", cpu_s, "s", cpu);
  if (sequences > 0) {
    AddMetric(record, "cpu_time_per_sequence", cpu_s / static_cast<double>(sequences), "s", cpu);
  }
  if (const auto others = OtherProcessesShare(first, last)) {
    AddMetric(record, "other_processes_cpu_share", *others, "1",
              fmt::format("measured: {}/stat busy time less this process's CPU time, over "
                          "every CPU's time in the measured steps",
                          options.sources.procfs_root.string()));
    if (auto warning =
            SharedMachineWarning(*others, options.train.torch.threads,
                                 "the sequence rate and step times", "cpu_time_per_sequence")) {
      record.warnings.push_back(std::move(*warning));
    }
  }
  if (dp != nullptr) {
    AddMetric(record, "rank_cpu_time", cpu_s, "s", cpu);
    if (first.machine && last.machine) {
      AddMetric(record, "machine_busy_cpu_time", last.machine->busy_s - first.machine->busy_s, "s",
                fmt::format("measured: {}/stat busy time over the measured steps",
                            options.sources.procfs_root.string()));
    }
  }
  record.energy.push_back(std::move(energy));
  return {stopped, per_s, sequences, steps.size(), lost};
}

}  // namespace joulebench::workloads
