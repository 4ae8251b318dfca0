#include "workloads/torch/run_metrics.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

#include "report/energy_report_format.h"

namespace joulebench::workloads {
namespace {

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<energy::ProbeResult> Probe(const energy::SourceOptions& sources,
                                       std::vector<std::string>& notes) {
  auto probes = energy::ProbeAll(sources);
  for (const auto& p : probes) {
    if (p.status != energy::ProbeStatus::kAvailable) {
      notes.push_back(fmt::format("energy source {}: {} ({})", p.source_name,
                                  energy::ProbeStatusName(p.status), p.reason));
    }
  }
  return probes;
}

}  // namespace

RunMeter::RunMeter(const energy::SourceOptions& sources, const sampling::MeterOptions& options)
    : start_unix_s_(UnixNow()),
      meter_(sampling::Meter::FromProbe(Probe(sources, probe_notes_), options)) {
  meter_.Start();
  power_ = load::MeterPowerSignal(meter_);
}

sampling::EnergyReport RunMeter::MeasureBaseline(std::chrono::nanoseconds duration) {
  auto report = meter_.MeasureBaseline(duration);
  report.name = "baseline";
  return report;
}

sampling::EnergyReport RunMeter::Report(double begin_steady_s, double end_steady_s) const {
  return power_.energy_report(begin_steady_s, end_steady_s);
}

std::optional<std::string> SharedMachineWarning(double others_share, int threads,
                                                std::string_view affected,
                                                std::string_view cpu_metric) {
  if (!(others_share > kSharedMachineShare)) return std::nullopt;
  std::string hint;
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  if (threads > 1 && (policy == nullptr || std::string_view(policy) != "passive")) {
    // An intra-op thread that reaches a barrier spins (libgomp: up to ~300,000 pauses) while
    // its partner is descheduled: on a busy machine each thread loses its time slices to
    // the other's absence (measured here: bert-base's 12 layers at batch 1 and 2 threads
    // ran 3.7x slower spinning than waiting passively, while 20 other processes ran).
    hint =
        "; with several --threads on a shared machine, OMP_WAIT_POLICY=passive stops "
        "waiting threads from spinning through their partners' preemption";
  }
  return fmt::format(
      "other processes used {:.0f} % of the machine's CPU time during the measurement: {} are "
      "those of a shared machine ({} is less affected){}",
      others_share * 100, affected, cpu_metric, hint);
}

run::RunObserver& ObserverOrNone(run::RunObserver* observer) {
  static run::RunObserver none;  // stateless: every call does nothing
  return observer != nullptr ? *observer : none;
}

void BeginMeteredRun(RunMeter& meter, run::RunRecord& record, run::RunObserver& observer,
                     const std::optional<std::chrono::nanoseconds>& baseline,
                     const load::ObserverHooks* hooks) {
  record.start_unix_s = meter.start_unix_s();
  observer.OnBegin(record, meter.meter());
  if (!baseline) return;
  const double seconds = std::chrono::duration<double>(*baseline).count();
  if (hooks != nullptr) {
    hooks->Phase("baseline", seconds);
  } else {
    observer.OnPhase("baseline", seconds);
  }
  record.energy.push_back(meter.MeasureBaseline(*baseline));
}

void RunMeter::Finish(run::RunRecord& record) {
  meter_.Stop();
  record.timeline = meter_.Snapshot();
  record.end_unix_s = UnixNow();
  if (record.start_unix_s == 0) record.start_unix_s = start_unix_s_;
  for (auto& w : meter_.TakeWarnings()) record.warnings.push_back(std::move(w));
  record.fingerprint["energy_sources_unavailable"] = probe_notes_;
}

void AddMetric(run::RunRecord& record, std::string name, double value, std::string unit,
               std::string provenance) {
  record.metrics.push_back(
      run::Metric{std::move(name), value, std::move(unit), std::move(provenance)});
}

void AddEnergyPerUnitMetrics(run::RunRecord& record, const sampling::EnergyReport& energy,
                             double units, const std::string& prefix) {
  const std::string total_provenance = fmt::format("{}: sum of {}", report::TotalProvenance(energy),
                                                   fmt::join(energy.total_domains, ", "));
  AddMetric(record, "mean_power", energy.mean_watts, "W", total_provenance);
  AddMetric(record, "energy", energy.total_joules, "J", total_provenance);
  if (units <= 0) return;
  AddMetric(record, prefix, energy.total_joules / units, "J", total_provenance);
  if (energy.total_attributable_joules) {
    AddMetric(record, prefix + "_attributable", *energy.total_attributable_joules / units, "J",
              total_provenance + " minus idle baseline");
  }
  for (const auto& d : energy.domains) {
    AddMetric(record, fmt::format("{}[{}]", prefix, d.domain.name), d.joules / units, "J",
              d.domain.provenance.Describe());
    if (d.attributable_joules) {
      AddMetric(record, fmt::format("{}_attributable[{}]", prefix, d.domain.name),
                *d.attributable_joules / units, "J",
                d.domain.provenance.Describe() + " minus idle baseline");
    }
  }
}

void AddFlopsMetrics(run::RunRecord& record, double achieved_flops_per_s, double flops_per_unit,
                     const std::string& unit_name, const std::optional<GemmPeak>& gemm) {
  const std::string counted = "counted: matrix-product FLOPs of the model's shapes";
  AddMetric(record, "flops_per_" + unit_name, flops_per_unit, "FLOP", counted);
  AddMetric(record, "achieved_flops", achieved_flops_per_s, "FLOP/s",
            "measured throughput x " + counted);
  if (!gemm) return;
  const std::string gemm_provenance =
      fmt::format("measured: libtorch {}x{} GEMM by {}, {}, {}, {} thread(s), {:.1f} s", gemm->size,
                  gemm->size, LinearKernelDescription(gemm->kernel), gemm->device,
                  ComputeDtypeName(gemm->dtype), gemm->threads, gemm->duration_s);
  AddMetric(record, "gemm_peak_flops", gemm->flops_per_s, "FLOP/s", gemm_provenance);
  if (gemm->flops_per_s > 0) {
    AddMetric(record, "fraction_of_gemm_peak", achieved_flops_per_s / gemm->flops_per_s, "1",
              "achieved_flops / gemm_peak_flops");
  }
}

void AddTorchConfig(run::RunRecord& record, const TorchOptions& torch) {
  record.config["torch"] = {
      {"device", torch.device},
      {"dtype", std::string(InferenceDtypeName(torch))},
      {"threads", torch.threads},
      {"seed", torch.seed},
      {"weights", torch.weights_path},
      {"linear_kernel", std::string(LinearKernelName(
                            ResolveLinearKernel(torch.linear_kernel, torch.device, torch.dtype)))},
  };
  if (torch.quantization == DenseQuantization::kDynamicInt8) {
    record.config["torch"]["quantization"] =
        fmt::format("dynamic int8 dense layers, per-tensor symmetric weights, libtorch {} engine",
                    QuantizedEngine());
  }
  if (const std::string policy = KeepFreedHostMemory(); !policy.empty()) {
    record.config["torch"]["host_allocator"] = policy;
  }
  // The thread settings that change speed without changing --threads: libgomp's waiting
  // (spin or sleep at barriers) and the pools' sizes, as this process saw them.
  nlohmann::json thread_env = nlohmann::json::object();
  for (const char* name : {"OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_PROC_BIND",
                           "OPENBLAS_NUM_THREADS"}) {
    if (const char* value = std::getenv(name)) thread_env[name] = value;
  }
  record.config["torch"]["thread_env"] = thread_env;
  record.fingerprint["libtorch"] = TorchVersion();
  record.fingerprint["cuda_available"] = CudaAvailable();
}

}  // namespace joulebench::workloads
