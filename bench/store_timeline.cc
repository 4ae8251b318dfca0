// Storing a one-hour timeline sampled every 10 ms for 8 domains (360,000 samples x 8), as a
// run writes it (one transaction per second of samples) and in one go; and loading it back.
// Target (issue 6): <= 2 s of CPU time in total for storing. Run:
//   build/bench/bench_store_timeline --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <filesystem>

#include "joulebench/store/run_store.h"
#include "support/temp_dir.h"

namespace {

using joulebench::run::RunRecord;
using joulebench::run::RunStatus;
using joulebench::store::RunStore;
using joulebench::store::RunWriter;

constexpr std::size_t kDomains = 8;
constexpr std::size_t kSamples = 3600 * 100;  // one hour at 10 ms
constexpr std::size_t kBatch = 100;           // one second per transaction

RunRecord HourLongRun() {
  RunRecord r;
  r.kind = "measure";
  r.name = "one hour at 10 ms, 8 domains";
  r.start_unix_s = 1.7e9;
  r.timeline.start_unix_s = r.start_unix_s;
  for (std::size_t d = 0; d < kDomains; ++d) {
    joulebench::energy::DomainInfo info;
    info.name = "rapl/package-" + std::to_string(d);
    r.timeline.domains.push_back(info);
  }
  r.timeline.time_s.resize(kSamples);
  r.timeline.joules.assign(kDomains, std::vector<double>(kSamples));
  double joules = 0;
  for (std::size_t i = 0; i < kSamples; ++i) {
    r.timeline.time_s[i] = 0.01 * static_cast<double>(i);
    joules += 0.5 + 0.001 * static_cast<double>(i % 97);
    for (std::size_t d = 0; d < kDomains; ++d) {
      r.timeline.joules[d][i] = joules * static_cast<double>(d + 1);
    }
  }
  return r;
}

void BM_StoreHourIncrementally(benchmark::State& state) {
  RunRecord run = HourLongRun();
  RunRecord header = run;
  header.timeline.time_s.clear();
  for (auto& s : header.timeline.joules) s.clear();
  std::vector<std::vector<double>> batch(kDomains, std::vector<double>(kBatch));
  for (auto _ : state) {
    state.PauseTiming();
    joulebench::testing::TempDir dir;
    RunStore store = RunStore::Open(dir.path() / "runs.db");
    state.ResumeTiming();
    RunWriter writer = store.BeginRun(header);
    for (std::size_t first = 0; first < kSamples; first += kBatch) {
      for (std::size_t d = 0; d < kDomains; ++d) {
        std::copy_n(run.timeline.joules[d].begin() + static_cast<std::ptrdiff_t>(first), kBatch,
                    batch[d].begin());
      }
      writer.AppendSamples(std::span(run.timeline.time_s).subspan(first, kBatch), batch);
    }
    writer.Finish(RunStatus::kComplete);
    state.PauseTiming();
    state.counters["db_MB"] =
        static_cast<double>(std::filesystem::file_size(dir.path() / "runs.db") +
                            std::filesystem::file_size(dir.path() / "runs.db-wal")) /
        1e6;
    state.ResumeTiming();
  }
  state.counters["samples"] = static_cast<double>(kSamples);
}
BENCHMARK(BM_StoreHourIncrementally)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->Iterations(3);

void BM_SaveHourInOneTransaction(benchmark::State& state) {
  RunRecord run = HourLongRun();
  for (auto _ : state) {
    state.PauseTiming();
    joulebench::testing::TempDir dir;
    RunStore store = RunStore::Open(dir.path() / "runs.db");
    state.ResumeTiming();
    store.Save(run);
  }
}
BENCHMARK(BM_SaveHourInOneTransaction)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->Iterations(3);

void BM_LoadHour(benchmark::State& state) {
  joulebench::testing::TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  std::string id = store.Save(HourLongRun());
  for (auto _ : state) {
    RunRecord back = store.Load(id);
    benchmark::DoNotOptimize(back.timeline.time_s.data());
  }
}
BENCHMARK(BM_LoadHour)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
