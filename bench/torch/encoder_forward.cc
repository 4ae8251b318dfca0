// Speed of the built-in encoders on libtorch (Google Benchmark):
//   BM_BertBaseEncoder/B/S/P   the 12 bert-base layers on [B, S, 768] hidden states (what
//                              bench/torch/compare_with_pytorch.sh sets against PyTorch's
//                              torch.nn.TransformerEncoder with the same weights); P = 1: each
//                              layer on oneDNN primitives (what `infer` runs), P = 0: op by op
//                              through libtorch (mkldnn_linear, per-head attention: the path
//                              before OneDnnEncoderLayer, kept for training);
//   BM_LayoutLMBase/B/S        the whole layoutlm-base forward (embeddings, 12 layers,
//                              classifier), with achieved FLOP/s and the process's peak RSS;
//   BM_GemmPeak/N              N x N x N products, the machine's matrix-multiply peak.
// Threads: JOULEBENCH_THREADS (default 1) for libtorch and OpenBLAS. Kernel of the dense
// layers: JOULEBENCH_LINEAR_KERNEL = auto (default) | blas | onednn.
// `bench_encoder_forward --save-weights PATH` writes the bert-base encoder's weights (seed 1)
// for the Python side and exits. `bench_encoder_forward --profile MODEL BATCH SEQ [RUNS]` runs
// MODEL's whole forward on a synthetic batch (what one `infer` batch runs: inputs, embeddings,
// layers, head) under libtorch's profiler and prints where its time goes, by operator and by
// step of the oneDNN layers, and exits.
#include <ATen/record_function.h>
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <time.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "joulebench/workloads/encoder_inference.h"
#include "joulebench/workloads/gemm_peak.h"
#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/synthetic_documents.h"
#include "workloads/torch/encoder_model.h"
#include "workloads/torch/onednn_dense.h"

