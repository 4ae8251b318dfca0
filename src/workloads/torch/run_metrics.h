// What `infer` and `train` share: a started meter over every available source, and the
// metrics derived from energy and FLOP counts (internal; torch-free).
#pragma once

#include <optional>
#include <string>

#include "joulebench/energy/source.h"
#include "joulebench/load/power_signal.h"
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
