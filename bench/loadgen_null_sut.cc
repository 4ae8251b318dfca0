// The load generator's own limits, with the null SUT (completes inline, so every cost is the
// harness's): the highest VALID server rate at p99 <= 10 ms, the scheduled->completed
// latency at 100,000 queries/s, heap allocations per query, and memory versus run length.
//
//   ninja -C build bench_loadgen_null_sut && build/bench/bench_loadgen_null_sut
//
// Each benchmark is one long run (Iterations(1)); the figures are the counters.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "joulebench/load/builtin_suts.h"
#include "joulebench/load/latency_histogram.h"
#include "joulebench/load/loadgen.h"
#include "support/counting_allocations.h"

namespace joulebench::load {
namespace {

TestSettings Server(double qps, std::int64_t duration_ms) {
  TestSettings s;
  s.scenario = Scenario::kServer;
  s.server_target_qps = qps;
  s.server_target_latency_ns = 10'000'000;
  s.min_duration_ms = duration_ms;
  s.min_query_count = 1000;
  s.window_ms = 250;
  s.wait_for_steady_state = false;
  return s;
}

long MaxRssKib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Highest server rate that stays VALID (p99 <= 10 ms, 2 s per probe).
void BM_ServerPeakNullSut(benchmark::State& state) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  for (auto _ : state) {
    PeakSearchSettings search;
    search.start_qps = 250'000;
    search.growth_factor = 2;
    search.precision_relative = 0.05;
    const ServerPeakResult r = FindServerPeak(sut, qsl, Server(1, 2000), search);
    state.counters["peak_qps"] = r.peak_qps;
    state.counters["first_invalid_qps"] = r.lowest_invalid_qps;
    state.counters["probes"] = static_cast<double>(r.probes.size());
    if (r.peak_run) {
      state.counters["peak_p99_us"] = static_cast<double>(r.peak_run->latency.p99_ns) / 1e3;
      state.counters["peak_achieved_qps"] = r.peak_run->throughput_per_s;
    }
    for (const auto& p : r.probes) {  // every probe, on stderr
      std::fprintf(stderr, "  probe %10.0f/s  p99 %9.1f us  %s\n", p.rate_per_s,
                   static_cast<double>(p.latency_percentile_ns) / 1e3,
                   p.valid ? "VALID" : "INVALID");
    }
  }
}
BENCHMARK(BM_ServerPeakNullSut)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// Generator overhead: latency from the scheduled time to the completion at 100,000/s.
void BM_ServerOverheadAt100k(benchmark::State& state) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  for (auto _ : state) {
    const std::uint64_t before = joulebench::testing::Allocations();
    const ScenarioResult r = RunScenario(sut, qsl, Server(100'000, 5000));
    const std::uint64_t allocations = joulebench::testing::Allocations() - before;
    state.counters["valid"] = r.valid;
    state.counters["queries"] = static_cast<double>(r.measured_query_count);
    state.counters["p50_us"] = static_cast<double>(r.latency.p50_ns) / 1e3;
    state.counters["p99_us"] = static_cast<double>(r.latency.p99_ns) / 1e3;
    state.counters["p999_us"] = static_cast<double>(r.latency.p999_ns) / 1e3;
    state.counters["max_us"] = static_cast<double>(r.latency.max_ns) / 1e3;
    state.counters["allocs_per_query"] =
        static_cast<double>(allocations) / static_cast<double>(r.measured_query_count);
  }
}
BENCHMARK(BM_ServerOverheadAt100k)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// Memory versus run length: the peak RSS growth of a 1 s and a 4 s run at 200,000/s.
void BM_MemoryVersusRunLength(benchmark::State& state) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  for (auto _ : state) {
    const long rss0 = MaxRssKib();
    const ScenarioResult short_run = RunScenario(sut, qsl, Server(200'000, 1000));
    const long rss1 = MaxRssKib();
    const ScenarioResult long_run = RunScenario(sut, qsl, Server(200'000, 4000));
    const long rss2 = MaxRssKib();
    state.counters["short_queries"] = static_cast<double>(short_run.measured_query_count);
    state.counters["long_queries"] = static_cast<double>(long_run.measured_query_count);
    state.counters["rss_growth_short_kib"] = static_cast<double>(rss1 - rss0);
    state.counters["rss_growth_long_kib"] = static_cast<double>(rss2 - rss1);
  }
}
BENCHMARK(BM_MemoryVersusRunLength)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// The issue + complete path alone: offline, one IssueQuery of 1,000,000 queries.
void BM_OfflineIssueCompletePerQuery(benchmark::State& state) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  TestSettings s;
  s.scenario = Scenario::kOffline;
  s.offline_expected_qps = 1;
  s.min_query_count = 1'000'000;
  s.min_duration_ms = 0;
  s.wait_for_steady_state = false;
  s.max_outstanding_queries = 1u << 22;
  for (auto _ : state) {
    const ScenarioResult r = RunScenario(sut, qsl, s);
    state.counters["queries_per_s"] = r.throughput_per_s;
    state.counters["ns_per_query"] = 1e9 / r.throughput_per_s;
  }
}
BENCHMARK(BM_OfflineIssueCompletePerQuery)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_HistogramRecord(benchmark::State& state) {
  auto h = std::make_unique<LatencyHistogram>();
  std::int64_t v = 12345;
  for (auto _ : state) {
    h->Record(v);
    v = (v * 1103515245 + 12345) & 0xffffff;
  }
  benchmark::DoNotOptimize(h->count());
}
BENCHMARK(BM_HistogramRecord);

}  // namespace
}  // namespace joulebench::load

BENCHMARK_MAIN();