namespace joulebench::workloads {
namespace {

int Threads() {
  const char* value = std::getenv("JOULEBENCH_THREADS");
  return value ? std::atoi(value) : 1;
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

LinearKernel Kernel() {
  const char* value = std::getenv("JOULEBENCH_LINEAR_KERNEL");
  return ParseLinearKernel(value ? value : "auto");
}

torch_impl::EncoderModel BertBase() {
  torch_impl::EncoderModel model(FindModel("bert-base"), torch_impl::ModelHead::kNone);
  torch_impl::InitializeWeights(*model, 1);
  model->eval();
  model->FuseForInference();
  model->SetLinearKernel(ResolveLinearKernel(Kernel(), "cpu", ComputeDtype::kFloat32));
  return model;
}

void BM_BertBaseEncoder(benchmark::State& state) {
  SetIntraOpThreads(Threads());
  KeepFreedHostMemory();  // as `infer` does
  auto model = BertBase();
  const bool primitives = state.range(2) != 0;
  if (primitives && !torch_impl::OneDnnPrimitivesAvailable()) {
    state.SkipWithError("built without oneDNN's headers (libdnnl-dev)");
    return;
  }
  model->SetOneDnnPrimitives(primitives);
  const std::int64_t b = state.range(0), s = state.range(1);
  torch::manual_seed(2);
  auto hidden = torch::randn({b, s, 768});
  c10::InferenceMode inference;
  model->EncodeHidden(hidden, torch::Tensor());  // warm-up
  for (auto _ : state) {
    auto out = model->EncodeHidden(hidden, torch::Tensor());
    benchmark::DoNotOptimize(out.data_ptr<float>());
  }
  ModelConfig encoder_only = FindModel("bert-base");
  const double flops = static_cast<double>(b) * EncoderForwardFlops(encoder_only, s);
  state.counters["FLOP/s"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = Threads();
  const LinearKernel kernel = ResolveLinearKernel(Kernel(), "cpu", ComputeDtype::kFloat32);
  state.SetLabel(std::string(LinearKernelName(kernel)) +
                 (kernel == LinearKernel::kOneDnn && primitives ? " primitives" : " per-op"));
}
// Process CPU time (every thread), so that cpu_time stays meaningful on a loaded machine.
BENCHMARK(BM_BertBaseEncoder)
    ->ArgsProduct({{8, 1}, {128, 512}, {1, 0}})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

void BM_LayoutLMBase(benchmark::State& state) {
  const ModelConfig config = FindModel("layoutlm-base");
  EncoderInference model(config, {.threads = Threads(), .linear_kernel = Kernel()});
  const std::int64_t b = state.range(0), s = state.range(1);
  DocumentGenerator documents({.seq_len = s, .vocab_size = config.vocab_size, .seed = 3});
  const DocumentBatch batch = documents.Next(b);
  model.Run(batch);  // warm-up
  for (auto _ : state) model.Run(batch);
  state.counters["FLOP/s"] =
      benchmark::Counter(model.FlopsPerRun(b, s), benchmark::Counter::kIsIterationInvariantRate);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_MB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  state.counters["threads"] = Threads();
  // This virtual machine's clock moves between runs (the GEMM peak has read 99 and 131
  // GFLOP/s on different runs), so the peak this forward is set against is measured in the
  // same process, just after it, through the same kernel.
  GemmPeakOptions peak;
  peak.torch.threads = Threads();
  peak.torch.linear_kernel = Kernel();
  peak.duration = std::chrono::seconds(3);
  const double cpu_before_s = ProcessCpuSeconds();
  const GemmPeak measured = MeasureGemmPeak(peak);
  const double peak_cpu_s = ProcessCpuSeconds() - cpu_before_s;
  state.counters["gemm_peak_FLOP/s"] = measured.flops_per_s;
  // Per CPU second as well (the warm-up product included), for a machine that other
  // processes load: the forward's FLOPs over its cpu_time set against it.
  const double size = static_cast<double>(measured.size);
  state.counters["gemm_peak_FLOP_per_cpu_s"] =
      2.0 * size * size * size * static_cast<double>(measured.products + 1) / peak_cpu_s;
}
BENCHMARK(BM_LayoutLMBase)
    ->Args({8, 512})
    ->Args({1, 512})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Iterations(2);

void BM_GemmPeak(benchmark::State& state) {
  double flops_per_s = 0;
  for (auto _ : state) {
    GemmPeakOptions options;
    options.torch.threads = Threads();
    options.torch.linear_kernel = static_cast<LinearKernel>(state.range(1));
    options.size = state.range(0);
    options.duration = std::chrono::seconds(3);
    flops_per_s = MeasureGemmPeak(options).flops_per_s;
  }
  state.counters["GEMM_FLOP/s"] = flops_per_s;
  state.SetLabel(std::string(LinearKernelName(static_cast<LinearKernel>(state.range(1)))));
}
// Both kernels the models can use; the machine's peak is the faster one.
BENCHMARK(BM_GemmPeak)
    ->Args({2048, static_cast<std::int64_t>(LinearKernel::kBlas)})
    ->Args({2048, static_cast<std::int64_t>(LinearKernel::kOneDnn)})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Self and total time by name over `runs` forwards, from the profiler's push/pop ranges
// (wall time on the thread that recorded them).
int Profile(const std::string& model_name, std::int64_t b, std::int64_t s, int runs) {
  const ModelConfig config = FindModel(model_name);
  EncoderInference model(config, {.threads = Threads(), .linear_kernel = Kernel()});
  KeepFreedHostMemory();
  DocumentGenerator documents({.seq_len = s, .vocab_size = config.vocab_size, .seed = 3});
  const DocumentBatch batch = documents.Next(b);
  model.Run(batch);  // warm-up
  namespace profiler = torch::autograd::profiler;
  profiler::enableProfilerLegacy(
      torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  const double cpu_before_s = ProcessCpuSeconds();
  const auto wall_before = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) {
    RECORD_FUNCTION("forward", std::vector<c10::IValue>());
    model.Run(batch);
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  const double cpu_s = ProcessCpuSeconds() - cpu_before_s;
  const profiler::thread_event_lists lists = profiler::disableProfilerLegacy();
  struct Totals {
    std::int64_t calls = 0;
    double self_us = 0, total_us = 0;
  };
  std::map<std::string, Totals> by_name;
  for (const auto& events : lists) {
    struct Open {
      std::string name;
      double start_us, children_us;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == profiler::EventKind::PushRange) {
        stack.push_back({e.name(), e.cpuUs(), 0});
      } else if (e.kind() == profiler::EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double elapsed_us = e.cpuUs() - open.start_us;
        Totals& t = by_name[open.name];
        ++t.calls;
        t.total_us += elapsed_us;
        t.self_us += elapsed_us - open.children_us;
        if (!stack.empty()) stack.back().children_us += elapsed_us;
      }
    }
  }
  std::vector<std::pair<std::string, Totals>> rows(by_name.begin(), by_name.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& c) { return a.second.self_us > c.second.self_us; });
  const double forward_us = by_name["forward"].total_us;
  std::printf(
      "%s batch %lld seq %lld, %d thread(s), %d forward(s): %.1f ms wall and %.1f ms "
      "process CPU per forward\n",
      model_name.c_str(), static_cast<long long>(b), static_cast<long long>(s), Threads(), runs,
      wall_s / runs * 1e3, cpu_s / runs * 1e3);
  std::printf("%-42s %8s %12s %12s %7s\n", "name", "calls/fw", "self ms/fw", "total ms/fw",
              "self %");
  for (const auto& [name, t] : rows) {
    std::printf("%-42s %8.1f %12.2f %12.2f %6.1f%%\n", name.c_str(),
                static_cast<double>(t.calls) / runs, t.self_us / 1e3 / runs,
                t.total_us / 1e3 / runs, forward_us > 0 ? 100 * t.self_us / forward_us : 0.0);
  }
  return 0;
}

}  // namespace
}  // namespace joulebench::workloads

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--save-weights") == 0) {
    auto model = joulebench::workloads::BertBase();
    model->SaveStateDict(argv[2]);
    return 0;
  }
  if ((argc == 5 || argc == 6) && std::strcmp(argv[1], "--profile") == 0) {
    return joulebench::workloads::Profile(argv[2], std::atoll(argv[3]), std::atoll(argv[4]),
                                          argc == 6 ? std::atoi(argv[5]) : 3);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
