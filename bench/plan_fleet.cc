// Planner speed: a plan is computed once per command, so these show that interpolation,
// fleet sizing and prediction are negligible next to parsing the catalog.
#include <benchmark/benchmark.h>

#include <vector>

#include "joulebench/plan/inference_plan.h"
#include "joulebench/plan/power_curve.h"
#include "joulebench/plan/run_prediction.h"

namespace {

using namespace joulebench::plan;

PowerCurve Curve() {
  return PowerCurve::FromPoints({{0, 90}, {0.25, 120}, {0.5, 150}, {0.75, 175}, {1, 200}},
                                CurveKind::kMeasuredRun, "bench");
}

void BM_PowerCurveWattsAt(benchmark::State& state) {
  const PowerCurve curve = Curve();
  double load = 0;
  for (auto _ : state) {
    load = load > 1 ? 0 : load + 0.001;
    benchmark::DoNotOptimize(curve.WattsAt(load));
  }
}
BENCHMARK(BM_PowerCurveWattsAt);

void BM_PlanInference(benchmark::State& state) {
  std::vector<InferenceCandidate> candidates;
  for (int i = 0; i < state.range(0); ++i) {
    InferenceCandidate c;
    c.name = "c" + std::to_string(i);
    c.throughput_per_s = Sourced{10.0 + i, "bench"};
    c.power = Curve();
    c.price_usd_per_hour = Sourced{1.0, "bench"};
    candidates.push_back(c);
  }
  InferenceRequest request;
  request.rate_per_s = 1e6 / 3600;
  request.carbon = CarbonInputs{"r", Sourced{400, "b"}, Sourced{1.2, "b"}};
  for (auto _ : state) benchmark::DoNotOptimize(PlanInference(request, candidates));
}
BENCHMARK(BM_PlanInference)->Arg(2)->Arg(16);

void BM_PredictRun(benchmark::State& state) {
  std::vector<ProgressInterval> steps;
  for (int i = 0; i < state.range(0); ++i) steps.push_back({0.5 + (i % 7) * 0.01, 32, 150});
  for (auto _ : state) benchmark::DoNotOptimize(PredictRun(steps, 450e6));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PredictRun)->Arg(100)->Arg(100000);

}  // namespace
BENCHMARK_MAIN();
