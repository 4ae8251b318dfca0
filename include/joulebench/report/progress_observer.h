// Live progress of any run (measure, loadgen, infer, train): the run observer that draws
// report::Progress (phase, elapsed, throughput, power, ETA; a rewritten line on a terminal,
// plain lines at a low rate otherwise, nothing with --quiet).
//
//   joulebench::report::ProgressObserver progress(joulebench::report::Progress::ModeFor(quiet));
//   options.observer = &progress;
#pragma once

#include <cstdio>

#include "joulebench/report/progress.h"
#include "joulebench/run/run_observer.h"

namespace joulebench::report {

class ProgressObserver : public run::RunObserver {
 public:
  // plain_interval_s: at most one plain line this often (default 10 s) besides phase changes.
  explicit ProgressObserver(ProgressMode mode, std::FILE* out = stderr,
                            double plain_interval_s = 10.0);

  void OnPhase(std::string_view phase, std::optional<double> eta_s) override;
  void OnProgress(double throughput_per_s, double watts) override;
  // Clears the status line; a run that did not complete leaves a line saying so.
  void OnEnd(const run::RunRecord& record) override;

  Progress& progress() { return progress_; }

 private:
  Progress progress_;
};

}  // namespace joulebench::report
