// The run observer whose StopRequested() turns true on SIGINT or SIGTERM (StopSignals), so
// that a run stops early, stores what it measured as incomplete and the CLI exits 130 / 143.
// Construct it just before the run: it installs the handlers, the destructor restores them.
#pragma once

#include "joulebench/run/run_observer.h"
#include "joulebench/store/stop_signals.h"

namespace joulebench::store {

class StopOnSignals : public run::RunObserver {
 public:
  bool StopRequested() const override { return signals_.requested(); }
  // 128 + the signal that arrived (130 for SIGINT, 143 for SIGTERM); 0 when none.
  int ExitCode() const { return signals_.ExitCode(); }

 private:
  StopSignals signals_;
};

}  // namespace joulebench::store
