#include "cli/run_observers.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cli/store_options.h"
#include "joulebench/error.h"
#include "joulebench/store/run_store.h"
#include "joulebench/units.h"

namespace joulebench::cli {

namespace {

// $JOULEBENCH_FLUSH_INTERVAL: how often a run's new samples are committed (default 1s), which
// is the most a SIGKILL or a power cut can lose.
double FlushIntervalS() {
  const char* text = std::getenv("JOULEBENCH_FLUSH_INTERVAL");
  if (text == nullptr || *text == '\0') return 1.0;
  const double seconds =
      std::chrono::duration<double>(ParseDuration(text, "JOULEBENCH_FLUSH_INTERVAL")).count();
  if (seconds < 0.01 || seconds > 3600) {
    throw InputError(fmt::format(
        "JOULEBENCH_FLUSH_INTERVAL '{}' is out of range; use 10ms to 1h (default 1s)", text));
  }
  return seconds;
}

}  // namespace

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
    storing_.emplace(store::OpenStore(flags.db), FlushIntervalS());
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
  // A storing failure is an error of this run, in the one-line form of every other error.
  std::fprintf(stderr, "%s%s\n", storing_->error() ? "joulebench: error: " : "",
               storing_->StoredLine().c_str());
}

bool CliRunObservers::storing_failed() const { return storing_ && storing_->error(); }

int CliRunObservers::ExitCode(int exit_code) const {
  if (stop_ && stop_->ExitCode() != 0) return stop_->ExitCode();
  // Exit status 3 is an environment error (main.cc): here the database's.
  if (exit_code == 0 && storing_failed()) return 3;
  return exit_code;
}

}  // namespace joulebench::cli
