// `joulebench report` for a one-hour run sampled every 10 ms on 8 domains: load from the
// store, render the HTML. Target (issue 6): <= 2 s, and an HTML file <= 5 MB. Run:
//   build/bench/bench_store_report
#include <benchmark/benchmark.h>

#include "joulebench/report/html_report.h"
#include "joulebench/store/run_store.h"
#include "support/sample_run_record.h"
#include "support/temp_dir.h"

namespace {

constexpr std::size_t kDomains = 8;
constexpr std::size_t kSamples = 3600 * 100;

joulebench::run::RunRecord HourLongRun() {
  // Every field of a real run (energy reports, windows, probes, metrics), then an hour-long
  // timeline of 8 domains with varying power.
  joulebench::run::RunRecord r = joulebench::testing::SampleRunRecord(0);
  r.timeline.domains.resize(kDomains, r.timeline.domains[0]);
  for (std::size_t d = 0; d < kDomains; ++d) {
    r.timeline.domains[d].name = "rapl/package-" + std::to_string(d);
    r.timeline.domains[d].parent = "";
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
  for (int w = 0; w < 3600; ++w) {
    r.windows.push_back({1.0 * w, 1.0 * (w + 1), 50.0 + w % 7, 60.0 + w % 5, 0.01, 0.03});
  }
  return r;
}

void BM_ReportHourLongRun(benchmark::State& state) {
  joulebench::testing::TempDir dir;
  std::string id;
  {
    auto store = joulebench::store::RunStore::Open(dir.path() / "runs.db");
    id = store.Save(HourLongRun());
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto store = joulebench::store::RunStore::OpenExisting(dir.path() / "runs.db");
    auto run = store.Load(id);
    std::string html = joulebench::report::RenderHtmlReport({run});
    bytes = html.size();
    benchmark::DoNotOptimize(html.data());
  }
  state.counters["html_MB"] = static_cast<double>(bytes) / 1e6;
}
BENCHMARK(BM_ReportHourLongRun)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
