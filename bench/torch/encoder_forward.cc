// Speed of the built-in encoders on libtorch (Google Benchmark):
//   BM_BertBaseEncoder/B/S     the 12 bert-base layers on [B, S, 768] hidden states (what
//                              bench/torch/compare_with_pytorch.sh sets against PyTorch's
//                              torch.nn.TransformerEncoder with the same weights);
//   BM_LayoutLMBase/B/S        the whole layoutlm-base forward (embeddings, 12 layers,
//                              classifier), with achieved FLOP/s and the process's peak RSS;
//   BM_GemmPeak/N              N x N x N products, the machine's matrix-multiply peak.
// Threads: JOULEBENCH_THREADS (default 1) for libtorch and OpenBLAS. Kernel of the dense
// layers: JOULEBENCH_LINEAR_KERNEL = auto (default) | blas | onednn.
// `bench_encoder_forward --save-weights PATH` writes the bert-base encoder's weights (seed 1)
// for the Python side and exits.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>

#include "joulebench/workloads/encoder_inference.h"
#include "joulebench/workloads/gemm_peak.h"
#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/synthetic_documents.h"
#include "workloads/torch/encoder_model.h"

namespace joulebench::workloads {
namespace {

int Threads() {
  const char* value = std::getenv("JOULEBENCH_THREADS");
  return value ? std::atoi(value) : 1;
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
  state.SetLabel(
      std::string(LinearKernelName(ResolveLinearKernel(Kernel(), "cpu", ComputeDtype::kFloat32))));
}
BENCHMARK(BM_BertBaseEncoder)
    ->Args({8, 128})
    ->Args({1, 128})
    ->Args({8, 512})
    ->Args({1, 512})
    ->Unit(benchmark::kMillisecond)
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
  state.counters["gemm_peak_FLOP/s"] = MeasureGemmPeak(peak).flops_per_s;
}
BENCHMARK(BM_LayoutLMBase)
    ->Args({8, 512})
    ->Args({1, 512})
    ->Unit(benchmark::kMillisecond)
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

}  // namespace
}  // namespace joulebench::workloads

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--save-weights") == 0) {
    auto model = joulebench::workloads::BertBase();
    model->SaveStateDict(argv[2]);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
