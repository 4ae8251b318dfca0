#include "joulebench/workloads/study.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "joulebench/data_dir.h"
#include "joulebench/energy/ccf_coefficients.h"
#include "joulebench/error.h"
#include "joulebench/plan/candidate_spec.h"
#include "joulebench/plan/carbon_data.h"
#include "joulebench/plan/catalog.h"
#include "joulebench/plan/plan_file.h"
#include "joulebench/plan/run_resolver.h"
#include "joulebench/units.h"
#include "joulebench/workloads/inference_run.h"
#include "joulebench/workloads/training_run.h"

namespace joulebench::workloads {
namespace {

constexpr std::string_view kThisMachine = "this machine";
constexpr std::string_view kInferenceRef = "study:inference";
constexpr std::string_view kTrainingRef = "study:training";
constexpr std::string_view kPublished = "published study";

// Resolves the two runs the study just made, in memory; anything else is not a study run.
class StudyRunResolver : public plan::RunResolver {
 public:
  StudyRunResolver(const run::RunRecord& inference, const run::RunRecord& training)
      : inference_(inference), training_(training) {}
  plan::ResolvedRun Resolve(std::string_view reference) const override {
    const run::RunRecord& r = reference == kInferenceRef ? inference_ : training_;
    return {r, r.id.empty() ? fmt::format("this study's {} run", r.kind)
                            : fmt::format("stored run {}", r.id)};
  }

