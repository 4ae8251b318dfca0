// joulebench infer --model NAME|FILE.pt [--scenario offline|server|single-stream] ...
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/run_observers.h"
#include "cli/source_flags.h"
#include "cli/torch/print_run.h"
#include "joulebench/error.h"
#include "joulebench/units.h"
#include "joulebench/workloads/inference_run.h"
#include "joulebench/workloads/model_config.h"

namespace joulebench::cli {
namespace {

struct InferFlags {
  SourceFlags sources;
  RunFlags run;
  std::string load_levels;
  std::string window;
  bool no_steady_state = false;
  std::string model = "layoutlm-base";
  std::vector<std::string> inputs;
  std::string weights;
  std::int64_t seq_len = 512;
  std::int64_t batch = -1;  // -1: not given
  std::int64_t max_batch = -1;
  std::string max_delay;
  std::string scenario = "offline";
  std::string rate;
  bool find_peak = false;
  std::string latency_bound;
  int threads = 1;
  std::string linear_kernel = "auto";
  std::string device = "cpu";
  std::string dtype = "fp32";
  std::string duration = "10s";
  std::string max_warmup = "60s";
  std::uint64_t min_queries = 100;
  std::string baseline;
  std::string gemm_duration = "1s";
  std::uint64_t seed = 1;
  std::size_t samples = 256;
  bool json = false;
  bool list_models = false;
};

std::int64_t Milliseconds(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

int Run(const InferFlags& f) {
  if (f.list_models) {
    for (const auto& m : workloads::KnownModels()) {
      std::printf("%-16s %-9s hidden %4lld, %2lld layers, %2lld heads, ffn %4lld\n", m.name.c_str(),
                  std::string(workloads::ModelFamilyName(m.family)).c_str(),
                  static_cast<long long>(m.hidden_size), static_cast<long long>(m.num_layers),
                  static_cast<long long>(m.num_heads), static_cast<long long>(m.intermediate_size));
    }
    return 0;
  }
  workloads::InferenceRunOptions o;
  o.model = f.model;
  o.input_specs = f.inputs;
  o.torch.device = f.device;
  workloads::ApplyInferenceDtype(f.dtype, o.torch);
  o.torch.threads = f.threads;
  o.torch.linear_kernel = workloads::ParseLinearKernel(f.linear_kernel);
  o.torch.seed = f.seed;
  o.torch.weights_path = f.weights;
  o.seq_len = f.seq_len;
  o.sample_count = f.samples;
  if (f.batch != -1 && f.max_batch != -1) {
    throw InputError("--batch and --max-batch are alternatives: give one of them");
  }
  const std::int64_t batch = f.batch != -1 ? f.batch : (f.max_batch != -1 ? f.max_batch : 1);
  if (batch < 1) throw InputError(fmt::format("--batch: {} must be at least 1", batch));
  o.batching.max_batch = batch;
  if (!f.max_delay.empty()) {
    if (f.max_batch == -1) throw InputError("--max-delay needs --max-batch B");
    o.batching.max_delay = ParseDuration(f.max_delay, "--max-delay", /*allow_zero=*/true);
  }
  o.settings.scenario = load::ParseScenario(f.scenario);
  if (o.settings.scenario == load::Scenario::kServer) {
    if (f.rate.empty() == !f.find_peak) {
      throw InputError("--scenario server needs either --rate R (e.g. 50/s) or --find-peak");
    }
    if (!f.rate.empty()) o.settings.server_target_qps = ParseRatePerSecond(f.rate, "--rate");
  } else if (!f.rate.empty() || f.find_peak) {
    throw InputError("--rate and --find-peak apply to --scenario server");
  }
  o.find_peak = f.find_peak;
  if (!f.latency_bound.empty()) {
    const auto bound = ParseDuration(f.latency_bound, "--latency-bound");
    o.settings.server_target_latency_ns = bound.count();
    o.settings.single_stream_target_latency_ns = bound.count();
  }
  o.settings.min_duration_ms = Milliseconds(ParseDuration(f.duration, "--duration"));
  o.settings.max_warmup_ms = Milliseconds(ParseDuration(f.max_warmup, "--max-warmup"));
  o.settings.wait_for_steady_state = !f.no_steady_state;
  o.settings.min_query_count = f.min_queries;
  if (!f.window.empty()) {
    o.settings.window_ms = Milliseconds(ParseDuration(f.window, "--window"));
    if (o.settings.window_ms < 1) {
      throw InputError(fmt::format("--window '{}' must be at least 1ms", f.window));
    }
  }
  if (!f.baseline.empty()) o.baseline = ParseDuration(f.baseline, "--baseline");
  o.gemm_peak_duration = ParseDuration(f.gemm_duration, "--gemm-duration", true);
  o.sources = ResolveSourceOptions(f.sources);
  if (!f.load_levels.empty()) {
    if (o.settings.scenario != load::Scenario::kServer) {
      throw InputError(
          "--load-levels needs --scenario server (levels are fractions of a server rate)");
    }
    std::size_t begin = 0;
    while (begin <= f.load_levels.size()) {
      const std::size_t end = std::min(f.load_levels.find(',', begin), f.load_levels.size());
      const std::string item = f.load_levels.substr(begin, end - begin);
      const double percent = ParseNumber(item, "--load-levels");
      if (!(percent >= 0 && percent <= 100)) {
        throw InputError(fmt::format(
            "--load-levels: {} is outside 0..100 (percent of the peak rate), e.g. 0,25,50,75,100",
            item));
      }
      o.load_levels.push_back(percent / 100);
      begin = end + 1;
    }
  }
  CliRunObservers observers(f.run, /*stop_on_signals=*/true);
  o.observer = observers.observer();
  const run::RunRecord record = workloads::RunInference(o);
  PrintRunRecord(record, f.json);
  observers.PrintStored();
  return observers.ExitCode(0);
}

const CommandRegistration kInfer{{
    "infer",
    "Serve a transformer (LayoutLM, BERT or a TorchScript file) under load and report "
    "throughput, latency, energy per inference and FLOP/s",
    [](CLI::App& app) -> std::function<int()> {
      auto f = std::make_shared<InferFlags>();
      AddSourceFlags(app, f->sources);
      app.add_option("--model", f->model,
                     "Built-in model (" + workloads::KnownModelNames() +
                         ") or a TorchScript .pt file (default layoutlm-base)");
      app.add_flag("--list-models", f->list_models, "List the built-in models and exit");
      app.add_option("--input", f->inputs,
                     "TorchScript input spec name:dtype[shape], one per forward() argument, "
                     "e.g. input_ids:int64[8,512]");
      app.add_option("--weights", f->weights,
                     "State dict to load (torch.save(dict(model.state_dict()), path)); default "
                     "random weights");
      app.add_option("--seq-len", f->seq_len, "Tokens per document, 3..512 (default 512)");
      app.add_option("--batch", f->batch, "Documents per model run (default 1)");
      app.add_option("--max-batch", f->max_batch, "Dynamic batching: most documents per model run");
      app.add_option("--max-delay", f->max_delay,
                     "Dynamic batching: longest a query waits for its batch to fill (e.g. 5ms)");
      app.add_option("--scenario", f->scenario,
                     "offline | server | single-stream (default offline)");
      app.add_option("--rate", f->rate, "Server: offered rate, e.g. 20/s or 1000000/h");
      app.add_option("--window", f->window, "Throughput and power statistics window (default 1s)");
      app.add_flag("--no-steady-state", f->no_steady_state,
                   "Measure at once instead of waiting for steady throughput and power");
      app.add_option("--load-levels", f->load_levels,
                     "Server: mean power at these percentages of the peak rate (e.g. "
                     "0,25,50,75,100), stored as the run's power curve");
      app.add_flag("--find-peak", f->find_peak,
                   "Server: search the highest rate whose p99 latency meets --latency-bound");
      app.add_option("--latency-bound", f->latency_bound,
                     "Server p99 / single-stream p90 latency bound (default 10ms server)");
      app.add_option("--threads", f->threads, "libtorch intra-op threads (default 1)");
      app.add_option("--linear-kernel", f->linear_kernel,
                     "auto | blas | onednn: kernel of the dense layers (default auto: oneDNN on "
                     "the CPU in fp32)");
      app.add_option("--device", f->device, "cpu | cuda | cuda:N (default cpu)");
      app.add_option("--dtype", f->dtype,
                     "fp32 | bf16 | int8 (dynamic int8 dense layers, built-in models on the CPU; "
                     "default fp32)");
      app.add_option("--duration", f->duration,
                     "Least measured time after steady state (default 10s)");
      app.add_option("--max-warmup", f->max_warmup, "Longest wait for steady state (default 60s)");
      app.add_option("--min-queries", f->min_queries, "Least measured queries (default 100)");
      app.add_option("--baseline", f->baseline,
                     "Measure idle power this long first (e.g. 10s) for attributable energy");
      app.add_option("--gemm-duration", f->gemm_duration,
                     "Time spent measuring the GEMM peak first (default 1s; 0s skips it)");
      app.add_option("--samples", f->samples, "Distinct synthetic documents (default 256)");
      app.add_option("--seed", f->seed, "Seed of weights and documents (default 1)");
      app.add_flag("--json", f->json, "Print the run record as JSON");
      AddRunFlags(app, f->run, /*with_name=*/false);
      AddMetricsListenFlag(app, f->run);
      return [f] { return Run(*f); };
    },
    40,
}};

}  // namespace
}  // namespace joulebench::cli
