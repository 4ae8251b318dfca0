// joulebench export [--listen HOST:PORT] [--interval D]: this machine's energy sensors,
// sampled and served to Prometheus at http://HOST:PORT/metrics until SIGINT or SIGTERM.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "cli/command.h"
#include "cli/source_flags.h"
#include "joulebench/error.h"
#include "joulebench/exporter/metrics_server.h"
#include "joulebench/units.h"

namespace joulebench::cli {
namespace {

struct ExportFlags {
  SourceFlags sources;
  std::string listen{exporter::kDefaultListen};
  std::string interval = "100ms";
};

// Samples older than this are dropped: a scrape reads only the newest second, so an exporter
// that runs for months holds a few blocks of samples, not its whole history.
constexpr std::chrono::minutes kKeepSamples{1};

void Print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int Run(const ExportFlags& flags) {
  // SIGINT and SIGTERM are blocked in every thread started from here on (the sampler, BMC
  // pollers, the HTTP server) and taken by sigwait below: a clean stop, whichever thread the
  // kernel would have picked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const exporter::ListenAddress listen = exporter::ParseListenAddress(flags.listen, "--listen");
  sampling::MeterOptions meter_options;
  meter_options.interval = ParseDuration(flags.interval, "--interval");
  meter_options.keep = kKeepSamples;
  auto probes = energy::ProbeAll(ResolveSourceOptions(flags.sources));
  std::string sources;
  for (const auto& p : probes) {
    if (p.status != energy::ProbeStatus::kAvailable || !p.source) continue;
    sources += fmt::format("{}{} ({} domain(s))", sources.empty() ? "" : ", ", p.source_name,
                           p.source->domains().size());
  }
  sampling::Meter meter = sampling::Meter::FromProbe(std::move(probes), meter_options);
  if (meter.domains().empty()) {
    throw EnvironmentError(
        "export: no energy source is available on this machine; 'joulebench probe' says why "
        "and how to fix it");
  }
  exporter::MetricsServer server(listen, "--listen");
  meter.Start();
  server.ExportMeter(meter);
  Print(fmt::format("sampling {} domain(s) every {} from {}\nserving metrics at {}\n",
                    meter.domains().size(),
                    FormatDuration(std::chrono::duration<double>(meter_options.interval).count()),
                    sources, server.url()));

  int signal_number = 0;
  if (sigwait(&stop_signals, &signal_number) != 0) signal_number = SIGTERM;
  server.FreezeMeter();
  meter.Stop();
  std::fprintf(stderr, "joulebench export: stopped by %s\n", strsignal(signal_number));
  return 0;
}

const CommandRegistration kExport{{
    "export",
    "Serve this machine's energy and power per domain to Prometheus (GET /metrics) until "
    "stopped",
    [](CLI::App& app) -> std::function<int()> {
      auto flags = std::make_shared<ExportFlags>();
      AddSourceFlags(app, flags->sources);
      app.add_option("--listen", flags->listen,
                     "HOST:PORT to serve http://HOST:PORT/metrics on (default 127.0.0.1:9464, "
                     "this machine only; 0.0.0.0:9464 or :9464 for every interface; port 0 "
                     "picks a free one)");
      app.add_option("--interval", flags->interval, "Sampling period, 1ms to 1h (default 100ms)");
      return [flags] { return Run(*flags); };
    },
    25,
}};

}  // namespace
}  // namespace joulebench::cli
