// What every run command (measure, loadgen, infer, train) shares around its run: the flags
// --db, --no-store, --quiet, --name, --metrics-listen, and the observers they switch on:
// storing (unless --no-store or $JOULEBENCH_NO_STORE), live progress on stderr (unless
// --quiet), stopping early on SIGINT/SIGTERM, and a Prometheus endpoint with the run's
// metrics (with --metrics-listen).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include "joulebench/exporter/metrics_server.h"
#include "joulebench/report/progress_observer.h"
#include "joulebench/run/run_observer.h"
#include "joulebench/store/stop_on_signals.h"
#include "joulebench/store/storing_observer.h"

namespace joulebench::cli {

struct RunFlags {
  std::optional<std::string> db;
  bool no_store = false;
  bool quiet = false;
  std::string name;  // the run's label in the store
  std::string metrics_listen;  // HOST:PORT of a Prometheus endpoint for the run; "" = none
};

// Adds --db, --no-store, --quiet and (with_name) --name.
void AddRunFlags(CLI::App& app, RunFlags& flags, bool with_name = true);
// Adds --metrics-listen HOST:PORT (the run's metrics for Prometheus while it runs).
void AddMetricsListenFlag(CLI::App& app, RunFlags& flags);

class CliRunObservers {
 public:
  // Opens the store first (a bad --db fails here, before anything runs), then the metrics
  // endpoint (a port in use fails here too). stop_on_signals: install SIGINT/SIGTERM handlers
  // that ask the run to stop (not for `measure`, which passes those signals on to its
  // command).
  CliRunObservers(const RunFlags& flags, bool stop_on_signals);

  run::RunObserver* observer() { return &all_; }
  bool storing() const { return storing_.has_value(); }
  // Prints "stored as run 12 in <db>" to stderr when storing (also with --quiet: a result),
  // or "joulebench: error: run 12 is stored only in part ..." when storing failed mid-run.
  void PrintStored() const;
  // True when storing failed mid-run (disk full, database made read-only).
  bool storing_failed() const;
  // 130 / 143 when a signal stopped the run; 3 when `exit_code` is 0 but storing failed;
  // else `exit_code`.
  int ExitCode(int exit_code) const;

 private:
  bool quiet_;
  std::optional<store::StoringObserver> storing_;
  report::ProgressObserver progress_;
  std::optional<store::StopOnSignals> stop_;
  std::unique_ptr<exporter::MetricsServer> metrics_;
  run::RunObservers all_;
};

}  // namespace joulebench::cli
