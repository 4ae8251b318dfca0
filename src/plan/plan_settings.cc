#include "joulebench/plan/plan_settings.h"

#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <filesystem>

#include "joulebench/energy/ccf_coefficients.h"
#include "joulebench/error.h"
#include "joulebench/plan/candidate_spec.h"
#include "joulebench/plan/carbon_data.h"
#include "joulebench/plan/catalog.h"
#include "joulebench/plan/plan_file.h"
#include "joulebench/plan/run_resolver.h"
#include "joulebench/units.h"

namespace joulebench::plan {
namespace {

const std::vector<std::string> kCommonSettings{"baseline",      "region", "grid-intensity", "pue",
                                               "instance-type", "price",  "catalog"};
const std::vector<std::string> kInferenceSettings{"sla", "latency-bound", "utilisation"};
const std::vector<std::string> kTrainingSettings{"sequences",    "instances", "scaling-efficiency",
                                                 "scaling-from", "from-run",  "predict-from",
                                                 "observe"};

std::vector<std::string> WithCommon(std::vector<std::string> names) {
  names.insert(names.end(), kCommonSettings.begin(), kCommonSettings.end());
  return names;
}

// Fills the settings not given from the plan file's [section]; the file's candidates are used
// when none are given.
void MergeConfig(PlanSettings& s, std::string_view section, const std::vector<std::string>& known) {
  if (s.config.empty()) return;
  auto file = ReadPlanFile(s.config, section, known);
  for (auto& [key, value] : file.settings) {
    if (key == "catalog") {
      // A catalog named in a plan file is relative to that file.
      const auto path = std::filesystem::path(s.config).parent_path() / value;
      s.catalogs.insert(s.catalogs.begin(), path.string());
      continue;
    }
    if (s.values.try_emplace(key, value).second) {
      s.origins[key] = fmt::format(
          "{} [{}] {}", std::filesystem::path(s.config).filename().string(), section, key);
    }
  }
  if (s.candidates.empty()) s.candidates = std::move(file.candidates);
}

const std::string* Value(const PlanSettings& s, const std::string& name) {
  auto it = s.values.find(name);
  return it == s.values.end() ? nullptr : &it->second;
}

std::string Given(const PlanSettings& s, const std::string& name) {
  auto it = s.origins.find(name);
  return "given: " + (it == s.origins.end() ? "--" + name : it->second);
}

CarbonInputs Carbon(const PlanSettings& s) {
  CarbonInputs carbon;
  if (const std::string* g = Value(s, "grid-intensity")) {
    const double value = ParseNumber(*g, "--grid-intensity");
    if (value < 0) throw InputError("--grid-intensity: must not be negative, e.g. 379");
    carbon.grid_g_co2e_per_kwh = Sourced{value, Given(s, "grid-intensity")};
    if (const std::string* r = Value(s, "region")) carbon.region = *r;
  } else {
    const std::string* r = Value(s, "region");
    carbon.region = r ? *r : "us-east-1";
    carbon.grid_g_co2e_per_kwh = GridInput(GridIntensityTable::LoadDefault().Find(carbon.region));
    if (!r) carbon.grid_g_co2e_per_kwh.provenance += "; region default: us-east-1 (the study's)";
  }
  if (const std::string* p = Value(s, "pue")) {
    carbon.pue = Sourced{ParseNumber(*p, "--pue"), Given(s, "pue")};
  } else {
    carbon.pue = DefaultPue();
  }
  return carbon;
}

Catalog LoadCatalog(const PlanSettings& s) {
  Catalog catalog = Catalog::LoadDefault();
  for (const auto& file : s.catalogs) catalog.MergeFile(file);
  return catalog;
}

CandidateContext Context(const PlanSettings& s, const Catalog& catalog, const RunResolver& runs,
                         const energy::CcfCoefficients& ccf) {
  CandidateContext context;
  context.ccf = &ccf;
  context.catalog = &catalog;
  context.runs = &runs;
  if (const std::string* t = Value(s, "instance-type")) {
    catalog.Find(*t);  // an unknown type fails here, with the closest names
    context.this_machine_type = *t;
  }
  if (const std::string* p = Value(s, "price")) {
    context.this_machine_price_usd_per_hour = ParsePriceUsdPerHour(*p, "--price");
  }
  return context;
}

double ParseFraction(const std::string& text, std::string_view what) {
  if (!text.empty() && text.back() == '%') {
    return ParseNumber(std::string_view(text).substr(0, text.size() - 1), what) / 100;
  }
  return ParseNumber(text, what);
}

// "1:3400/s,16:52000/s" or "1:small.json,16:big.json" (train runs at two cluster sizes) ->
// efficiency of the larger size against the smaller.
Sourced ScalingFrom(const std::string& text, const std::string& origin, const RunResolver& runs) {
  const auto comma = text.find(',');
  auto part = [&](std::string_view p, int& n, double& rate) {
    const auto colon = p.find(':');
    if (colon == std::string_view::npos) {
      throw InputError(
          fmt::format("--scaling-from: '{}' is not INSTANCES:RATE; e.g. "
                      "1:3400/s,16:52000/s",
                      text));
    }
    const double count = ParseCount(p.substr(0, colon), "--scaling-from instances");
    if (count != static_cast<int>(count)) {
      throw InputError("--scaling-from: instance counts must be whole numbers");
    }
    n = static_cast<int>(count);
    const std::string_view what = p.substr(colon + 1);
    // A rate starts with a number and has a time unit; anything else (an existing file, a
    // path, a run id) names a train run.
    std::error_code ec;
    const bool is_file = std::filesystem::exists(std::string(what), ec);
    const bool looks_like_rate = !what.empty() &&
                                 (std::isdigit(static_cast<unsigned char>(what.front())) != 0) &&
                                 what.find('/') != std::string_view::npos;
    if (!is_file && looks_like_rate) {
      rate = ParseRatePerSecond(what, "--scaling-from throughput");
    } else {
      try {
        rate = TrainingThroughputOfRun(runs.Resolve(what)).value;
      } catch (const InputError& e) {
        throw InputError(fmt::format("--scaling-from: {}", e.what()));
      }
    }
  };
  if (comma == std::string::npos) {
    throw InputError("--scaling-from: give two sizes, e.g. 1:3400/s,16:52000/s");
  }
  int n1 = 0;
  int n2 = 0;
  double r1 = 0;
  double r2 = 0;
  part(std::string_view(text).substr(0, comma), n1, r1);
  part(std::string_view(text).substr(comma + 1), n2, r2);
  return Sourced{ScalingEfficiency(n1, r1, n2, r2), fmt::format("measured: {} {}", origin, text)};
}

}  // namespace

void PlanSettings::Set(const std::string& name, std::string value, std::string origin) {
  values[name] = std::move(value);
  origins[name] = origin.empty() ? "--" + name : std::move(origin);
}

const std::vector<std::string>& InferenceSettingNames() {
  static const std::vector<std::string> names = WithCommon(kInferenceSettings);
  return names;
}

const std::vector<std::string>& TrainingSettingNames() {
  static const std::vector<std::string> names = WithCommon(kTrainingSettings);
  return names;
}

InferencePlan PlanInferenceFromSettings(PlanSettings s) {
  MergeConfig(s, "infer", InferenceSettingNames());
  InferenceRequest request;
  const std::string* sla = Value(s, "sla");
  if (!sla) throw InputError("--sla: required; give the target rate with units, e.g. 1000000/h");
  request.rate_per_s = ParseRatePerSecond(*sla, "--sla");
  if (const std::string* l = Value(s, "latency-bound")) {
    request.latency_bound_s =
        std::chrono::duration<double>(ParseDuration(*l, "--latency-bound")).count();
  }
  if (const std::string* u = Value(s, "utilisation")) {
    request.target_utilisation = ParseFraction(*u, "--utilisation");
  }
  if (const std::string* b = Value(s, "baseline")) request.baseline = *b;
  if (!(request.target_utilisation > 0 && request.target_utilisation <= 1)) {
    throw InputError(fmt::format("--utilisation: {} is outside (0, 1]; e.g. 1.0 or 0.7",
                                 request.target_utilisation));
  }
  request.carbon = Carbon(s);
  const Catalog catalog = LoadCatalog(s);
  const DefaultRunResolver runs;
  const auto ccf = energy::CcfCoefficients::Load();
  const auto context = Context(s, catalog, runs, ccf);
  std::vector<InferenceCandidate> candidates;
  for (const auto& spec : s.candidates) {
    candidates.push_back(ResolveInferenceCandidate(spec, context));
  }
  return PlanInference(request, std::move(candidates));
}

TrainingPlanOutcome PlanTrainingFromSettings(PlanSettings s) {
  MergeConfig(s, "train", TrainingSettingNames());
  TrainingRequest request;
  const std::string* sequences = Value(s, "sequences");
  if (!sequences) throw InputError("--sequences: required, e.g. 450M");
  request.total_sequences = ParseCount(*sequences, "--sequences");
  const std::string* instances = Value(s, "instances");
  if (!instances) throw InputError("--instances: required, e.g. 16");
  const double n = ParseCount(*instances, "--instances");
  if (n != static_cast<int>(n)) throw InputError("--instances: must be a whole number, e.g. 16");
  request.instances = static_cast<int>(n);
  const std::string* efficiency = Value(s, "scaling-efficiency");
  const std::string* scaling_from = Value(s, "scaling-from");
  const std::string* from_run = Value(s, "from-run");
  if ((efficiency != nullptr) + (scaling_from != nullptr) + (from_run != nullptr) > 1) {
    throw InputError(
        "--scaling-efficiency, --scaling-from and --from-run each give the scaling efficiency: "
        "give one of them");
  }
  const DefaultRunResolver runs;
  std::vector<std::string> efficiency_notes;
  if (efficiency) {
    request.scaling_efficiency =
        Sourced{ParseFraction(*efficiency, "--scaling-efficiency"), Given(s, "scaling-efficiency")};
  } else if (scaling_from) {
    request.scaling_efficiency =
        ScalingFrom(*scaling_from, Given(s, "scaling-from").substr(7), runs);
  } else if (from_run) {
    try {
      request.scaling_efficiency =
          ScalingEfficiencyOfRun(runs.Resolve(*from_run), request.instances, &efficiency_notes);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--from-run: {}", e.what()));
    }
  }
  if (const std::string* b = Value(s, "baseline")) request.baseline = *b;
  request.carbon = Carbon(s);
  const Catalog catalog = LoadCatalog(s);
  const auto ccf = energy::CcfCoefficients::Load();
  const auto context = Context(s, catalog, runs, ccf);
  std::vector<TrainingCandidate> candidates;
  for (const auto& spec : s.candidates) {
    candidates.push_back(ResolveTrainingCandidate(spec, context));
  }
  if (!efficiency && !scaling_from && !from_run) {
    // A candidate from a multi-node run brings the efficiency it measured.
    if (auto measured = CandidatesScalingEfficiency(candidates)) {
      request.scaling_efficiency = *measured;
      efficiency_notes.push_back(
          "the scaling efficiency is the one a candidate's multi-node run measured (replacing "
          "the default 1.0); --scaling-efficiency or --from-run choose another");
    }
  }
  TrainingPlanOutcome outcome{PlanTraining(request, std::move(candidates)), std::nullopt};
  outcome.plan.notes.insert(outcome.plan.notes.end(), efficiency_notes.begin(),
                            efficiency_notes.end());
  if (const std::string* from = Value(s, "predict-from")) {
    double observe = 0.25;
    if (const std::string* o = Value(s, "observe")) observe = ParseFraction(*o, "--observe");
    try {
      outcome.prediction = PredictTrainingFromRun(runs.Resolve(*from), observe, request);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--predict-from: {}", e.what()));
    }
  }
  return outcome;
}

}  // namespace joulebench::plan
