// Torch-free orchestration (lives here because it drives the libtorch workloads).
#include "joulebench/workloads/inference_tune.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "joulebench/energy/gpu_power_limit.h"
#include "joulebench/error.h"
#include "joulebench/load/observer_hooks.h"
#include "joulebench/load/power_signal.h"
#include "joulebench/units.h"
#include "joulebench/workloads/cpu_features.h"
#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/output_agreement.h"
#include "workloads/torch/inference_session.h"
#include "workloads/torch/run_metrics.h"
#include "workloads/torch/tune_record.h"

namespace joulebench::workloads {
namespace {

using nlohmann::json;

constexpr const char* kDtype = "dtype";
constexpr const char* kThreads = "threads";
constexpr const char* kBatch = "max_batch";
constexpr const char* kDelay = "max_delay_s";
constexpr const char* kPowerLimit = "power_limit_w";

std::string CompactDuration(double seconds) {
  if (seconds == 0) return "0";
  if (seconds < 1e-3) return fmt::format("{:g}us", seconds * 1e6);
  if (seconds < 1) return fmt::format("{:g}ms", seconds * 1e3);
  return fmt::format("{:g}s", seconds);
}

bool IsBuiltinModel(const std::string& name) {
  for (const auto& m : KnownModels()) {
    if (m.name == name) return true;
  }
  return false;
}

class InferenceTuner {
 public:
  explicit InferenceTuner(const InferenceTuneOptions& options) : o_(options) {}

  run::RunRecord Run();

 private:
  void ChooseKnobs();
  void Skip(const std::string& knob, const std::string& value, const std::string& reason) {
    record_.config["tune"]["skipped"].push_back(
        json{{"knob", knob}, {"value", value}, {"reason", reason}});
  }
  InferenceSession& Session(const std::string& dtype);
  run::TuneProbe Evaluate(const tune::Configuration& config, const tune::ProbeContext& context);
  load::TestSettings ProbeSettings(int rung) const;

