// Cost of one Read() of the model and Neuron sources (fake trees in a temp dir, and the model
// against this machine's real /proc), with the heap allocations each read makes: the sampler
// calls Read() at up to 1 kHz, so it must stay cheap and allocation-free.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"
#include "support/counting_allocations.h"
#include "support/temp_dir.h"

namespace joulebench::energy {
namespace {

void ReadLoop(benchmark::State& state, Source& source) {
  std::vector<Reading> out(source.domains().size());
  source.Read(out);  // first read may grow internal state
  const std::uint64_t before = joulebench::testing::Allocations();
  long reads = 0;
  for (auto _ : state) {
    source.Read(out);
    benchmark::DoNotOptimize(out.data());
    ++reads;
  }
  state.counters["allocations_per_read"] =
      static_cast<double>(joulebench::testing::Allocations() - before) / static_cast<double>(reads);
  state.counters["domains"] = static_cast<double>(out.size());
}

void BM_ModelSourceReadFakeProc(benchmark::State& state) {
  testing::TempDir dir;
  std::string stat = "cpu  1000 0 500 8000 10 0 5 0 0 0\n";
  for (int i = 0; i < 64; ++i) stat += "cpu" + std::to_string(i) + " 10 0 5 80 0 0 0 0 0 0\n";
  dir.Write("proc/stat", stat + "intr 1 2 3\n");
  dir.Write("proc/cpuinfo",
            "vendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) "
            "Platinum 8259CL CPU @ 2.50GHz\n");
  dir.Write("proc/meminfo", "MemTotal:       16777216 kB\n");
  std::string net = "Inter-|   Receive |  Transmit\n face |bytes    packets|bytes\n";
  for (int i = 0; i < 8; ++i) {
    net += "  eth" + std::to_string(i) + ": 123456789 1000 0 0 0 0 0 0 987654321 900 0 0 0 0 0 0\n";
  }
  dir.Write("proc/net/dev", net);
  SourceOptions options;
  options.procfs_root = dir.path() / "proc";
  options.sysfs_root = dir.path() / "sys";
  auto result = ProbeModel(options, {});
  if (!result.source) {
    state.SkipWithError(result.reason.c_str());
    return;
  }
  ReadLoop(state, *result.source);
}
BENCHMARK(BM_ModelSourceReadFakeProc);

void BM_ModelSourceReadRealProc(benchmark::State& state) {
  auto result = ProbeModel(SourceOptions{}, {});
  if (!result.source) {
    state.SkipWithError(result.reason.c_str());
    return;
  }
  ReadLoop(state, *result.source);
}
BENCHMARK(BM_ModelSourceReadRealProc);

void BM_NeuronSourceRead8Devices(benchmark::State& state) {
  testing::TempDir dir;
  for (int i = 0; i < 8; ++i) {
    dir.Write(
        "sys/devices/virtual/neuron_device/neuron" + std::to_string(i) + "/stats/power/utilization",
        "POWER_STATUS_VALID,1732870860,12.34,56.78,34.56\n");
  }
  SourceOptions options;
  options.sysfs_root = dir.path() / "sys";
  options.neuron_max_device_watts = 100;
  auto result = ProbeNeuron(options);
  if (!result.source) {
    state.SkipWithError(result.reason.c_str());
    return;
  }
  ReadLoop(state, *result.source);
}
BENCHMARK(BM_NeuronSourceRead8Devices);

}  // namespace
}  // namespace joulebench::energy

BENCHMARK_MAIN();
