// joulebench study [--quick] [--sla 1000000/h] [--instance-type NAME] [--region R] ...
#include <fmt/format.h>

#include <cstdio>
#include <fstream>

#include "cli/command.h"
#include "cli/run_observers.h"
#include "cli/source_flags.h"
#include "joulebench/error.h"
#include "joulebench/plan/catalog.h"
#include "joulebench/plan/plan_report.h"
#include "joulebench/report/html_report.h"
#include "joulebench/run/run_record.h"
#include "joulebench/store/run_store.h"
#include "joulebench/store/storing_observer.h"
#include "joulebench/units.h"
#include "joulebench/workloads/study.h"

namespace joulebench::cli {
namespace {

struct StudyFlags {
  SourceFlags sources;
  bool quick = false;
  std::string sla = "1000000/h";
  std::string latency_bound = "1s";
  std::string instance_type;
  std::string price;
  std::string region = "us-east-1";
  std::string pue;
  std::string report = "joulebench-study.html";
  std::string inputs;
  std::string inference_model;
  std::string training_model;
  std::int64_t inference_seq_len = 0;
  std::int64_t training_seq_len = 0;
  std::string duration;
  std::string baseline;
  std::string interval;
  int threads = 0;
  std::string device = "cpu";
  RunFlags run;
  bool json = false;
};

void Print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

int Run(const StudyFlags& f) {
  workloads::StudyOptions o;
  o.quick = f.quick;
  o.sla_per_s = ParseRatePerSecond(f.sla, "--sla");
  o.latency_bound = ParseDuration(f.latency_bound, "--latency-bound");
  if (!f.instance_type.empty()) o.instance_type = f.instance_type;
  if (!f.price.empty()) o.price_usd_per_hour = ParseNumber(f.price, "--price");
  if (o.price_usd_per_hour && *o.price_usd_per_hour <= 0) {
    throw InputError("--price: must be a positive number of US dollars per hour, e.g. 0.752");
  }
  o.region = f.region;
  if (!f.pue.empty()) {
    o.pue = ParseNumber(f.pue, "--pue");
    if (*o.pue < 1) throw InputError("--pue: must be at least 1.0, e.g. 1.135");
  }
  if (!f.inputs.empty()) o.published_inputs = f.inputs;
  if (!f.inference_model.empty()) o.inference_model = f.inference_model;
  if (!f.training_model.empty()) o.training_model = f.training_model;
  if (f.inference_seq_len != 0) o.inference_seq_len = f.inference_seq_len;
  if (f.training_seq_len != 0) o.training_seq_len = f.training_seq_len;
  if (!f.duration.empty()) o.measure_duration = ParseDuration(f.duration, "--duration");
  if (!f.baseline.empty()) o.baseline = ParseDuration(f.baseline, "--baseline");
  if (!f.interval.empty()) o.meter.interval = ParseDuration(f.interval, "--interval");
  o.threads = f.threads;
  o.device = f.device;
  o.sources = ResolveSourceOptions(f.sources);
  // The report's path is checked before minutes of measuring, not after.
  {
    std::ofstream probe_out(f.report, std::ios::app);
    if (!probe_out) {
      throw InputError(fmt::format("--report: cannot write {}; choose a writable path", f.report));
    }
  }
  // Progress and stopping on SIGINT/SIGTERM are shared by the two runs; each run has its own
  // storing observer, so both are stored as they happen (and an interrupted one as incomplete).
  RunFlags shared = f.run;
  shared.no_store = true;
  CliRunObservers common(shared, /*stop_on_signals=*/true);
  const bool storing = store::StoringEnabled(f.run.no_store);
  std::optional<store::StoringObserver> store_inference;
  std::optional<store::StoringObserver> store_training;
  if (storing) {
    store_inference.emplace(store::OpenStore(f.run.db));
    store_training.emplace(store::OpenStore(f.run.db));
  }
  run::RunObservers inference_observers;
  inference_observers.Add(common.observer());
  if (store_inference) inference_observers.Add(&*store_inference);
  run::RunObservers training_observers;
  training_observers.Add(common.observer());
  if (store_training) training_observers.Add(&*store_training);
  o.inference_observer = &inference_observers;
  o.training_observer = &training_observers;

  workloads::StudyResult result = workloads::RunStudy(o);
  if (store_inference) result.inference.id = store_inference->run_id();
  if (store_training) result.training.id = store_training->run_id();

  report::HtmlReportOptions html;
  html.title = "joulebench study on this machine";
  html.plan = plan::ToJson(result.inference_plan);
  html.generator = "joulebench study";
  std::vector<run::RunRecord> drawn{result.inference};
  if (!result.training.kind.empty()) drawn.push_back(result.training);
  {
    std::ofstream out(f.report, std::ios::trunc);
    out << report::RenderHtmlReport(drawn, html);
    if (!out) throw RuntimeError(fmt::format("--report: writing {} failed", f.report));
  }

  if (f.json) {
    nlohmann::json j{{"inference_plan", plan::ToJson(result.inference_plan)},
                     {"training_plan", plan::ToJson(result.training_plan)},
                     {"inference_run", run::ToJson(result.inference)},
                     {"training_run", run::ToJson(result.training)},
                     {"notes", result.notes},
                     {"report", f.report}};
    Print(run::DumpJson(j, 2) + "\n");
    return common.ExitCode(0);
  }
  Print("\nThe study on this machine: LayoutLM inference for an SLA\n");
  Print(plan::RenderTable(result.inference_plan));
  Print("\nThe study on this machine: BERT pretraining\n");
  Print(plan::RenderTable(result.training_plan));
  Print("\n" + result.notes + "\n");
  if (store_inference) Print("inference: " + store_inference->StoredLine() + "\n");
  if (store_training && !result.training.kind.empty()) {
    Print("training: " + store_training->StoredLine() + "\n");
  }
  Print(fmt::format("report written to {}\n", f.report));
  return common.ExitCode(0);
}

const CommandRegistration kRegistration{Command{
    "study",
    "Rerun the published study on this machine: LayoutLM inference and BERT pretraining, "
    "planned against the study's candidates, with an HTML report",
    [](CLI::App& app) -> std::function<int()> {
      auto f = std::make_shared<StudyFlags>();
      app.add_flag("--quick", f->quick,
                   "Small shapes and short windows: a few minutes on a 2-core CPU machine");
      app.add_option("--sla", f->sla, "Inference SLA rate with units (default 1000000/h)");
      app.add_option("--latency-bound", f->latency_bound,
                     "p99 latency bound of this machine's peak search (default 1s)");
      app.add_option("--instance-type", f->instance_type,
                     "This machine's type in the catalog (price, published power)");
      app.add_option("--price", f->price, "This machine's price in US dollars per hour");
      app.add_option("--region", f->region, "Grid region for CO2e (default us-east-1)");
      app.add_option("--pue", f->pue, "Data-centre PUE (default: the catalog's AWS average)");
      app.add_option("--report", f->report, "HTML report to write (default joulebench-study.html)");
      app.add_option("--inputs", f->inputs,
                     "The study's published inputs (default data/examples/study.toml)");
      app.add_option("--inference-model", f->inference_model, "Override the inference model");
      app.add_option("--training-model", f->training_model, "Override the training model");
      app.add_option("--inference-seq-len", f->inference_seq_len, "Override its tokens");
      app.add_option("--training-seq-len", f->training_seq_len, "Override its tokens");
      app.add_option("--duration", f->duration, "Measured time of each part, e.g. 30s");
      app.add_option("--baseline", f->baseline, "Idle power measured before each run, e.g. 10s");
      app.add_option("--interval", f->interval, "Sampling period (default 100ms)");
      app.add_option("--threads", f->threads, "libtorch intra-op threads (default: every core)");
      app.add_option("--device", f->device, "cpu | cuda | cuda:N (default cpu)");
      app.add_flag("--json", f->json, "Print both plans and both runs as JSON");
      AddSourceFlags(app, f->sources);
      AddRunFlags(app, f->run, /*with_name=*/false);
      return [f] { return Run(*f); };
    },
    60}};

}  // namespace
}  // namespace joulebench::cli