  const InferenceTuneOptions& o_;
  run::RunRecord record_;
  std::vector<tune::Knob> knobs_;
  std::unique_ptr<energy::GpuPowerLimit> power_limit_;
  std::unique_ptr<RunMeter> meter_;
  std::map<std::string, std::unique_ptr<InferenceSession>> sessions_;
  std::map<std::string, std::string> session_failures_;
  std::optional<InferenceSession::Outputs> reference_outputs_;
  std::map<std::string, OutputAgreement> accuracy_;
  // Every measured probe's own run record (energy report, peak probes, latency), by
  // configuration name and rung.
  std::map<std::pair<std::string, int>, run::RunRecord> probe_records_;
  int probes_started_ = 0;
};

void InferenceTuner::ChooseKnobs() {
  const std::string device = CheckDevice(o_.base.torch.device);
  const bool cpu = device == "cpu";
  const bool builtin = IsBuiltinModel(o_.base.model);
  record_.config["tune"]["skipped"] = json::array();

  // dtype
  std::vector<std::string> dtypes = o_.dtypes;
  const bool dtypes_given = !dtypes.empty();
  if (!dtypes_given) dtypes = {"fp32", "bf16", "int8"};
  std::vector<json> dtype_values;
  const std::string bf16_problem = cpu ? CpuBf16Unsupported(CpuFlags(o_.procfs_root)) : "";
  for (const std::string& d : dtypes) {
    TorchOptions check;
    ApplyInferenceDtype(d, check);  // InputError for an unknown name
    const std::string name(InferenceDtypeName(check));
    std::string reason;
    if (!builtin && name != "fp32") {
      reason = "a TorchScript model runs in the dtype it was saved with";
    } else if (name == "bf16" && !bf16_problem.empty()) {
      reason = bf16_problem;
    } else if (name == "int8" && !cpu) {
      reason = "int8 dynamic quantization runs on the CPU only";
    } else if (name == "int8" && QuantizedEngine().empty()) {
      reason = "this libtorch has no quantized engine";
    }
    if (!reason.empty()) {
      Skip(kDtype, name, reason);
    } else if (std::find(dtype_values.begin(), dtype_values.end(), json(name)) ==
               dtype_values.end()) {
      dtype_values.emplace_back(name);
    }
  }
  knobs_.push_back(DtypeKnob(std::move(dtype_values), dtypes, "run"));
  knobs_.push_back(ThreadsKnob(
      o_.threads, cpu,
      [this](const std::string& k, const std::string& v, const std::string& why) {
        Skip(k, v, why);
      },
      "the model runs on a GPU: CPU threads do not run it"));

  // batching
  std::vector<std::int64_t> batches = o_.batches;
  if (batches.empty()) batches = {1, 2, 4, 8, 16};
  std::sort(batches.begin(), batches.end());
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  std::vector<json> batch_values;
  for (auto b : batches) {
    if (b < 1 || b > 4096) throw InputError(fmt::format("--batches: {} is outside 1..4096", b));
    batch_values.emplace_back(b);
  }
  knobs_.push_back({kBatch, batch_values, batch_values.front(), true, true});

  const double bound_s = static_cast<double>(o_.base.settings.server_target_latency_ns) / 1e9;
  std::vector<double> delays;
  for (auto d : o_.delays) delays.push_back(std::chrono::duration<double>(d).count());
  if (delays.empty()) delays = {0, bound_s / 10};
  std::sort(delays.begin(), delays.end());
  delays.erase(std::unique(delays.begin(), delays.end()), delays.end());
  std::vector<json> delay_values;
  for (double d : delays) {
    if (d < 0) throw InputError("--delays: a delay cannot be negative");
    // Rounded to the microsecond, so that names and stored knobs read cleanly.
    delay_values.emplace_back(std::round(d * 1e6) / 1e6);
  }
  knobs_.push_back({kDelay, delay_values, delay_values.front(), true, true});

  // GPU power limit
  const bool want_limits = o_.power_limits_w ? !o_.power_limits_w->empty() : !cpu;
  if (want_limits) {
    try {
      power_limit_ = energy::GpuPowerLimit::Open(o_.base.sources, o_.gpu_index);
    } catch (const EnvironmentError& e) {
      Skip(kPowerLimit, "all", e.what());
    }
  } else if (!o_.power_limits_w && cpu) {
    Skip(kPowerLimit, "all",
         "the model runs on the CPU (--power-limits W,W,... tunes a GPU anyway)");
  }
  if (power_limit_) {
    std::vector<double> limits;
    const double max_w = power_limit_->max_watts();
    const double min_w = power_limit_->min_watts();
    if (o_.power_limits_w) {
      for (double w : *o_.power_limits_w) {
        if (w < min_w || w > max_w) {
          throw InputError(fmt::format("--power-limits: {:g} W is outside {}'s range {:g}..{:g} W",
                                       w, power_limit_->gpu(), min_w, max_w));
        }
        limits.push_back(w);
      }
    } else {
      for (double f : {1.0, 0.85, 0.7, 0.55})
        limits.push_back(std::max(min_w, std::round(f * max_w)));
    }
    limits.push_back(power_limit_->original_watts());
    std::sort(limits.begin(), limits.end(), std::greater<>());
    limits.erase(std::unique(limits.begin(), limits.end()), limits.end());
    std::vector<json> values(limits.begin(), limits.end());
    knobs_.push_back({kPowerLimit, values, json(power_limit_->original_watts()), true, true});
    record_.config["tune"]["power_limit"] = {{"gpu", power_limit_->gpu()},
                                             {"original_w", power_limit_->original_watts()},
                                             {"min_w", min_w},
                                             {"max_w", max_w}};
  }
  json knob_json = json::array();
  for (const auto& k : knobs_) {
    knob_json.push_back(json{{"name", k.name}, {"values", k.values}, {"default", k.default_value}});
  }
  record_.config["tune"]["knobs"] = knob_json;
}

InferenceSession& InferenceTuner::Session(const std::string& dtype) {
  if (auto it = sessions_.find(dtype); it != sessions_.end()) return *it->second;
  if (auto it = session_failures_.find(dtype); it != session_failures_.end()) {
    throw EnvironmentError(it->second);
  }
  auto build = [&](const std::string& d) {
    InferenceRunOptions options = o_.base;
    ApplyInferenceDtype(d, options.torch);
    return std::make_unique<InferenceSession>(options);
  };
  std::unique_ptr<InferenceSession> session;
  try {
    session = build(dtype);
  } catch (const Error& e) {
    session_failures_[dtype] = fmt::format("building the {} model: {}", dtype, e.what());
    throw EnvironmentError(session_failures_[dtype]);
  }
  if (dtype != "fp32" && session->builtin() && o_.accuracy_documents > 0) {
    if (!reference_outputs_) {
      if (auto it = sessions_.find("fp32"); it != sessions_.end()) {
        reference_outputs_ = it->second->RunAndFetch(o_.accuracy_documents);
      } else {
        reference_outputs_ = build("fp32")->RunAndFetch(o_.accuracy_documents);
      }
    }
    const InferenceSession::Outputs out = session->RunAndFetch(o_.accuracy_documents);
    OutputAgreement a = CompareOutputs(reference_outputs_->values, out.values,
                                       reference_outputs_->row_width, reference_outputs_->row_mask);
    a.reference = "fp32";
    a.candidate = dtype;
    accuracy_[dtype] = a;
    record_.config["tune"]["accuracy"][dtype] = {
        {"reference", "fp32 model, same weights and documents"},
        {"documents", o_.accuracy_documents},
        {"tokens", a.rows},
        {"max_abs_diff", a.max_abs_diff},
        {"reference_max_abs", a.reference_max_abs},
        {"mean_abs_diff", a.mean_abs_diff},
        {"cosine_similarity", a.cosine_similarity},
        {"argmax_agreement", a.argmax_agreement},
        {"weights", o_.base.torch.weights_path.empty()
                        ? fmt::format("random (seed {})", o_.base.torch.seed)
                        : o_.base.torch.weights_path}};
  }
  return *sessions_.emplace(dtype, std::move(session)).first->second;
}

load::TestSettings InferenceTuner::ProbeSettings(int rung) const {
  load::TestSettings s = o_.base.settings;
  s.scenario = load::Scenario::kServer;
  // A rate above what the model keeps up with shows in the latency only once the backlog
  // exceeds the bound: a measured part of at least 5 bounds catches rates 20 % too high.
  const double bound_ms = static_cast<double>(s.server_target_latency_ns) / 1e6;
  const double probe_ms =
      std::max(std::chrono::duration<double, std::milli>(o_.probe_duration).count(), 5 * bound_ms);
  s.min_duration_ms = static_cast<std::int64_t>(probe_ms * std::pow(o_.search.eta, rung));
  s.min_query_count = o_.probe_min_queries;
  s.window_ms = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(o_.probe_window).count());
  s.steady_state_windows = o_.probe_steady_windows;
  s.max_warmup_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(o_.probe_max_warmup).count();
  return s;
}

run::TuneProbe InferenceTuner::Evaluate(const tune::Configuration& config,
                                        const tune::ProbeContext& context) {
  const std::string name = InferenceConfigurationName(config);
  const int number = ++probes_started_;
  TuneProbeObserver observer(o_.base.observer,
                             fmt::format("probe {} ({}, rung {}): ", number, name, context.rung),
                             context.stop_requested);
  observer.OnPhase("building the model", std::nullopt);
  const std::string dtype = config.at(kDtype).get<std::string>();
  InferenceSession& session = Session(dtype);
  const int threads = config.at(kThreads).get<int>();
  const std::int64_t batch = config.at(kBatch).get<std::int64_t>();
  const double delay_s = config.at(kDelay).get<double>();
  if (power_limit_ && config.contains(kPowerLimit)) {
    power_limit_->Set(config.at(kPowerLimit).get<double>());
  }

  InferenceRunOptions o = o_.base;
  ApplyInferenceDtype(dtype, o.torch);
  o.torch.threads = threads;
  o.batching.max_batch = batch;
  o.batching.max_delay =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(delay_s));
  o.settings = ProbeSettings(context.rung);
  o.find_peak = true;
  o.load_levels.clear();
  run::TuneProbe probe;
  probe.probe_duration_s = static_cast<double>(o.settings.min_duration_ms) / 1000.0;
  // A configuration whose single document already takes longer than the bound meets it at no
  // rate: the peak search would only shrink its rate probe after probe.
  const double bound_s = static_cast<double>(o.settings.server_target_latency_ns) / 1e9;
  const double one_s = session.SecondsPerBatch(1, threads);
  if (one_s > bound_s) {
    probe.verdict = "INVALID";
    probe.reasons.push_back(fmt::format(
        "one document takes {} on {} thread(s) (the median of three), more than the latency "
        "bound of {}: no rate can meet it",
        FormatDuration(one_s), threads, FormatDuration(bound_s)));
    return probe;
  }
  // Where the peak search starts: just under this configuration's peak one rung down; near
  // the incumbent's peak when only batching or the power limit differ (the model runs as
  // fast); else at 70 % of the rate batches of one run at.
  load::PeakSearchSettings& search = o.peak_search;
  search.max_probes = 14;
  // A configuration that misses the bound at a fifth of the rate batches of one run at is not
  // worth steps that grow longer as the rate shrinks.
  search.min_qps = one_s > 0 ? 0.2 / one_s : 0;
  const run::TuneProbe* before = context.same_configuration_before;
  const run::TuneProbe* incumbent = context.incumbent;
  if (before != nullptr && before->rate_per_s > 0) {
    search.start_qps = 0.95 * before->rate_per_s;
    search.growth_factor = 1.1;
    search.precision_relative = 0.05;
  } else {
    search.growth_factor = 1.5;
    search.precision_relative = 0.1;
    const bool same_model_speed = incumbent != nullptr && incumbent->rate_per_s > 0 &&
                                  incumbent->knobs.value(kDtype, json()) == config.at(kDtype) &&
                                  incumbent->knobs.value(kThreads, json()) == config.at(kThreads);
    search.start_qps =
        same_model_speed ? 0.8 * incumbent->rate_per_s : (one_s > 0 ? 0.7 / one_s : 1.0);
  }
  run::RunRecord scratch;
  std::optional<double> peak;
  {
    const load::ObserverHooks hooks(&observer);
    auto sut = session.MakeSut(session.EffectiveBatching(o), threads);
    peak = session.Measure(o, *sut, *meter_, hooks, std::nullopt, scratch);
  }
  probe.verdict = scratch.verdict.empty() ? "INVALID" : scratch.verdict;
  probe.reasons = scratch.verdict_reasons;
  InvalidateIfEnergyIncomplete(scratch, probe);
  if (peak && probe.verdict == "VALID") {
    auto value = [&](std::string_view metric) {
      const run::Metric* m = scratch.FindMetric(metric);
      return m != nullptr ? m->value : NAN;
    };
    probe.rate_per_s = value("offered_rate");
    probe.throughput_per_s = value("throughput");
    probe.latency_s = value("latency_p99");
    probe.mean_watts = value("mean_power");
    probe.joules_per_unit = value("energy_per_inference");
    if (const run::Metric* m = scratch.FindMetric("energy_per_inference_attributable")) {
      probe.joules_per_unit_attributable = m->value;
    }
    if (const run::Metric* m = scratch.FindMetric("energy_per_inference")) {
      probe.energy_provenance = m->provenance;
    }
  }
  if (auto it = accuracy_.find(dtype); it != accuracy_.end()) {
    probe.accuracy_max_abs_diff = it->second.max_abs_diff;
    probe.accuracy_cosine = it->second.cosine_similarity;
    probe.accuracy_argmax_agreement = it->second.argmax_agreement;
  }
  probe_records_[{name, context.rung}] = std::move(scratch);
  return probe;
}

