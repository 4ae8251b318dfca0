// `joulebench plan infer` and `joulebench plan train`: argument handling only; the planning is
// in src/plan/.
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "joulebench/error.h"
#include "joulebench/plan/candidate_spec.h"
#include "joulebench/plan/plan_report.h"
#include "joulebench/plan/plan_settings.h"
#include "joulebench/run/run_record.h"
#include "joulebench/store/plan_run_lookup.h"

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

// The settings for the library, after the checks that only concern the command line.
plan::PlanSettings Settings(const CommonFlags& flags) {
  if (flags.json && flags.csv) throw InputError("--json and --csv: choose one output format");
  plan::PlanSettings settings;
  settings.values = flags.values;
  settings.origins = flags.origins;
  settings.catalogs = flags.catalogs;
  settings.config = flags.config;
  int index = 0;
  for (const auto& text : flags.candidates) {
    settings.candidates.push_back(
        plan::ParseCandidateSpec(text, fmt::format("--candidate #{}", ++index)));
  }
  // run=ID candidates: the store answers ids (unless storing is switched off and no --db
  // names a database explicitly).
  std::optional<std::string> db;
  if (auto it = flags.values.find("db"); it != flags.values.end()) db = it->second;
  settings.values.erase("db");
  store::RegisterPlanRunLookup(db);
  return settings;
}

void Print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

int RunInfer(const CommonFlags& flags) {
  const auto result = plan::PlanInferenceFromSettings(Settings(flags));
  if (flags.json) {
    Print(run::DumpJson(plan::ToJson(result), 2) + "\n");
  } else if (flags.csv) {
    Print(plan::ToCsv(result));
  } else {
    Print(plan::RenderTable(result));
  }
  return 0;
}

int RunTrain(const CommonFlags& flags) {
  const auto outcome = plan::PlanTrainingFromSettings(Settings(flags));
  if (flags.json) {
    Print(run::DumpJson(plan::ToJson(outcome.plan, outcome.prediction), 2) + "\n");
  } else if (flags.csv) {
    Print(plan::ToCsv(outcome.plan));
  } else {
    Print(plan::RenderTable(outcome.plan, outcome.prediction));
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
