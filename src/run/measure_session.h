// A measure run of code the caller runs itself, rather than a command: what `joulebench
// measure` does around a child process, done around a span of the caller's own work (the
// Python binding's Meter). Probes the sources, optionally measures the idle baseline, keeps
// a "measurement" window from Begin() to End(), named windows that may nest and overlap, and a
// count of work done (steps, samples, tokens) so that energy per unit of work can be reported.
// The run record is the same kind as `measure`'s (MeasureRunRecord) and reaches a RunObserver
// (e.g. the store) as it happens.
//
//   run::MeasureSession session(options);   // probes
//   session.Begin();                          // meter, baseline, observer's OnBegin
//   auto w = session.BeginWindow("epoch 1");
//   ... work ...; session.Count(32);
//   run::WindowEnergy epoch = session.EndWindow(w);
//   const run::RunRecord& record = session.End();  // observer's OnEnd
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"
#include "joulebench/run/run_observer.h"
#include "joulebench/run/run_record.h"
#include "joulebench/sampling/meter.h"
#include "run/measure_command_runner.h"

namespace joulebench::run {

struct MeasureSessionOptions {
  energy::SourceOptions sources;
  sampling::MeterOptions meter;
  // Idle time measured at Begin(); reports then show attributable energy.
  std::optional<std::chrono::nanoseconds> baseline;
  std::string name;                // the run's label (default: the workload)
  std::string workload;            // what runs, e.g. "python3 train.py --epochs 1"
  std::string work_unit = "step";  // what Count() counts, singular: "step", "sample", "token"
  nlohmann::json config = nlohmann::json::object();       // more configuration to store
  nlohmann::json fingerprint = nlohmann::json::object();  // machine and build
  // Told about the run as it happens: OnBegin at Begin(), OnPartial at most about once a
  // second as windows end, OnEnd at End(). nullptr = none.
  RunObserver* observer = nullptr;
};

// A window's energy and the work counted while it was open.
struct WindowEnergy {
  sampling::EnergyReport energy;
  double work = 0;
};

// What a session measured so far (while it runs) or in all (once ended).
struct MeasureSessionReport {
  std::vector<ProbeSummary> probes;
  std::optional<sampling::EnergyReport> baseline;
  // From Begin() to End(); while running, to the latest sample.
  sampling::EnergyReport measurement;
  double work = 0;  // counted from Begin()
  std::string work_unit;
  std::vector<WindowEnergy> windows;  // ended windows, in the order they ended
  std::vector<std::string> warnings;  // from sources, the sampler and the session
  RunStatus status = RunStatus::kRunning;
  bool ended = false;
};

class MeasureSession {
 public:
  // Probes the sources (never fails because a sensor is missing: the probes say why) and
  // makes the meter. Throws InputError when work_unit is empty.
  explicit MeasureSession(MeasureSessionOptions options);
  // A session destroyed while running ends as incomplete.
  ~MeasureSession();
  MeasureSession(const MeasureSession&) = delete;
  MeasureSession& operator=(const MeasureSession&) = delete;

  const std::vector<ProbeSummary>& probes() const;
  const std::vector<energy::DomainInfo>& domains() const;
  const sampling::Meter& meter() const;

  // Starts the meter, tells the observer, measures the baseline (when asked) and opens the
  // "measurement" window. `interrupted` is polled about every 50 ms during the baseline: when
  // it returns true the baseline stops there and Begin returns false (the caller then ends
  // the session with End(...)). Throws InputError when called twice.
  bool Begin(const std::function<bool()>& interrupted = {});
  bool running() const;

  // Windows inside the measurement: a sample is taken at each edge. Names "baseline" and
  // "measurement" are the session's own (InputError); other names may repeat. Throws
  // InputError when the session is not running or the id is not an open window.
  sampling::WindowId BeginWindow(std::string name);
  WindowEnergy EndWindow(sampling::WindowId id);

  // Adds `units` (>= 0, finite) of work; every window open meanwhile counts them.
  void Count(double units);
  double work() const;

  // Ends the measurement window (and any window still open, with a warning), stops the
  // meter, tells the observer and returns the run record. The run is complete, or incomplete
  // when `incomplete_reason` is given (it becomes a warning, e.g. "interrupted by
  // KeyboardInterrupt: the code did not run to its end"). Later calls return the same record.
  const RunRecord& End(std::optional<std::string> incomplete_reason = std::nullopt);

  MeasureSessionReport Report() const;
  // Every sample so far.
  sampling::Timeline Timeline() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// "1.2 kJ per step" style figures of a window: energy (and attributable energy) per unit of
// work; nullopt when no work was counted.
std::optional<double> JoulesPerWork(const sampling::EnergyReport& energy, double work);
std::optional<double> AttributableJoulesPerWork(const sampling::EnergyReport& energy, double work);

}  // namespace joulebench::run
