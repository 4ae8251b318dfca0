// Observes a run as it happens, so that storing (incremental, crash-safe) and live progress
// plug into every kind of run (measure, loadgen, infer, train) the same way. The run calls
// these from the thread that drives it; every method has a do-nothing default.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "joulebench/run/run_record.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::load {
class LatencyHistogram;
}  // namespace joulebench::load

namespace joulebench::run {

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // The run began: header fields of `record` (kind, name, config, fingerprint, start time)
  // are set; `meter` is running and outlives the run (samples may be read from it).
  virtual void OnBegin(const RunRecord& record, const sampling::Meter& meter) {}
  // A new phase: "baseline", "warm-up", "steady state reached", "measuring",
  // "peak search step 3", "load level 50 %". eta_s: seconds left in the run, when known.
  virtual void OnPhase(std::string_view phase, std::optional<double> eta_s) {}
  // Latest throughput (per second of the run's unit of work; 0 when none) and total power.
  virtual void OnProgress(double throughput_per_s, double watts) {}
  // Latencies of the queries a load-generator run completed in one statistics window (warm-up
  // included), called from the load generator's window thread; for live exports such as a
  // Prometheus histogram. Runs without queries (measure, train) never call it.
  virtual void OnLatencies(const load::LatencyHistogram& window) {}
  // Results so far (after a window, a peak probe, a load level): worth persisting now.
  virtual void OnPartial(const RunRecord& record) {}
  // The run ended; record.status says how (complete, incomplete after a stop, failed).
  virtual void OnEnd(const RunRecord& record) {}
  // True when the run should stop early (SIGINT/SIGTERM): runs poll this between steps.
  virtual bool StopRequested() const { return false; }
};

// Forwards every call to each observer in turn (StopRequested: any of them).
class RunObservers : public RunObserver {
 public:
  void Add(RunObserver* observer) {
    if (observer != nullptr) observers_.push_back(observer);
  }
  void OnBegin(const RunRecord& r, const sampling::Meter& m) override {
    for (auto* o : observers_) o->OnBegin(r, m);
  }
  void OnPhase(std::string_view phase, std::optional<double> eta_s) override {
    for (auto* o : observers_) o->OnPhase(phase, eta_s);
  }
  void OnProgress(double throughput_per_s, double watts) override {
    for (auto* o : observers_) o->OnProgress(throughput_per_s, watts);
  }
  void OnLatencies(const load::LatencyHistogram& window) override {
    for (auto* o : observers_) o->OnLatencies(window);
  }
  void OnPartial(const RunRecord& r) override {
    for (auto* o : observers_) o->OnPartial(r);
  }
  void OnEnd(const RunRecord& r) override {
    for (auto* o : observers_) o->OnEnd(r);
  }
  bool StopRequested() const override {
    for (auto* o : observers_) {
      if (o->StopRequested()) return true;
    }
    return false;
  }

 private:
  std::vector<RunObserver*> observers_;
};

}  // namespace joulebench::run
