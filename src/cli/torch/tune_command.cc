// joulebench tune infer --model M --latency-bound 100ms [--budget 15m] ...
// joulebench tune train --model M [--time-budget 24h --sequences 450M] [--budget 15m] ...
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/run_observers.h"
#include "cli/source_flags.h"
#include "cli/torch/print_run.h"
#include "joulebench/error.h"
#include "joulebench/plan/candidate_spec.h"
#include "joulebench/report/tune_report.h"
#include "joulebench/units.h"
#include "joulebench/workloads/inference_tune.h"
#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/training_tune.h"

namespace joulebench::cli {
namespace {

// What both modes share.
struct SearchFlags {
  SourceFlags sources;
  RunFlags run;
  std::string model;
  std::int64_t seq_len = 128;
  std::string device = "cpu";
  std::string linear_kernel = "auto";
  std::string weights;
  std::uint64_t seed = 1;
  std::vector<std::int64_t> batches;
  std::vector<int> threads;
  std::vector<std::string> dtypes;
  std::string budget = "15m";
  std::string probe_duration;
  std::string window;
  std::string max_warmup;
  std::size_t finalists = 4;
  int rungs = 2;
  double eta = 2;
  std::string baseline;
  bool json = false;
};

struct InferTuneFlags : SearchFlags {
  std::string latency_bound;
  std::vector<std::string> delays;
  std::string power_limits = "auto";
  unsigned int gpu = 0;
  std::uint64_t min_queries = 50;
  std::size_t samples = 256;
  std::int64_t accuracy_documents = 8;
};

struct TrainTuneFlags : SearchFlags {
  std::string sequences = "450M";
  std::string time_budget;
};

double Seconds(const std::string& text, std::string_view what) {
  return std::chrono::duration<double>(ParseDuration(text, what)).count();
}

void AddSearchFlags(CLI::App& app, SearchFlags& f, const std::string& default_model,
                    const std::string& default_probe) {
  f.model = default_model;
  AddSourceFlags(app, f.sources);
  app.add_option(
      "--model", f.model,
      "Built-in model (" + workloads::KnownModelNames() + "; default " + default_model + ")");
  app.add_option("--seq-len", f.seq_len, "Tokens per sequence (default 128)");
  app.add_option("--device", f.device, "cpu | cuda | cuda:N (default cpu)");
  app.add_option("--linear-kernel", f.linear_kernel,
                 "auto | blas | onednn: kernel of the fp32 dense layers (default auto)");
  app.add_option("--weights", f.weights, "State dict to load (default random weights)");
  app.add_option("--seed", f.seed, "Seed of weights and inputs (default 1)");
  app.add_option("--batches", f.batches, "Batch sizes to search, e.g. 1,2,4,8,16")->delimiter(',');
  app.add_option("--threads", f.threads,
                 "Intra-op thread counts to search (default 1, 2, 4, ... up to the CPUs)")
      ->delimiter(',');
  app.add_option("--dtypes", f.dtypes, "Dtypes to search (default: all that can run here)")
      ->delimiter(',');
  app.add_option("--budget", f.budget,
                 "Longest the whole search may take; it stops with the best so far (default 15m)");
  app.add_option("--probe-duration", f.probe_duration,
                 "Least measured time of a first-rung measurement (default " + default_probe +
                     "; each later rung x eta)");
  app.add_option("--window", f.window, "Throughput and power window of the probes");
  app.add_option("--max-warmup", f.max_warmup, "Longest wait for steady state per measurement");
  app.add_option("--finalists", f.finalists,
                 "Screened configurations measured again, longer (default 4)");
  app.add_option("--rungs", f.rungs, "Longer rungs after screening (default 2)");
  app.add_option("--eta", f.eta,
                 "Each rung keeps 1/eta of the configurations and measures eta times longer "
                 "(default 2)");
  app.add_option("--baseline", f.baseline,
                 "Measure idle power this long first (e.g. 10s): the search then minimises the "
                 "attributable energy");
  app.add_flag("--json", f.json, "Print the tune run record as JSON");
  AddRunFlags(app, f.run, /*with_name=*/false);
}

tune::SearchSettings Search(const SearchFlags& f) {
  tune::SearchSettings s;
  s.budget_s = Seconds(f.budget, "--budget");
  s.finalists = f.finalists;
  s.longer_rungs = f.rungs;
  s.eta = f.eta;
  if (f.rungs < 0) throw InputError("--rungs must be 0 or more");
  if (!(f.eta > 1)) throw InputError(fmt::format("--eta: {} must be greater than 1", f.eta));
  return s;
}

workloads::TorchOptions Torch(const SearchFlags& f) {
  workloads::TorchOptions t;
  t.device = f.device;
  t.linear_kernel = workloads::ParseLinearKernel(f.linear_kernel);
  t.seed = f.seed;
  t.weights_path = f.weights;
  return t;
}

void Print(const run::RunRecord& record, bool json) {
  PrintRunRecord(record, json);
  if (!json) {
    const std::string summary = report::FormatTuneSummary(record);
    std::fwrite(summary.data(), 1, summary.size(), stdout);
    std::fflush(stdout);
  }
}

int RunInferTune(const InferTuneFlags& f) {
  if (f.latency_bound.empty()) {
    throw InputError("--latency-bound: required, the p99 bound at the peak rate (e.g. 100ms)");
  }
  workloads::InferenceTuneOptions o;
  o.base.model = f.model;
  o.base.seq_len = f.seq_len;
  o.base.sample_count = f.samples;
  o.base.torch = Torch(f);
  o.base.settings.server_target_latency_ns =
      ParseDuration(f.latency_bound, "--latency-bound").count();
  o.base.gemm_peak_duration = {};
  if (!f.baseline.empty()) o.base.baseline = ParseDuration(f.baseline, "--baseline");
  o.base.sources = ResolveSourceOptions(f.sources);
  o.batches = f.batches;
  o.threads = f.threads;
  o.dtypes = f.dtypes;
  for (const auto& d : f.delays) {
    o.delays.push_back(d == "0" ? std::chrono::nanoseconds(0) : ParseDuration(d, "--delays", true));
  }
  if (f.power_limits == "none") {
    o.power_limits_w = std::vector<double>{};
  } else if (f.power_limits != "auto") {
    std::vector<double> limits;
    std::size_t begin = 0;
    while (begin <= f.power_limits.size()) {
      const std::size_t end = std::min(f.power_limits.find(',', begin), f.power_limits.size());
      limits.push_back(
          plan::ParsePowerWatts(f.power_limits.substr(begin, end - begin), "--power-limits"));
      begin = end + 1;
    }
    o.power_limits_w = limits;
  }
  o.gpu_index = f.gpu;
  o.search = Search(f);
  if (!f.probe_duration.empty())
    o.probe_duration = ParseDuration(f.probe_duration, "--probe-duration");
  if (!f.window.empty()) o.probe_window = ParseDuration(f.window, "--window");
  if (!f.max_warmup.empty()) o.probe_max_warmup = ParseDuration(f.max_warmup, "--max-warmup");
  if (f.min_queries < 1) throw InputError("--min-queries must be at least 1");
  o.probe_min_queries = f.min_queries;
  o.accuracy_documents = f.accuracy_documents;
  if (!f.sources.procfs_root.empty()) o.procfs_root = f.sources.procfs_root;
  CliRunObservers observers(f.run, /*stop_on_signals=*/true);
  o.base.observer = observers.observer();
  const run::RunRecord record = workloads::RunInferenceTune(o);
  Print(record, f.json);
  observers.PrintStored();
  return observers.ExitCode(0);
}

int RunTrainTune(const TrainTuneFlags& f) {
  workloads::TrainingTuneOptions o;
  o.base.model = f.model;
  o.base.train.seq_len = f.seq_len;
  o.base.train.torch = Torch(f);
  o.base.gemm_peak_duration = {};
  o.base.projected_sequences = ParseCount(f.sequences, "--sequences");
  if (!f.time_budget.empty()) o.time_budget = ParseDuration(f.time_budget, "--time-budget");
  if (!f.baseline.empty()) o.base.baseline = ParseDuration(f.baseline, "--baseline");
  o.base.sources = ResolveSourceOptions(f.sources);
  o.batches = f.batches;
  o.threads = f.threads;
  o.dtypes = f.dtypes;
  o.search = Search(f);
  if (!f.probe_duration.empty())
    o.probe_duration = ParseDuration(f.probe_duration, "--probe-duration");
  if (!f.window.empty()) o.probe_window = ParseDuration(f.window, "--window");
  if (!f.max_warmup.empty()) o.probe_max_warmup = ParseDuration(f.max_warmup, "--max-warmup");
  if (!f.sources.procfs_root.empty()) o.procfs_root = f.sources.procfs_root;
  CliRunObservers observers(f.run, /*stop_on_signals=*/true);
  o.base.observer = observers.observer();
  const run::RunRecord record = workloads::RunTrainingTune(o);
  Print(record, f.json);
  observers.PrintStored();
  return observers.ExitCode(0);
}

const CommandRegistration kTune{Command{
    "tune",
    "Search serving or training knobs (batching, threads, dtype incl. int8, GPU power limit) "
    "for the least energy per inference under a latency bound, or per sequence",
    [](CLI::App& app) -> std::function<int()> {
      app.require_subcommand(1);
      auto infer_flags = std::make_shared<InferTuneFlags>();
      auto train_flags = std::make_shared<TrainTuneFlags>();
      CLI::App* infer = app.add_subcommand(
          "infer",
          "Least energy per inference at the VALID peak rate under --latency-bound: batching, "
          "threads, dtype (fp32, bf16, int8), GPU power limit");
      AddSearchFlags(*infer, *infer_flags, "layoutlm-base", "2s");
      infer->add_option("--latency-bound", infer_flags->latency_bound,
                        "p99 latency bound at the peak rate (required), e.g. 100ms");
      infer
          ->add_option("--delays", infer_flags->delays,
                       "Dynamic-batching delays to search (default 0 and a tenth of the bound)")
          ->delimiter(',');
      infer->add_option("--power-limits", infer_flags->power_limits,
                        "GPU power limits to search: auto (on --device cuda), none, or "
                        "W,W,... (e.g. 300W,250W)");
      infer->add_option("--gpu", infer_flags->gpu, "GPU whose power limit is tuned (default 0)");
      infer->add_option("--min-queries", infer_flags->min_queries,
                        "Least measured queries per measurement (default 50)");
      infer->add_option("--samples", infer_flags->samples,
                        "Distinct synthetic documents (default 256)");
      infer->add_option("--accuracy-documents", infer_flags->accuracy_documents,
                        "Documents whose bf16 / int8 outputs are compared with fp32 (default 8)");
      CLI::App* train = app.add_subcommand(
          "train", "Least energy per sequence of MLM pretraining: batch, threads, dtype");
      AddSearchFlags(*train, *train_flags, "bert-base", "10s");
      train->add_option("--sequences", train_flags->sequences,
                        "Sequences of the whole training run (default 450M)");
      train->add_option("--time-budget", train_flags->time_budget,
                        "Only configurations that train --sequences on this machine within this "
                        "time are VALID (e.g. 30d)");
      return [infer, train, infer_flags, train_flags]() {
        if (infer->parsed()) return RunInferTune(*infer_flags);
        if (train->parsed()) return RunTrainTune(*train_flags);
        return 2;
      };
    },
    45}};

}  // namespace
}  // namespace joulebench::cli