run::RunRecord InferenceTuner::Run() {
  const double command_start_s = load::SteadyNowSeconds();
  load::Validate(o_.base.settings);
  if (o_.base.settings.server_target_latency_ns <= 0) {
    throw InputError(
        "--latency-bound: give the p99 bound the configurations must meet, e.g. 100ms");
  }
  if (o_.accuracy_documents > static_cast<std::int64_t>(o_.base.sample_count)) {
    throw InputError(fmt::format("accuracy check: {} documents but only --samples {}",
                                 o_.accuracy_documents, o_.base.sample_count));
  }
  record_.kind = "tune";
  record_.name = o_.base.model;
  record_.config["tune"] = {
      {"mode", "infer"},
      {"objective", o_.base.baseline ? "energy_per_inference_attributable (above the idle baseline)"
                                     : "energy_per_inference (total: no --baseline)"},
      {"constraint",
       fmt::format(
           "p{:g} latency <= {} at the peak server rate",
           o_.base.settings.server_target_latency_percentile,
           FormatDuration(static_cast<double>(o_.base.settings.server_target_latency_ns) / 1e9))},
      {"budget_s", o_.search.budget_s},
      {"method",
       "coordinate screening (rung 0), then successive halving over the best configurations "
       "(rungs 1..), each probe a server peak search"},
      {"eta", o_.search.eta},
      {"finalists", o_.search.finalists},
      {"longer_rungs", o_.search.longer_rungs},
      {"probe_duration_s", std::chrono::duration<double>(o_.probe_duration).count()},
      {"probe_min_queries", o_.probe_min_queries},
  };
  record_.config["latency_bound_s"] =
      static_cast<double>(o_.base.settings.server_target_latency_ns) / 1e9;
  ChooseKnobs();  // opens the GPU power limit (before the sampler's NVML, see below)
  // The default configuration's model is built before anything is measured, so that a bad
  // model, sequence or device fails at once.
  const std::string default_dtype = knobs_.front().default_value.get<std::string>();
  Session(default_dtype);
  record_.config["workload"] = {
      {"model", o_.base.model},
      {"description", sessions_.at(default_dtype)->model_description()},
      {"seq_len", o_.base.seq_len},
      {"samples", o_.base.sample_count},
  };
  record_.config["torch"] = {{"device", CheckDevice(o_.base.torch.device)},
                             {"seed", o_.base.torch.seed},
                             {"weights", o_.base.torch.weights_path},
                             {"quantized_engine", QuantizedEngine()}};
  record_.fingerprint["libtorch"] = TorchVersion();

  meter_ = std::make_unique<RunMeter>(o_.base.sources, o_.base.meter);
  run::RunObserver& observer = ObserverOrNone(o_.base.observer);
  BeginMeteredRun(*meter_, record_, observer, o_.base.baseline);

  tune::SearchCallbacks callbacks;
  callbacks.evaluate = [this](const tune::Configuration& c, const tune::ProbeContext& context) {
    return Evaluate(c, context);
  };
  callbacks.name = InferenceConfigurationName;
  callbacks.inapplicable = [](const std::string& knob, const tune::Configuration& c) {
    if (knob == kDelay && c.at(kBatch).get<std::int64_t>() == 1 && c.at(kDelay).get<double>() > 0) {
      return std::string("max_batch 1: waiting cannot fill a batch of one");
    }
    return std::string();
  };
  const tune::SearchResult result =
      RunTuneSearch(knobs_, o_.search, command_start_s, std::move(callbacks), observer, record_);

  std::string restore_problem;
  if (power_limit_) {
    try {
      power_limit_->Restore();
    } catch (const EnvironmentError& e) {
      restore_problem = e.what();
    }
  }
  FinishTuneRecord(result, probe_records_,
                   TuneUnits{"inference", "throughput", "latency_p99", "energy_per_inference"},
                   record_);
  if (!restore_problem.empty()) record_.warnings.push_back(restore_problem);
  if (power_limit_) {
    record_.config["tune"]["power_limit"]["restored_w"] = power_limit_->current_watts();
  }
  EndTuneRun(result, *meter_, observer, record_);
  return record_;
}

}  // namespace

std::string InferenceConfigurationName(const tune::Configuration& config) {
  std::string name = fmt::format(
      "{} t{} b{} d{}", config.at(kDtype).get<std::string>(), config.at(kThreads).get<int>(),
      config.at(kBatch).get<std::int64_t>(), CompactDuration(config.at(kDelay).get<double>()));
  if (config.contains(kPowerLimit)) {
    name += fmt::format(" {:g}W", config.at(kPowerLimit).get<double>());
  }
  return name;
}

run::RunRecord RunInferenceTune(const InferenceTuneOptions& options) {
  return InferenceTuner(options).Run();
}

}  // namespace joulebench::workloads
