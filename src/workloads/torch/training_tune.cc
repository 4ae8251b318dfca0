// Torch-free orchestration (lives here because it drives the libtorch workloads).
#include "joulebench/workloads/training_tune.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/load/power_signal.h"
#include "joulebench/units.h"
#include "joulebench/workloads/cpu_features.h"
#include "joulebench/workloads/mlm_trainer.h"
#include "joulebench/workloads/model_config.h"
#include "workloads/torch/run_metrics.h"
#include "workloads/torch/training_measurement.h"
#include "workloads/torch/tune_record.h"

namespace joulebench::workloads {
namespace {

using nlohmann::json;

constexpr const char* kDtype = "dtype";
constexpr const char* kThreads = "threads";
constexpr const char* kBatch = "batch";

class TrainingTuner {
 public:
  explicit TrainingTuner(const TrainingTuneOptions& options) : o_(options) {}
  run::RunRecord Run();

 private:
  void ChooseKnobs();
  run::TuneProbe Evaluate(const tune::Configuration& config, const tune::ProbeContext& context);

  const TrainingTuneOptions& o_;
  run::RunRecord record_;
  std::vector<tune::Knob> knobs_;
  std::unique_ptr<RunMeter> meter_;
  std::map<std::pair<std::string, int>, run::RunRecord> probe_records_;
  int probes_started_ = 0;
};

void TrainingTuner::ChooseKnobs() {
  const std::string device = CheckDevice(o_.base.train.torch.device);
  const bool cpu = device == "cpu";
  record_.config["tune"]["skipped"] = json::array();
  auto skip = [&](const std::string& knob, const std::string& value, const std::string& reason) {
    record_.config["tune"]["skipped"].push_back(
        json{{"knob", knob}, {"value", value}, {"reason", reason}});
  };
  std::vector<std::string> dtypes = o_.dtypes;
  if (dtypes.empty()) dtypes = {"fp32", "bf16"};
  const std::string bf16_problem = cpu ? CpuBf16Unsupported(CpuFlags(o_.procfs_root)) : "";
  std::vector<json> dtype_values;
  for (const std::string& d : dtypes) {
    TorchOptions check;
    ApplyInferenceDtype(d, check);
    const std::string name(InferenceDtypeName(check));
    std::string reason;
    if (name == "int8") reason = "int8 dynamic quantization is for inference, not training";
    if (name == "bf16" && !bf16_problem.empty()) reason = bf16_problem;
    if (!reason.empty()) {
      skip(kDtype, name, reason);
    } else if (std::find(dtype_values.begin(), dtype_values.end(), json(name)) ==
               dtype_values.end()) {
      dtype_values.emplace_back(name);
    }
  }
  knobs_.push_back(DtypeKnob(std::move(dtype_values), dtypes, "train"));
  knobs_.push_back(
      ThreadsKnob(o_.threads, cpu, skip, "the model trains on a GPU: CPU threads do not run it"));

  std::vector<std::int64_t> batches = o_.batches;
  if (batches.empty()) batches = {2, 4, 8, 16};
  std::sort(batches.begin(), batches.end());
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  std::vector<json> batch_values;
  for (auto b : batches) {
    if (b < 1 || b > 65536) throw InputError(fmt::format("--batches: {} is outside 1..65536", b));
    batch_values.emplace_back(b);
  }
  const json train_default(o_.base.train.batch_size);
  knobs_.push_back(
      {kBatch, batch_values,
       std::find(batch_values.begin(), batch_values.end(), train_default) != batch_values.end()
           ? train_default
           : batch_values.front(),
       true, false});  // a larger batch trains faster: an INVALID batch says nothing of it
  json knob_json = json::array();
  for (const auto& k : knobs_) {
    knob_json.push_back(json{{"name", k.name}, {"values", k.values}, {"default", k.default_value}});
  }
  record_.config["tune"]["knobs"] = knob_json;
}

run::TuneProbe TrainingTuner::Evaluate(const tune::Configuration& config,
                                       const tune::ProbeContext& context) {
  const std::string name = TrainingConfigurationName(config);
  const int number = ++probes_started_;
  TuneProbeObserver observer(o_.base.observer,
                             fmt::format("probe {} ({}, rung {}): ", number, name, context.rung),
                             context.stop_requested);
  TrainingRunOptions o = o_.base;
  ApplyInferenceDtype(config.at(kDtype).get<std::string>(), o.train.torch);
  o.train.torch.threads = config.at(kThreads).get<int>();
  o.train.batch_size = config.at(kBatch).get<std::int64_t>();
  o.steps.reset();
  o.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
      o_.probe_duration * std::pow(o_.search.eta, context.rung));
  o.window = o_.probe_window;
  o.steady_windows = o_.probe_steady_windows;
  o.max_warmup = o_.probe_max_warmup;
  observer.OnPhase("building the model", std::nullopt);
  MlmTrainer trainer(FindModel(o.model), o.train);  // sets this thread's intra-op threads

