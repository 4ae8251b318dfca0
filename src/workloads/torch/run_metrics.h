// What `infer` and `train` share: a started meter over every available source, and the
// metrics derived from energy and FLOP counts (internal; torch-free).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "joulebench/energy/source.h"
#include "joulebench/load/observer_hooks.h"
#include "joulebench/load/power_signal.h"
#include "joulebench/run/run_observer.h"
#include "joulebench/run/run_record.h"
#include "joulebench/sampling/meter.h"
#include "joulebench/workloads/gemm_peak.h"
#include "joulebench/workloads/torch_runtime.h"

namespace joulebench::workloads {

// Probes every source, starts the sampler, and hands out reports over steady-clock spans.
class RunMeter {
 public:
  RunMeter(const energy::SourceOptions& sources, const sampling::MeterOptions& options);
  double start_unix_s() const { return start_unix_s_; }
  sampling::EnergyReport MeasureBaseline(std::chrono::nanoseconds duration);
  const load::PowerSignal& power_signal() const { return power_; }
  const sampling::Meter& meter() const { return meter_; }
  // Report over [begin_s, end_s] on the steady clock (load::SteadyNowSeconds()).
  sampling::EnergyReport Report(double begin_steady_s, double end_steady_s) const;
  // Stops the sampler; stores the timeline, probe outcomes, warnings and end time.
  void Finish(run::RunRecord& record);

 private:
  double start_unix_s_ = 0;
  std::vector<std::string> probe_notes_;
  sampling::Meter meter_;
  load::PowerSignal power_;
};

// `observer`, or an observer that does nothing when it is null.
run::RunObserver& ObserverOrNone(run::RunObserver* observer);

// The start every metered run shares (infer, train, tune): the record's start time from the
// meter, OnBegin, then the idle baseline when one is asked for (announced as the phase
// "baseline" through `hooks` when given, else the observer; its report appended to
// record.energy).
void BeginMeteredRun(RunMeter& meter, run::RunRecord& record, run::RunObserver& observer,
                     const std::optional<std::chrono::nanoseconds>& baseline,
                     const load::ObserverHooks* hooks = nullptr);

// Above this share of the machine's CPU time used by other processes, a measurement is that of
// a shared machine.
inline constexpr double kSharedMachineShare = 0.1;
// The warning for a measurement during which other processes used `others_share` (>
// kSharedMachineShare) of the machine's CPU time; nullopt below that. `affected`: the figures
// other processes stretch ("throughput and latency"); `cpu_metric`: the one they affect less.
std::optional<std::string> SharedMachineWarning(double others_share, int threads,
                                                std::string_view affected,
                                                std::string_view cpu_metric);

void AddMetric(run::RunRecord& record, std::string name, double value, std::string unit,
               std::string provenance);
// energy_per_<unit> (total and attributable), per domain, and mean power.
void AddEnergyPerUnitMetrics(run::RunRecord& record, const sampling::EnergyReport& energy,
                             double units, const std::string& prefix);
// achieved FLOP/s, FLOPs per unit, the GEMM peak and the fraction of it.
void AddFlopsMetrics(run::RunRecord& record, double achieved_flops_per_s, double flops_per_unit,
                     const std::string& unit_name, const std::optional<GemmPeak>& gemm);
void AddTorchConfig(run::RunRecord& record, const TorchOptions& torch);

}  // namespace joulebench::workloads
