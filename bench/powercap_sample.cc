// Cost of sampling powercap RAPL and of the sampler thread.
//
//   bench_powercap_sample                     # fake tree in a temp dir (8 domains)
//   JOULEBENCH_BENCH_SYSFS_ROOT=/sys bench_powercap_sample   # the machine's own RAPL
//
// - PowercapSample/kept_open_pread vs PowercapSample/reopen_per_read: one sample of every
//   domain, in the same run (target: <= 30 us per sample of 8 domains).
// - SamplerOverhead/<interval ms>: the Meter's thread for 10 s; cpu_percent_of_core is its
//   CPU time (CLOCK_THREAD_CPUTIME of that thread) over wall time (target: <= 0.5 % at 10 ms);
//   allocations_per_sample counts operator new calls in the whole process meanwhile.
//   SamplerOverhead/reference_bare_wakeup is a thread that only wakes at the same deadlines:
//   what the operating system charges for the wake-ups alone.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <new>
#include <thread>

#include "energy/powercap_source.h"
#include "energy/sysfs_text.h"
#include "joulebench/sampling/meter.h"
#include "support/fake_powercap.h"
#include "support/temp_dir.h"

namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace joulebench {
namespace {

// Two sockets, each with package, core, uncore and dram: 8 domains.
struct Tree {
  testing::TempDir dir;
  std::filesystem::path root;
  Tree() {
    if (const char* real = std::getenv("JOULEBENCH_BENCH_SYSFS_ROOT")) {
      root = real;
      return;
    }
    root = dir.path();
    testing::FakePowercap fake(root);
    for (int p = 0; p < 2; ++p) {
      const std::string id = "intel-rapl:" + std::to_string(p);
      fake.AddZone(id, "package-" + std::to_string(p), 262143328850, 123456789012);
      fake.AddZone(id + ":0", "core", 262143328850, 23456789012);
      fake.AddZone(id + ":1", "uncore", 262143328850, 3456789012);
      fake.AddZone(id + ":2", "dram", 65712999613, 456789012);
    }
  }
  energy::ProbeResult Probe() const {
    energy::SourceOptions o;
    o.sysfs_root = root;
    return energy::ProbePowercap(o);
  }
};

void KeptOpenPread(benchmark::State& state) {
  Tree tree;
  energy::ProbeResult probe = tree.Probe();
  if (!probe.source) {
    state.SkipWithError(probe.reason.c_str());
    return;
  }
  std::vector<energy::Reading> readings(probe.source->domains().size());
  for (auto _ : state) {
    probe.source->Read(readings);
    benchmark::DoNotOptimize(readings.data());
  }
  state.counters["domains"] = static_cast<double>(readings.size());
}

void ReopenPerRead(benchmark::State& state) {
  Tree tree;
  energy::ProbeResult probe = tree.Probe();
  if (!probe.source) {
    state.SkipWithError(probe.reason.c_str());
    return;
  }
  std::vector<std::string> paths;
  for (const auto& d : probe.source->domains()) {
    // provenance "powercap RAPL intel-rapl:0:1" names the zone.
    const std::string zone = d.provenance.by.substr(d.provenance.by.rfind(' ') + 1);
    paths.push_back((tree.root / "class/powercap" / zone / "energy_uj").string());
  }
  std::vector<double> joules(paths.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < paths.size(); ++i) {
      const int fd = open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
      std::uint64_t uj = 0;
      int error = 0;
      if (fd >= 0 && energy::PreadUnsigned(fd, uj, error))
        joules[i] = static_cast<double>(uj) * 1e-6;
      if (fd >= 0) close(fd);
    }
    benchmark::DoNotOptimize(joules.data());
  }
  state.counters["domains"] = static_cast<double>(paths.size());
}

void SamplerOverhead(benchmark::State& state) {
  Tree tree;
  energy::ProbeResult probe = tree.Probe();
  if (!probe.source) {
    state.SkipWithError(probe.reason.c_str());
    return;
  }
  std::vector<std::unique_ptr<energy::Source>> sources;
  sources.push_back(std::move(probe.source));
  const auto interval = std::chrono::milliseconds(state.range(0));
  sampling::Meter meter(std::move(sources), sampling::MeterOptions{interval});
  double cpu_s = 0;
  double wall_s = 0;
  std::size_t samples = 0;
  std::size_t allocations = 0;
  for (auto _ : state) {
    meter.Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // past the first chunk
    const double cpu0 = meter.SamplerCpuSeconds();
    const std::size_t samples0 = meter.sample_count();
    const std::size_t alloc0 = g_allocations.load();
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(10));
    wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu_s = meter.SamplerCpuSeconds() - cpu0;
    samples = meter.sample_count() - samples0;
    allocations = g_allocations.load() - alloc0;
    meter.Stop();
  }
  state.counters["cpu_percent_of_core"] = 100.0 * cpu_s / wall_s;
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["cpu_us_per_sample"] = samples ? 1e6 * cpu_s / static_cast<double>(samples) : 0;
  state.counters["allocations_per_sample"] =
      samples ? static_cast<double>(allocations) / static_cast<double>(samples) : 0;
}

// Reference for SamplerOverhead, in the same run: a thread that only sleeps to the same
// absolute deadlines and does no work. On a busy or virtualised machine a timed wake-up alone
// costs tens of microseconds of CPU; the sampler's own cost is the difference.
void BareTimedWakeup(benchmark::State& state) {
  const auto interval = std::chrono::milliseconds(state.range(0));
  double cpu_s = 0;
  double wall_s = 0;
  std::size_t wakes = 0;
  for (auto _ : state) {
    std::atomic<bool> stop{false};
    std::thread waker([&] {
      const auto begin = std::chrono::steady_clock::now();
      timespec ts0{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts0);
      std::int64_t tick = 1;
      while (!stop.load(std::memory_order_relaxed)) {
        std::this_thread::sleep_until(begin + tick * interval);
        tick = (std::chrono::steady_clock::now() - begin) / interval + 1;
        ++wakes;
      }
      timespec ts1{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts1);
      cpu_s = static_cast<double>(ts1.tv_sec - ts0.tv_sec) +
              static_cast<double>(ts1.tv_nsec - ts0.tv_nsec) * 1e-9;
    });
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(10));
    stop = true;
    waker.join();
    wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  state.counters["cpu_percent_of_core"] = 100.0 * cpu_s / wall_s;
  state.counters["cpu_us_per_wake"] = wakes ? 1e6 * cpu_s / static_cast<double>(wakes) : 0;
}

BENCHMARK(KeptOpenPread)->Name("PowercapSample/kept_open_pread")->Unit(benchmark::kMicrosecond);
BENCHMARK(ReopenPerRead)->Name("PowercapSample/reopen_per_read")->Unit(benchmark::kMicrosecond);
BENCHMARK(SamplerOverhead)
    ->Name("SamplerOverhead")
    ->Arg(10)
    ->Arg(1)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);
BENCHMARK(BareTimedWakeup)
    ->Name("SamplerOverhead/reference_bare_wakeup")
    ->Arg(10)
    ->Arg(1)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

}  // namespace
}  // namespace joulebench

BENCHMARK_MAIN();
