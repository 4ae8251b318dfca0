// What `tune infer` and `tune train` share after their search: the tune run record's verdict,
// metrics and energy reports (internal; torch-free).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "joulebench/run/run_observer.h"
#include "joulebench/run/run_record.h"
#include "joulebench/tune/search.h"
#include "workloads/torch/run_metrics.h"

namespace joulebench::workloads {

// Forwards one probe's phases (prefixed, e.g. "probe 3 (int8 t2 b8 d0, rung 0): ") and progress
// to the run's observer; the probe stops when the search says so (SIGINT, the budget).
class TuneProbeObserver : public run::RunObserver {
 public:
  TuneProbeObserver(run::RunObserver* outer, std::string prefix, std::function<bool()> stop)
      : outer_(outer), prefix_(std::move(prefix)), stop_(std::move(stop)) {}
  void OnPhase(std::string_view phase, std::optional<double> eta_s) override {
    if (outer_ != nullptr) outer_->OnPhase(prefix_ + std::string(phase), eta_s);
  }
  void OnProgress(double throughput_per_s, double watts) override {
    if (outer_ != nullptr) outer_->OnProgress(throughput_per_s, watts);
  }
  bool StopRequested() const override { return stop_ && stop_(); }

 private:
  run::RunObserver* outer_;
  std::string prefix_;
  std::function<bool()> stop_;
};

struct TuneUnits {
  std::string unit;               // "inference", "sequence"
  std::string throughput_metric;  // "throughput", "sequences_per_s"
  std::string latency_metric;     // "latency_p99", "step_time_mean"
  std::string energy_metric;      // "energy_per_inference", "energy_per_sequence"
};

// Called for a knob value the search leaves out: knob, value, why.
using SkipKnobValue =
    std::function<void(const std::string& knob, const std::string& value, const std::string& why)>;

// The "dtype" knob over the values that can run here (fp32 the default when among them).
// InputError naming `requested` when none can: "none of ... can <verb> here".
tune::Knob DtypeKnob(std::vector<nlohmann::json> values, const std::vector<std::string>& requested,
                     std::string_view verb);
// The "threads" knob: `requested`, else 1, 2, 4, ... up to the machine's cores (1 the default
// when among them). On a GPU only the first: the others are skipped, saying `on_gpu`.
tune::Knob ThreadsKnob(const std::vector<int>& requested, bool cpu, const SkipKnobValue& skip,
                       const std::string& on_gpu);

// Runs the search of a tune run: its budget less the time since `command_start_s` (steady
// clock: model builds, the baseline), stopping on the observer's request, every probe stored
// in `record` and persisted (OnPartial) as it ends. `callbacks` brings evaluate, name and
// inapplicable.
tune::SearchResult RunTuneSearch(const std::vector<tune::Knob>& knobs, tune::SearchSettings search,
                                 double command_start_s, tune::SearchCallbacks callbacks,
                                 run::RunObserver& observer, run::RunRecord& record);

// Ends a tune run: complete, or incomplete with a warning when the search was stopped; the
// meter's timeline into the record; OnEnd.
void EndTuneRun(const tune::SearchResult& result, RunMeter& meter, run::RunObserver& observer,
                run::RunRecord& record);

// A probe whose "measurement" energy total is incomplete (a sensor lost or with a gap during
// it) is INVALID: its energy per unit would be low only because a domain was not counted.
void InvalidateIfEnergyIncomplete(const run::RunRecord& probe_record, run::TuneProbe& probe);

// Fills `record` from the search: every probe, the verdict (VALID when a configuration was
// chosen), the chosen configuration's figures as metrics named as a run of its kind names them
// (what `plan` reads), the default configuration's figures at the same rung ("default_..."),
// the ratio of their objectives, and the chosen and default probes' energy reports
// ("measurement", "default configuration"), peak-search probes and latency histogram.
// probe_records: each measured probe's own run record, by configuration name and rung.
void FinishTuneRecord(const tune::SearchResult& result,
                      const std::map<std::pair<std::string, int>, run::RunRecord>& probe_records,
                      const TuneUnits& units, run::RunRecord& record);

}  // namespace joulebench::workloads
