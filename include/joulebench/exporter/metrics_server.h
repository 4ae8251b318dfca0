// A Prometheus endpoint: GET /metrics in the text exposition format (0.0.4), built with
// prometheus-cpp's data model and serializer and served by joulebench's libevent HTTP server
// from its own thread (keep-alive). What a scrape shows is read at scrape time from a snapshot
// (Meter::ReadLive), never pushed from the sampler's hot path.
//
//   exporter::MetricsServer server(exporter::ParseListenAddress("127.0.0.1:9464", "--listen"));
//   server.ExportMeter(meter);          // energy, power, source health, sampler settings
//   ... meter runs; Prometheus scrapes server.url() ...
//
//   // The metrics of a run (measure, loadgen, infer, train) as it happens:
//   options.observer = &server.job_observer([&] { return storing.run_id(); });
//
// The metric names, their labels and units are documented in docs/prometheus.md.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "joulebench/exporter/listen_address.h"
#include "joulebench/run/run_observer.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::exporter {

class MetricsServer {
 public:
  // Listens at once. Throws EnvironmentError naming `flag` when it cannot (port in use,
  // address not on this machine, a privileged port).
  explicit MetricsServer(const ListenAddress& address, std::string_view flag = "--listen");
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The address and port actually bound (the port the system chose for port 0).
  const ListenAddress& address() const;
  std::string url() const;  // "http://127.0.0.1:9464/metrics"

  // From now on each scrape reads `meter` (it must stay alive until FreezeMeter(), another
  // ExportMeter() or the server's end): per domain joulebench_energy_joules_total and
  // joulebench_power_watts, the machine total, source health, sampler settings and cost.
  void ExportMeter(const sampling::Meter& meter);
  // Takes the meter's last values and keeps serving them without touching the meter again,
  // which may then go away.
  void FreezeMeter();

  // A run observer that exports the run it observes: run info (kind, name, run id), phase,
  // throughput, the latency histogram of load-generator runs, and the run's meter (exported
  // on OnBegin, frozen on OnEnd). `run_id` is asked at each scrape (the store assigns the id
  // after the run began); it may return "". One observer per server; a second call returns
  // the same one with the new `run_id`.
  run::RunObserver& job_observer(std::function<std::string()> run_id = {});

  // The text a scrape returns now (without HTTP; it counts as a scrape), for tests and
  // benchmarks.
  std::string Scrape() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::exporter
