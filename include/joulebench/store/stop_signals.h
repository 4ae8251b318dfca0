// SIGINT / SIGTERM during a run: instead of dying, the run notices, stops measuring, stores
// what it measured as "incomplete" and exits. A second SIGINT kills at once (the default
// action), for a run that does not stop.
//
//   joulebench::store::StopSignals stop;            // installs the handlers
//   while (!stop.requested() && more_work) { ... writer.Sync(record); }
//   writer.Finish(record, stop.requested() ? RunStatus::kIncomplete : RunStatus::kComplete);
//   return stop.requested() ? stop.ExitCode() : 0;
#pragma once

namespace joulebench::store {

class StopSignals {
 public:
  // Installs handlers for SIGINT and SIGTERM; the previous handlers come back on destruction.
  // One instance at a time per process.
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // True once SIGINT or SIGTERM arrived. Async-signal-safe state, cheap to poll.
  bool requested() const;
  // The signal that arrived (SIGINT, SIGTERM), 0 when none.
  int signal() const;
  // The shell's convention for a process ended by a signal: 128 + signal (130 for SIGINT).
  int ExitCode() const;
  // Raises the request from code (e.g. a time limit).
  void Request(int signal_number);
};

}  // namespace joulebench::store
