// The metrics of one run as it happens (measure, loadgen, infer, train): a run observer that
// keeps the run's state, and a prometheus-cpp Collectable that formats it at each scrape. It
// also hands the run's meter to the meter collector on OnBegin and freezes it on OnEnd, so the
// energy metrics follow the run and never outlive its meter.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/meter_collector.h"
#include "joulebench/load/latency_histogram.h"
#include "joulebench/run/run_observer.h"

namespace joulebench::exporter {

// The coarse phase of a run, one of a fixed set so that each is one stable time series.
enum class RunPhase { kStarting, kBaseline, kWarmUp, kMeasuring, kDone };
std::string_view RunPhaseName(RunPhase phase);  // "starting", "baseline", "warm-up", ...
// The phase a run's OnPhase text ("baseline", "warm-up", "peak search step 3 (200/s)",
// "load level 50 %: steady state reached, measuring") belongs to.
RunPhase ClassifyPhase(std::string_view text);

class JobCollector : public prometheus::Collectable, public run::RunObserver {
 public:
  explicit JobCollector(MeterCollector& meter);

  void set_run_id(std::function<std::string()> run_id);

  void OnBegin(const run::RunRecord& record, const sampling::Meter& meter) override;
  void OnPhase(std::string_view phase, std::optional<double> eta_s) override;
  void OnProgress(double throughput_per_s, double watts) override;
  void OnLatencies(const load::LatencyHistogram& window) override;
  void OnEnd(const run::RunRecord& record) override;

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  MeterCollector& meter_;
  mutable std::mutex mutex_;
  std::function<std::string()> run_id_;
  bool begun_ = false;
  std::string kind_;
  std::string name_;
  double start_unix_s_ = 0;
  std::optional<double> end_unix_s_;
  RunPhase phase_ = RunPhase::kStarting;
  std::optional<double> throughput_per_s_;
  std::unique_ptr<load::LatencyHistogram> latencies_;  // every query so far (59 KiB)
};

}  // namespace joulebench::exporter
