#include "cli/run_observers.h"

#include <cstdio>

#include "cli/store_options.h"
#include "joulebench/store/run_store.h"

namespace joulebench::cli {

void AddRunFlags(CLI::App& app, RunFlags& flags, bool with_name) {
  AddDbOption(app, flags.db);
  AddNoStoreFlag(app, flags.no_store);
  app.add_flag("--quiet", flags.quiet, "No live progress on stderr");
  if (with_name) app.add_option("--name", flags.name, "A label for the stored run");
}

void AddMetricsListenFlag(CLI::App& app, RunFlags& flags) {
  app.add_option("--metrics-listen", flags.metrics_listen,
                 "Serve the run's metrics for Prometheus at http://HOST:PORT/metrics while it "
                 "runs (energy and power per domain, phase, throughput, latency histogram), "
                 "e.g. 127.0.0.1:9464; port 0 picks a free one (docs/prometheus.md)");
}

CliRunObservers::CliRunObservers(const RunFlags& flags, bool stop_on_signals)
    : quiet_(flags.quiet), progress_(report::Progress::ModeFor(flags.quiet)) {
  if (store::StoringEnabled(flags.no_store)) {
    storing_.emplace(store::OpenStore(flags.db));
    storing_->set_base_fingerprint(CliMachineFingerprint());
  }
  if (!flags.metrics_listen.empty()) {
    metrics_ = std::make_unique<exporter::MetricsServer>(
        exporter::ParseListenAddress(flags.metrics_listen, "--metrics-listen"), "--metrics-listen");
    std::fprintf(stderr, "serving the run's metrics at %s\n", metrics_->url().c_str());
  }
  if (stop_on_signals) stop_.emplace();
  if (storing_) all_.Add(&*storing_);
  all_.Add(&progress_);
  if (stop_) all_.Add(&*stop_);
  // After storing: the store assigns the run id this endpoint shows.
  if (metrics_) {
    all_.Add(&metrics_->job_observer([this] { return storing_ ? storing_->run_id() : ""; }));
  }
}

void CliRunObservers::PrintStored() const {
  if (!storing_) return;
  std::fprintf(stderr, "%s\n", storing_->StoredLine().c_str());
}

int CliRunObservers::ExitCode(int exit_code) const {
  if (stop_ && stop_->ExitCode() != 0) return stop_->ExitCode();
  return exit_code;
}

}  // namespace joulebench::cli
