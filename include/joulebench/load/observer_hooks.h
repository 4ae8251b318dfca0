// Connects a run observer (storing, progress, stop on SIGINT/SIGTERM) to the load
// generator's hooks: TestSettings::stop_requested asks the observer, each statistics window
// becomes OnProgress, the start of the measured part a phase "<context>: steady state
// reached, measuring" (or "<context>: measuring" when not waiting for it), and each peak-search probe a phase "peak search step k".
//
//   load::ObserverHooks hooks(options.observer);    // nullptr: connects nothing
//   hooks.Connect(settings, &search);
//   hooks.Phase("load level 50 %");
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "joulebench/load/test_settings.h"
#include "joulebench/run/run_observer.h"

namespace joulebench::load {

class ObserverHooks {
 public:
  explicit ObserverHooks(run::RunObserver* observer);
  // Sets the hooks of `settings` (and of `search` when given). The hooks may be called from
  // the load generator's window thread.
  void Connect(TestSettings& settings, PeakSearchSettings* search = nullptr) const;
  // Announces a phase; later "steady state reached" phases are prefixed with it.
  void Phase(const std::string& context, std::optional<double> eta_s = std::nullopt) const;
  bool StopRequested() const;

 private:
  struct State;
  run::RunObserver* observer_;
  std::shared_ptr<State> state_;
};

}  // namespace joulebench::load