 private:
  const run::RunRecord& inference_;
  const run::RunRecord& training_;
};

int Threads(const StudyOptions& o) {
  if (o.threads > 0) return o.threads;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

InferenceRunOptions InferenceOptions(const StudyOptions& o) {
  InferenceRunOptions r;
  r.model = o.inference_model.value_or("layoutlm-base");
  r.seq_len = o.inference_seq_len.value_or(o.quick ? 64 : 512);
  r.torch.device = o.device;
  r.torch.threads = Threads(o);
  r.batching.max_batch = o.quick ? 4 : 8;
  r.batching.max_delay = std::chrono::milliseconds(o.quick ? 20 : 50);
  r.sample_count = o.quick ? 64 : 256;
  r.settings.scenario = load::Scenario::kServer;
  r.settings.server_target_latency_ns = o.latency_bound.count();
  r.settings.server_target_latency_percentile = 99.0;
  const auto measure =
      o.measure_duration.value_or(o.quick ? std::chrono::seconds(4) : std::chrono::seconds(30));
  r.settings.min_duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(measure).count();
  r.settings.min_query_count = o.quick ? 16 : 200;
  // At a few inferences per second a 1 s window holds a handful of Poisson arrivals, so the
  // steady-state band is wider and the windows longer than for fast workloads (stated in the
  // run record with the criterion).
  r.settings.window_ms = o.quick ? 2000 : 5000;
  r.settings.steady_state_windows = 3;
  r.settings.steady_state_band_relative = 0.25;
  r.settings.steady_state_drift_relative = 0.15;
  r.settings.max_warmup_ms = o.quick ? 30'000 : 300'000;
  r.find_peak = true;
  r.peak_search.start_qps = 1;
  r.peak_search.growth_factor = 2;
  r.peak_search.precision_relative = o.quick ? 0.15 : 0.05;
  r.peak_search.max_probes = o.quick ? 8 : 20;
  r.load_levels = {0, 0.25, 0.5, 0.75, 1.0};
  r.baseline = o.baseline.value_or(o.quick ? std::chrono::seconds(3) : std::chrono::seconds(10));
  r.sources = o.sources;
  r.meter = o.meter;
  r.gemm_peak_duration = std::chrono::seconds(1);
  r.observer = o.inference_observer;
  return r;
}

TrainingRunOptions TrainingOptions(const StudyOptions& o) {
  TrainingRunOptions r;
  r.model = o.training_model.value_or(o.quick ? "bert-base" : "bert-large");
  r.train.torch.device = o.device;
  r.train.torch.threads = Threads(o);
  r.train.seq_len = o.training_seq_len.value_or(o.quick ? 64 : 128);
  r.train.batch_size = o.quick ? 4 : 8;
  r.duration =
      o.measure_duration.value_or(o.quick ? std::chrono::seconds(8) : std::chrono::seconds(60));
  r.max_warmup = o.quick ? std::chrono::seconds(60) : std::chrono::seconds(300);
  // Two or three quick steps per window on a 2-core machine.
  r.window = o.quick ? std::chrono::seconds(4) : std::chrono::seconds(10);
  r.projected_sequences = 450e6;
  r.baseline = o.baseline.value_or(o.quick ? std::chrono::seconds(3) : std::chrono::seconds(10));
  r.sources = o.sources;
  r.meter = o.meter;
  r.gemm_peak_duration = std::chrono::seconds(1);
  r.observer = o.training_observer;
  return r;
}

// A short offline run (not stored, not steady) estimates this machine's capacity, so that the
// peak search starts near it instead of at an arbitrary rate: half the offline throughput.
double CalibratePeakSearchStart(const InferenceRunOptions& base) {
  InferenceRunOptions o = base;
  o.settings.scenario = load::Scenario::kOffline;
  o.settings.wait_for_steady_state = false;
  o.settings.min_duration_ms = 2000;
  o.settings.min_query_count = 8;
  o.find_peak = false;
  o.load_levels.clear();
  o.baseline.reset();
  o.gemm_peak_duration = std::chrono::nanoseconds(0);
  o.observer = nullptr;
  const run::RunRecord r = RunInference(o);
  const run::Metric* throughput = r.FindMetric("throughput");
  if (throughput == nullptr || !(throughput->value > 0)) return base.peak_search.start_qps;
  return std::max(0.5, throughput->value * 0.5);
}

// The study's published candidates: renamed "<type> (published study)", typed so that the
// catalog still supplies their prices, and every figure marked as the study's.
std::vector<plan::CandidateSpec> PublishedCandidates(const plan::PlanFileSection& section) {
  std::vector<plan::CandidateSpec> out;
  for (const auto& spec : section.candidates) {
    std::vector<std::pair<std::string, std::string>> fields;
    std::string type;
    for (const auto& [key, value] : spec.fields) {
      if (key == "name") {
        type = value;
        fields.emplace_back("name", fmt::format("{} ({})", value, kPublished));
      } else if (key.ends_with("_source") || key == "source") {
        fields.emplace_back(key, fmt::format("{}: {}", kPublished, value));
      } else {
        fields.emplace_back(key, value);
      }
    }
    if (spec.Find("type") == nullptr && !type.empty()) fields.emplace_back("type", type);
    out.push_back(plan::CandidateSpecFromFields(std::move(fields), spec.origin));
  }
  return out;
}

plan::CandidateSpec ThisMachine(std::string_view run_ref, const StudyOptions& o) {
  std::vector<std::pair<std::string, std::string>> fields{{"name", std::string(kThisMachine)},
                                                          {"run", std::string(run_ref)}};
  if (o.instance_type) fields.emplace_back("type", *o.instance_type);
  return plan::CandidateSpecFromFields(std::move(fields), "this machine's study run");
}

plan::CarbonInputs Carbon(const StudyOptions& o) {
  plan::CarbonInputs carbon;
  carbon.region = o.region;
  carbon.grid_g_co2e_per_kwh =
      plan::GridInput(plan::GridIntensityTable::LoadDefault().Find(o.region));
  carbon.pue = o.pue ? plan::Sourced{*o.pue, "given: --pue"} : plan::DefaultPue();
  return carbon;
}

const std::string& Setting(const plan::PlanFileSection& s, const std::string& key,
                           const std::filesystem::path& file) {
  auto it = s.settings.find(key);
  if (it == s.settings.end()) {
    throw InputError(fmt::format("{}: the study's inputs lack '{}'", file.string(), key));
  }
  return it->second;
}

// A field of the run's config["workload"], as text.
std::string Workload(const run::RunRecord& r, const char* key) {
  const auto it = r.config.find("workload");
  if (it == r.config.end() || !it->contains(key)) return "?";
  const auto& v = (*it)[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string RunNote(const run::RunRecord& r) {
  if (r.verdict == "VALID" || r.verdict.empty()) {
    return fmt::format("{} run: {} ({})", r.kind, r.verdict.empty() ? "done" : r.verdict,
                       run::RunStatusName(r.status));
  }
  std::string reasons;
  for (const auto& reason : r.verdict_reasons) reasons += "; " + reason;
  return fmt::format("{} run: {}{} - its figures are shown but do not meet the method's rules",
                     r.kind, r.verdict, reasons);
}

}  // namespace

StudyResult RunStudy(const StudyOptions& o) {
  const std::filesystem::path inputs =
      o.published_inputs.empty() ? DataFile("examples/study.toml") : o.published_inputs;
  const std::vector<std::string> known_common{"baseline",      "region", "grid-intensity", "pue",
                                              "instance-type", "price",  "catalog"};
  auto infer_known = known_common;
  infer_known.insert(infer_known.end(), {"sla", "latency-bound", "utilisation"});
  auto train_known = known_common;
  train_known.insert(train_known.end(), {"sequences", "instances", "scaling-efficiency"});
  const auto infer_section = plan::ReadPlanFile(inputs, "infer", infer_known);
  const auto train_section = plan::ReadPlanFile(inputs, "train", train_known);

  const plan::Catalog catalog = plan::Catalog::LoadDefault();
  if (o.instance_type) catalog.Find(*o.instance_type);  // unknown: fails now, with suggestions
  const plan::CarbonInputs carbon = Carbon(o);

  StudyResult result;
  InferenceRunOptions inference = InferenceOptions(o);
  inference.peak_search.start_qps = CalibratePeakSearchStart(inference);
  result.inference = RunInference(inference);
  const bool stopped = o.inference_observer != nullptr && o.inference_observer->StopRequested();
  if (stopped) {
    result.notes = "stopped before the training run";
    return result;
  }
  result.training = RunTraining(TrainingOptions(o));

  const StudyRunResolver runs(result.inference, result.training);
  const auto ccf = energy::CcfCoefficients::Load();
  plan::CandidateContext context;
  context.catalog = &catalog;
  context.runs = &runs;
  context.ccf = &ccf;
  context.this_machine_type = o.instance_type;
  context.this_machine_price_usd_per_hour = o.price_usd_per_hour;

  plan::InferenceRequest infer_request;
  infer_request.rate_per_s = o.sla_per_s;
  infer_request.latency_bound_s = std::chrono::duration<double>(o.latency_bound).count();
  infer_request.carbon = carbon;
  infer_request.baseline =
      fmt::format("{} ({})", Setting(infer_section, "baseline", inputs), kPublished);
  std::vector<plan::InferenceCandidate> infer_candidates;
  infer_candidates.push_back(
      plan::ResolveInferenceCandidate(ThisMachine(kInferenceRef, o), context));
  for (const auto& spec : PublishedCandidates(infer_section)) {
    infer_candidates.push_back(plan::ResolveInferenceCandidate(spec, context));
  }
  result.inference_plan = plan::PlanInference(infer_request, std::move(infer_candidates));

  plan::TrainingRequest train_request;
  train_request.total_sequences =
      ParseCount(Setting(train_section, "sequences", inputs), "study sequences");
  train_request.instances =
      static_cast<int>(ParseCount(Setting(train_section, "instances", inputs), "study instances"));
  train_request.carbon = carbon;
  train_request.baseline =
      fmt::format("{} ({})", Setting(train_section, "baseline", inputs), kPublished);
  std::vector<plan::TrainingCandidate> train_candidates;
  train_candidates.push_back(plan::ResolveTrainingCandidate(ThisMachine(kTrainingRef, o), context));
  for (const auto& spec : PublishedCandidates(train_section)) {
    train_candidates.push_back(plan::ResolveTrainingCandidate(spec, context));
  }
  result.training_plan = plan::PlanTraining(train_request, std::move(train_candidates));

  result.notes = fmt::format(
      "this machine: {} at {} tokens (inference), {} at {} tokens (training){}\n{}\n{}",
      Workload(result.inference, "model"), Workload(result.inference, "seq_len"),
      Workload(result.training, "model"), Workload(result.training, "seq_len"),
      o.quick ? "; --quick: small shapes and short windows, a smoke run of the method whose "
                "figures are not comparable with the study's full-size ones"
              : "",
      RunNote(result.inference), RunNote(result.training));
  return result;
}

}  // namespace joulebench::workloads
