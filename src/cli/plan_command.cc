// `joulebench plan infer` and `joulebench plan train`: argument handling only; the planning is
// in src/plan/.
#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "joulebench/energy/ccf_coefficients.h"
#include "joulebench/error.h"
#include "joulebench/plan/candidate_spec.h"
#include "joulebench/plan/carbon_data.h"
#include "joulebench/plan/catalog.h"
#include "joulebench/plan/inference_plan.h"
#include "joulebench/plan/plan_file.h"
#include "joulebench/plan/plan_report.h"
#include "joulebench/plan/run_resolver.h"
#include "joulebench/plan/training_plan.h"
#include "joulebench/plan/training_prediction.h"
#include "joulebench/store/run_store.h"
#include "joulebench/units.h"

namespace joulebench::cli {
namespace {

// Flags shared by both planners, as text so that the library's parsers word the errors.
struct CommonFlags {
  std::map<std::string, std::string> values;   // flag name without "--" -> text
  std::map<std::string, std::string> origins;  // flag name -> "--pue" or "study.toml [infer]"
  std::vector<std::string> candidates;
  std::vector<std::string> catalogs;
  std::string config;
  bool json = false;
  bool csv = false;
};

void AddValue(CLI::App& app, CommonFlags& flags, const std::string& name, const std::string& help) {
  app.add_option_function<std::string>(
      "--" + name,
      [&flags, name](const std::string& v) {
        flags.values[name] = v;
        flags.origins[name] = "--" + name;
      },
      help);
}

void AddCommon(CLI::App& app, CommonFlags& flags) {
  app.add_option("--candidate", flags.candidates,
                 "A candidate: name=, type=, run=, throughput=, power=, price=, latency=, source= "
                 "(repeat; at least two)");
  AddValue(app, flags, "baseline", "Candidate that is the 1x reference (default: the last)");
  AddValue(app, flags, "region", "Region of the grid intensity (default us-east-1)");
  AddValue(app, flags, "grid-intensity",
           "Grid carbon intensity in gCO2e/kWh (instead of --region)");
  AddValue(app, flags, "pue", "Data-centre PUE (default: AWS average from data/constants.csv)");
  AddValue(app, flags, "instance-type", "Machine type of this machine (for run= candidates)");
  AddValue(app, flags, "price", "Price of this machine in USD per hour, e.g. 0.752/h");
  AddValue(app, flags, "db", "Run database for run=ID candidates (default: the user's store)");
  app.add_option("--catalog", flags.catalogs, "CSV file adding or overriding machine types");
  app.add_option("--config", flags.config, "TOML plan file (e.g. data/examples/study.toml)");
  app.add_flag("--json", flags.json, "Print the plan as JSON (schema: docs/planner.md)");
  app.add_flag("--csv", flags.csv, "Print the plan as CSV, one row per candidate");
}

const std::vector<std::string> kCommonSettings{"baseline",      "region", "grid-intensity", "pue",
                                               "instance-type", "price",  "catalog"};

// Merges the plan file's [section] under the flags: flags win; flag candidates replace the
// file's.
std::vector<plan::CandidateSpec> MergeConfig(CommonFlags& flags, std::string_view section,
                                             std::vector<std::string> known) {
  std::vector<plan::CandidateSpec> specs;
  if (!flags.config.empty()) {
    known.insert(known.end(), kCommonSettings.begin(), kCommonSettings.end());
    auto file = plan::ReadPlanFile(flags.config, section, known);
    for (auto& [key, value] : file.settings) {
      if (key == "catalog") {
        // A catalog named in a plan file is relative to that file.
        const auto path = std::filesystem::path(flags.config).parent_path() / value;
        flags.catalogs.insert(flags.catalogs.begin(), path.string());
        continue;
      }
      if (flags.values.try_emplace(key, value).second) {
        flags.origins[key] = fmt::format(
            "{} [{}] {}", std::filesystem::path(flags.config).filename().string(), section, key);
      }
    }
    if (flags.candidates.empty()) specs = std::move(file.candidates);
  }
  int index = 0;
  for (const auto& text : flags.candidates) {
    specs.push_back(plan::ParseCandidateSpec(text, fmt::format("--candidate #{}", ++index)));
  }
  if (flags.json && flags.csv) throw InputError("--json and --csv: choose one output format");
  return specs;
}

const std::string* Value(const CommonFlags& flags, const std::string& name) {
  auto it = flags.values.find(name);
  return it == flags.values.end() ? nullptr : &it->second;
}

std::string Given(const CommonFlags& flags, const std::string& name) {
  auto it = flags.origins.find(name);
  return "given: " + (it == flags.origins.end() ? "--" + name : it->second);
}

plan::CarbonInputs Carbon(const CommonFlags& flags) {
  plan::CarbonInputs carbon;
  if (const std::string* g = Value(flags, "grid-intensity")) {
    const double value = ParseNumber(*g, "--grid-intensity");
    if (value < 0) throw InputError("--grid-intensity: must not be negative, e.g. 379");
    carbon.grid_g_co2e_per_kwh = plan::Sourced{value, Given(flags, "grid-intensity")};
    if (const std::string* r = Value(flags, "region")) carbon.region = *r;
  } else {
    const std::string* r = Value(flags, "region");
    carbon.region = r ? *r : "us-east-1";
    carbon.grid_g_co2e_per_kwh =
        plan::GridInput(plan::GridIntensityTable::LoadDefault().Find(carbon.region));
    if (!r) carbon.grid_g_co2e_per_kwh.provenance += "; region default: us-east-1 (the study's)";
  }
  if (const std::string* p = Value(flags, "pue")) {
    carbon.pue = plan::Sourced{ParseNumber(*p, "--pue"), Given(flags, "pue")};
  } else {
    carbon.pue = plan::DefaultPue();
  }
  return carbon;
}

plan::Catalog LoadCatalog(const CommonFlags& flags) {
  plan::Catalog catalog = plan::Catalog::LoadDefault();
  for (const auto& file : flags.catalogs) catalog.MergeFile(file);
  return catalog;
}

plan::CandidateContext Context(const CommonFlags& flags, const plan::Catalog& catalog,
                               const plan::RunResolver& runs, const energy::CcfCoefficients& ccf) {
  plan::CandidateContext context;
  context.ccf = &ccf;
  // run=ID candidates: the store answers ids (unless storing is switched off and no --db
  // names a database explicitly).
  if (store::StoringEnabled(false) || Value(flags, "db") != nullptr) {
    std::optional<std::string> db;
    if (const std::string* d = Value(flags, "db")) db = *d;
    plan::RegisterRunLookup([db](std::string_view id) -> std::optional<run::RunRecord> {
      auto runs = store::OpenExistingStore(db);
      return runs.Load(id);
    });
  }
  context.catalog = &catalog;
  context.runs = &runs;
  if (const std::string* t = Value(flags, "instance-type")) {
    catalog.Find(*t);  // an unknown type fails here, with the closest names
    context.this_machine_type = *t;
  }
  if (const std::string* p = Value(flags, "price")) {
    context.this_machine_price_usd_per_hour = plan::ParsePriceUsdPerHour(*p, "--price");
  }
  return context;
}

double ParseFraction(const std::string& text, std::string_view what) {
  if (!text.empty() && text.back() == '%') {
    return ParseNumber(std::string_view(text).substr(0, text.size() - 1), what) / 100;
  }
  return ParseNumber(text, what);
}

void Print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

int RunInfer(CommonFlags& flags) {
  auto specs = MergeConfig(flags, "infer", {"sla", "latency-bound", "utilisation"});
  plan::InferenceRequest request;
  const std::string* sla = Value(flags, "sla");
  if (!sla) throw InputError("--sla: required; give the target rate with units, e.g. 1000000/h");
  request.rate_per_s = ParseRatePerSecond(*sla, "--sla");
  if (const std::string* l = Value(flags, "latency-bound")) {
    request.latency_bound_s =
        std::chrono::duration<double>(ParseDuration(*l, "--latency-bound")).count();
  }
  if (const std::string* u = Value(flags, "utilisation")) {
    request.target_utilisation = ParseFraction(*u, "--utilisation");
  }
  if (const std::string* b = Value(flags, "baseline")) request.baseline = *b;
  if (!(request.target_utilisation > 0 && request.target_utilisation <= 1)) {
    throw InputError(fmt::format("--utilisation: {} is outside (0, 1]; e.g. 1.0 or 0.7",
                                 request.target_utilisation));
  }
  request.carbon = Carbon(flags);
  const plan::Catalog catalog = LoadCatalog(flags);
  const plan::DefaultRunResolver runs;
  const auto ccf = energy::CcfCoefficients::Load();
  const auto context = Context(flags, catalog, runs, ccf);
  std::vector<plan::InferenceCandidate> candidates;
  for (const auto& spec : specs) {
    candidates.push_back(plan::ResolveInferenceCandidate(spec, context));
  }
  const auto result = plan::PlanInference(request, std::move(candidates));
  if (flags.json) {
    Print(plan::ToJson(result).dump(2) + "\n");
  } else if (flags.csv) {
    Print(plan::ToCsv(result));
  } else {
    Print(plan::RenderTable(result));
  }
  return 0;
}

// "1:3400/s,16:52000/s" or "1:small.json,16:big.json" (train runs at two cluster sizes) ->
// efficiency of the larger size against the smaller.
plan::Sourced ScalingFrom(const std::string& text, const std::string& origin,
                          const plan::RunResolver& runs) {
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
        rate = plan::TrainingThroughputOfRun(runs.Resolve(what)).value;
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
  return plan::Sourced{plan::ScalingEfficiency(n1, r1, n2, r2),
                       fmt::format("measured: {} {}", origin, text)};
}

int RunTrain(CommonFlags& flags) {
  auto specs = MergeConfig(flags, "train",
                           {"sequences", "instances", "scaling-efficiency", "scaling-from",
                            "from-run", "predict-from", "observe"});
  plan::TrainingRequest request;
  const std::string* sequences = Value(flags, "sequences");
  if (!sequences) throw InputError("--sequences: required, e.g. 450M");
  request.total_sequences = ParseCount(*sequences, "--sequences");
  const std::string* instances = Value(flags, "instances");
  if (!instances) throw InputError("--instances: required, e.g. 16");
  const double n = ParseCount(*instances, "--instances");
  if (n != static_cast<int>(n)) throw InputError("--instances: must be a whole number, e.g. 16");
  request.instances = static_cast<int>(n);
  const std::string* efficiency = Value(flags, "scaling-efficiency");
  const std::string* scaling_from = Value(flags, "scaling-from");
  const std::string* from_run = Value(flags, "from-run");
  if ((efficiency != nullptr) + (scaling_from != nullptr) + (from_run != nullptr) > 1) {
    throw InputError(
        "--scaling-efficiency, --scaling-from and --from-run each give the scaling efficiency: "
        "give one of them");
  }
  if (const std::string* b = Value(flags, "baseline")) request.baseline = *b;
  request.carbon = Carbon(flags);
  const plan::Catalog catalog = LoadCatalog(flags);
  const plan::DefaultRunResolver runs;
  const auto ccf = energy::CcfCoefficients::Load();
  // After the context: it lets the resolver find stored runs by id.
  const auto context = Context(flags, catalog, runs, ccf);
  std::vector<std::string> efficiency_notes;
  if (efficiency) {
    request.scaling_efficiency = plan::Sourced{ParseFraction(*efficiency, "--scaling-efficiency"),
                                               Given(flags, "scaling-efficiency")};
  } else if (scaling_from) {
    request.scaling_efficiency =
        ScalingFrom(*scaling_from, Given(flags, "scaling-from").substr(7), runs);
  } else if (from_run) {
    try {
      request.scaling_efficiency =
          plan::ScalingEfficiencyOfRun(runs.Resolve(*from_run), request.instances, &efficiency_notes);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--from-run: {}", e.what()));
    }
  }
  std::vector<plan::TrainingCandidate> candidates;
  for (const auto& spec : specs) {
    candidates.push_back(plan::ResolveTrainingCandidate(spec, context));
  }
  if (!efficiency && !scaling_from && !from_run) {
    // A candidate from a multi-node run brings the efficiency it measured.
    if (auto measured = plan::CandidatesScalingEfficiency(candidates)) {
      request.scaling_efficiency = *measured;
      efficiency_notes.push_back(
          "the scaling efficiency is the one a candidate's multi-node run measured (replacing "
          "the default 1.0); --scaling-efficiency or --from-run choose another");
    }
  }
  auto result = plan::PlanTraining(request, std::move(candidates));
  result.notes.insert(result.notes.end(), efficiency_notes.begin(), efficiency_notes.end());
  std::optional<plan::TrainingPrediction> prediction;
  if (const std::string* from = Value(flags, "predict-from")) {
    double observe = 0.25;
    if (const std::string* o = Value(flags, "observe")) observe = ParseFraction(*o, "--observe");
    try {
      prediction = plan::PredictTrainingFromRun(runs.Resolve(*from), observe, request);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--predict-from: {}", e.what()));
    }
  }
  if (flags.json) {
    Print(plan::ToJson(result, prediction).dump(2) + "\n");
  } else if (flags.csv) {
    Print(plan::ToCsv(result));
  } else {
    Print(plan::RenderTable(result, prediction));
  }
  return 0;
}

const CommandRegistration kPlan{Command{
    "plan", "Plan inference fleets and training runs: instances, energy, cost, CO2e",
    [](CLI::App& app) -> std::function<int()> {
      app.require_subcommand(1);
      auto infer_flags = std::make_shared<CommonFlags>();
      auto train_flags = std::make_shared<CommonFlags>();
      CLI::App* infer = app.add_subcommand(
          "infer", "Instances of each candidate for an SLA rate, with energy, cost and CO2e");
      AddValue(*infer, *infer_flags, "sla",
               "Target rate with a time unit, e.g. 1000000/h or 278/s");
      AddValue(*infer, *infer_flags, "latency-bound",
               "p99 latency the candidates must meet, e.g. 100ms");
      AddValue(*infer, *infer_flags, "utilisation",
               "Target utilisation of each instance, (0, 1] or a percentage (default 1.0)");
      AddCommon(*infer, *infer_flags);
      CLI::App* train = app.add_subcommand(
          "train", "Time, energy, cost and CO2e of a training run on a cluster of each candidate");
      AddValue(*train, *train_flags, "sequences", "Sequences to train on, e.g. 450M");
      AddValue(*train, *train_flags, "instances", "Instances per candidate, e.g. 16");
      AddValue(*train, *train_flags, "scaling-efficiency",
               "Fraction of linear scaling, (0, 1] (default 1.0)");
      AddValue(*train, *train_flags, "scaling-from",
               "Scaling efficiency measured at two sizes: N1:RATE1,N2:RATE2");
      AddValue(*train, *train_flags, "from-run",
               "Scaling efficiency measured by a multi-node train run (train --mpi; stored id "
               "or JSON file)");
      AddValue(*train, *train_flags, "predict-from",
               "A train run (JSON file or stored id) to predict from its first steps");
      AddValue(*train, *train_flags, "observe",
               "Fraction of that run used for the prediction (default 0.25)");
      AddCommon(*train, *train_flags);
      return [infer, train, infer_flags, train_flags]() {
        if (infer->parsed()) return RunInfer(*infer_flags);
        if (train->parsed()) return RunTrain(*train_flags);
        return 2;
      };
    },
    60}};

}  // namespace
}  // namespace joulebench::cli