  run::TuneProbe probe;
  probe.probe_duration_s = std::chrono::duration<double>(o.duration).count();
  run::RunRecord scratch;
  const TrainingMeasurement measured =
      MeasureTrainingSteps(trainer, o, *meter_, observer, std::nullopt, scratch);
  probe.verdict = scratch.verdict;
  probe.reasons = scratch.verdict_reasons;
  InvalidateIfEnergyIncomplete(scratch, probe);
  auto value = [&](std::string_view metric) {
    const run::Metric* m = scratch.FindMetric(metric);
    return m != nullptr ? m->value : NAN;
  };
  probe.throughput_per_s = measured.sequences_per_s;
  probe.latency_s = value("step_time_mean");
  probe.mean_watts = value("mean_power");
  probe.joules_per_unit = value("energy_per_sequence");
  if (const run::Metric* m = scratch.FindMetric("energy_per_sequence_attributable")) {
    probe.joules_per_unit_attributable = m->value;
  }
  if (const run::Metric* m = scratch.FindMetric("energy_per_sequence")) {
    probe.energy_provenance = m->provenance;
  }
  if (o_.time_budget && measured.sequences_per_s > 0) {
    const double need_s = o_.base.projected_sequences / measured.sequences_per_s;
    const double budget_s = std::chrono::duration<double>(*o_.time_budget).count();
    if (need_s > budget_s) {
      probe.verdict = "INVALID";
      probe.reasons.push_back(fmt::format(
          "trains {:.4g} sequences in {} on this machine, over the time budget of {}",
          o_.base.projected_sequences, FormatDuration(need_s), FormatDuration(budget_s)));
    }
  }
  probe_records_[{name, context.rung}] = std::move(scratch);
  return probe;
}

run::RunRecord TrainingTuner::Run() {
  const double command_start_s = load::SteadyNowSeconds();
  const ModelConfig model = FindModel(o_.base.model);
  if (o_.base.train.seq_len < 3 || o_.base.train.seq_len > model.max_positions) {
    throw InputError(fmt::format("--seq-len: {} is out of range for {}: 3..{} positions",
                                 o_.base.train.seq_len, model.name, model.max_positions));
  }
  if (!(o_.base.projected_sequences > 0)) throw InputError("--sequences must be > 0");
  if (o_.probe_steady_windows < 2) throw InputError("steady-state windows must be at least 2");
  record_.kind = "tune";
  record_.name = o_.base.model;
  record_.config["tune"] = {
      {"mode", "train"},
      {"objective", o_.base.baseline ? "energy_per_sequence_attributable (above the idle baseline)"
                                     : "energy_per_sequence (total: no --baseline)"},
      {"constraint",
       o_.time_budget
           ? fmt::format("trains {:.4g} sequences on this machine within {}",
                         o_.base.projected_sequences,
                         FormatDuration(std::chrono::duration<double>(*o_.time_budget).count()))
           : std::string("none (no --time-budget)")},
      {"budget_s", o_.search.budget_s},
      {"method",
       "coordinate screening (rung 0), then successive halving over the best configurations "
       "(rungs 1..), each probe MLM training steps to steady state and a measured part"},
      {"eta", o_.search.eta},
      {"finalists", o_.search.finalists},
      {"longer_rungs", o_.search.longer_rungs},
      {"probe_duration_s", std::chrono::duration<double>(o_.probe_duration).count()},
  };
  ChooseKnobs();
  record_.config["workload"] = {{"model", o_.base.model},
                                {"seq_len", o_.base.train.seq_len},
                                {"projected_sequences", o_.base.projected_sequences}};
  record_.config["torch"] = {{"device", CheckDevice(o_.base.train.torch.device)},
                             {"seed", o_.base.train.torch.seed},
                             {"weights", o_.base.train.torch.weights_path}};
  record_.fingerprint["libtorch"] = TorchVersion();

  meter_ = std::make_unique<RunMeter>(o_.base.sources, o_.base.meter);
  run::RunObserver& observer = ObserverOrNone(o_.base.observer);
  BeginMeteredRun(*meter_, record_, observer, o_.base.baseline);
  tune::SearchCallbacks callbacks;
  callbacks.evaluate = [this](const tune::Configuration& c, const tune::ProbeContext& context) {
    return Evaluate(c, context);
  };
  callbacks.name = TrainingConfigurationName;
  const tune::SearchResult result =
      RunTuneSearch(knobs_, o_.search, command_start_s, std::move(callbacks), observer, record_);
  FinishTuneRecord(
      result, probe_records_,
      TuneUnits{"sequence", "sequences_per_s", "step_time_mean", "energy_per_sequence"}, record_);
  if (const run::Metric* m = record_.FindMetric("sequences_per_s"); m != nullptr && m->value > 0) {
    AddMetric(record_, "projected_time", o_.base.projected_sequences / m->value, "s",
              fmt::format("projected: {:.4g} sequences / the chosen configuration's rate on this "
                          "one machine",
                          o_.base.projected_sequences));
  }
  EndTuneRun(result, *meter_, observer, record_);
  return record_;
}

}  // namespace

std::string TrainingConfigurationName(const tune::Configuration& config) {
  return fmt::format("{} t{} b{}", config.at(kDtype).get<std::string>(),
                     config.at(kThreads).get<int>(), config.at(kBatch).get<std::int64_t>());
}

run::RunRecord RunTrainingTune(const TrainingTuneOptions& options) {
  return TrainingTuner(options).Run();
}

}  // namespace joulebench::workloads
