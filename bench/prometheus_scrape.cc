// Cost of the Prometheus exporter: one scrape of 64 energy domains, and what the exporter
// adds to the sampler.
//
//   bench_prometheus_scrape
//
// - PrometheusScrape/collect_and_serialize: the metrics of 64 powercap domains (and a run's
//   phase, throughput and latency histogram) collected from a running meter and written in
//   the text format: the exporter's work per scrape without HTTP (target: <= 1 ms).
// - PrometheusScrape/http and /http_gzip: a whole GET /metrics over loopback, as Prometheus
//   sends it (gzip) and without compression; the client's own work is included.
// - ExporterOverhead/<scrape period ms>: the meter sampling 64 domains every 100 ms for 10 s
//   while a client scrapes at that period, and ExporterOverhead/no_exporter, the same meter
//   alone, in the same run. sampler_cpu_percent is the sampling thread's CPU time over wall
//   time: the difference is what the exporter adds to the sampler (target: <= 0.2 % of a
//   core). exporter_cpu_percent is the rest of the process (HTTP threads, collection,
//   serialisation, less the client's thread): the exporter's own cost at that scrape rate.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "energy/powercap_source.h"
#include "joulebench/exporter/metrics_server.h"
#include "joulebench/load/latency_histogram.h"
#include "joulebench/sampling/meter.h"
#include "support/fake_powercap.h"
#include "support/temp_dir.h"

namespace joulebench {
namespace {

constexpr int kPackages = 16;  // x (package, core, uncore, dram) = 64 domains

struct Tree {
  testing::TempDir dir;
  Tree() {
    testing::FakePowercap fake(dir.path());
    for (int p = 0; p < kPackages; ++p) {
      const std::string id = "intel-rapl:" + std::to_string(p);
      fake.AddZone(id, "package-" + std::to_string(p), 262143328850, 123456789012);
      fake.AddZone(id + ":0", "core", 262143328850, 23456789012);
      fake.AddZone(id + ":1", "uncore", 262143328850, 3456789012);
      fake.AddZone(id + ":2", "dram", 65712999613, 456789012);
    }
  }
  sampling::Meter MakeMeter() const {
    energy::SourceOptions o;
    o.sysfs_root = dir.path();
    std::vector<energy::ProbeResult> probes;
    probes.push_back(energy::ProbePowercap(o));
    return sampling::Meter::FromProbe(std::move(probes), {});
  }
};

// A run's metrics as a loadgen run has them: a phase, a throughput and 100,000 latencies.
void AddRun(exporter::MetricsServer& server, const sampling::Meter& meter) {
  run::RunObserver& job = server.job_observer([] { return "42"; });
  run::RunRecord record;
  record.kind = "loadgen";
  record.name = "bench";
  job.OnBegin(record, meter);
  job.OnPhase("server 1000/s: steady state reached, measuring", std::nullopt);
  job.OnProgress(1000, 120);
  load::LatencyHistogram latencies;
  for (int i = 0; i < 100000; ++i) latencies.Record(500'000 + 37 * i);
  job.OnLatencies(latencies);
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// GET /metrics on 127.0.0.1:port; returns the bytes received (headers and body).
std::size_t Get(int port, bool gzip) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return 0;
  }
  const std::string request =
      std::string("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n") +
      (gzip ? "Accept-Encoding: gzip\r\n" : "") + "\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    close(fd);
    return 0;
  }
  char buf[65536];
  std::size_t total = 0;
  ssize_t n = 0;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) total += static_cast<std::size_t>(n);
  close(fd);
  return total;
}

void CollectAndSerialize(benchmark::State& state) {
  Tree tree;
  sampling::Meter meter = tree.MakeMeter();
  meter.Start();
  exporter::MetricsServer server(exporter::ParseListenAddress("127.0.0.1:0", "bench"));
  server.ExportMeter(meter);
  AddRun(server, meter);
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = server.Scrape();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["domains"] = static_cast<double>(meter.domains().size());
  state.counters["bytes"] = static_cast<double>(bytes);
}

void HttpScrape(benchmark::State& state) {
  Tree tree;
  sampling::Meter meter = tree.MakeMeter();
  meter.Start();
  exporter::MetricsServer server(exporter::ParseListenAddress("127.0.0.1:0", "bench"));
  server.ExportMeter(meter);
  AddRun(server, meter);
  const bool gzip = state.range(0) != 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = Get(server.address().port, gzip);
    if (bytes == 0) state.SkipWithError("GET /metrics failed");
  }
  state.counters["domains"] = static_cast<double>(meter.domains().size());
  state.counters["bytes_on_the_wire"] = static_cast<double>(bytes);
}

void ExporterOverhead(benchmark::State& state) {
  Tree tree;
  const auto scrape_period = std::chrono::milliseconds(state.range(0));
  double sampler_cpu_s = 0;
  double exporter_cpu_s = 0;
  double wall_s = 0;
  std::size_t scrapes = 0;
  for (auto _ : state) {
    sampling::Meter meter = tree.MakeMeter();
    meter.Start();
    std::optional<exporter::MetricsServer> server;
    if (scrape_period.count() > 0) {
      server.emplace(exporter::ParseListenAddress("127.0.0.1:0", "bench"));
      server->ExportMeter(meter);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const double sampler0 = meter.SamplerCpuSeconds();
    const double process0 = ProcessCpuSeconds();
    std::atomic<bool> stop{false};
    double client_cpu_s = 0;
    std::thread client([&] {
      if (!server) return;
      const double c0 = ThreadCpuSeconds();
      auto next = std::chrono::steady_clock::now();
      while (!stop.load()) {
        if (Get(server->address().port, true) > 0) ++scrapes;
        next += scrape_period;
        std::this_thread::sleep_until(next);
      }
      client_cpu_s = ThreadCpuSeconds() - c0;
    });
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(10));
    stop = true;
    client.join();
    wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sampler_cpu_s = meter.SamplerCpuSeconds() - sampler0;
    exporter_cpu_s = ProcessCpuSeconds() - process0 - sampler_cpu_s - client_cpu_s;
    server.reset();
    meter.Stop();
  }
  state.counters["sampler_cpu_percent"] = 100.0 * sampler_cpu_s / wall_s;
  state.counters["exporter_cpu_percent"] = 100.0 * exporter_cpu_s / wall_s;
  state.counters["scrapes"] = static_cast<double>(scrapes);
  state.counters["exporter_cpu_us_per_scrape"] =
      scrapes ? 1e6 * exporter_cpu_s / static_cast<double>(scrapes) : 0;
}

BENCHMARK(CollectAndSerialize)
    ->Name("PrometheusScrape/collect_and_serialize")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(HttpScrape)->Name("PrometheusScrape/http")->Arg(0)->Unit(benchmark::kMicrosecond);
BENCHMARK(HttpScrape)->Name("PrometheusScrape/http_gzip")->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(ExporterOverhead)
    ->Name("ExporterOverhead/no_exporter")
    ->Arg(0)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);
BENCHMARK(ExporterOverhead)
    ->Name("ExporterOverhead/scrape_period_ms")
    ->Arg(1000)
    ->Arg(100)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

}  // namespace
}  // namespace joulebench

BENCHMARK_MAIN();
