#include "joulebench/plan/inference_plan.h"

#include <fmt/format.h>

#include <cmath>

#include "joulebench/error.h"

namespace joulebench::plan {
namespace {

void CheckCarbon(const CarbonInputs& carbon) {
  if (!(carbon.pue.value >= 1.0)) {
    throw InputError(fmt::format(
        "--pue: {} is below 1; PUE is facility energy / IT energy, e.g. 1.135 (AWS average)",
        carbon.pue.value));
  }
  if (!(carbon.grid_g_co2e_per_kwh.value >= 0)) {
    throw InputError(fmt::format("--grid-intensity: {} g/kWh must not be negative",
                                 carbon.grid_g_co2e_per_kwh.value));
  }
}

}  // namespace

InferencePlan PlanInference(const InferenceRequest& request,
                            std::vector<InferenceCandidate> candidates) {
  if (!(request.rate_per_s > 0) || !std::isfinite(request.rate_per_s)) {
    throw InputError("--sla: the rate must be greater than zero, e.g. 1000000/h");
  }
  if (!(request.target_utilisation > 0 && request.target_utilisation <= 1)) {
    throw InputError(fmt::format(
        "--utilisation: {} is outside (0, 1]; give the fraction of peak each instance may run "
        "at, e.g. 1.0 (as the study) or 0.7",
        request.target_utilisation));
  }
  if (request.latency_bound_s && !(*request.latency_bound_s > 0)) {
    throw InputError("--latency-bound: must be greater than zero, e.g. 100ms");
  }
  if (candidates.size() < 2) {
    throw InputError(
        fmt::format("give at least two candidates to compare (got {}), e.g. "
                    "--candidate name=inf1.2xlarge,throughput=54/s,power=60W",
                    candidates.size()));
  }
  CheckCarbon(request.carbon);

  InferencePlan plan;
  plan.request = request;
  std::vector<std::string> names;
  for (auto& candidate : candidates) {
    if (!(candidate.throughput_per_s.value > 0) ||
        !std::isfinite(candidate.throughput_per_s.value)) {
      throw InputError(
          fmt::format("candidate {}: throughput must be greater than zero", candidate.name));
    }
    for (const auto& n : names) {
      if (n == candidate.name) {
        throw InputError(
            fmt::format("two candidates are named '{}'; give each a distinct "
                        "name=LABEL",
                        candidate.name));
      }
    }
    names.push_back(candidate.name);

    InferenceFleet f;
    const double peak = candidate.throughput_per_s.value;
    // A tiny tolerance keeps ceil() from adding an instance for a rate that is an exact multiple.
    const double exact = request.rate_per_s / (peak * request.target_utilisation);
    // A fleet larger than an int (and than any cloud) is a throughput in the wrong unit.
    if (!(exact <= 1e9)) {
      throw InputError(fmt::format(
          "candidate {}: the SLA needs more than a billion instances at {:.4g}/s each; check "
          "the throughput's time unit",
          candidate.name, peak));
    }
    f.instances = static_cast<int>(std::ceil(exact * (1 - 1e-12)));
    if (f.instances < 1) f.instances = 1;
    f.load_fraction = request.rate_per_s / (f.instances * peak);
    f.watts_per_instance = candidate.power.WattsAt(f.load_fraction);
    f.fleet_watts = f.instances * f.watts_per_instance;
    f.energy_kwh_per_hour = f.fleet_watts / 1000.0;
    f.energy_kwh_per_day = f.energy_kwh_per_hour * 24;
    f.energy_kwh_per_year = f.energy_kwh_per_hour * kHoursPerYear;
    f.facility_kwh_per_hour = f.energy_kwh_per_hour * request.carbon.pue.value;
    f.joules_per_inference = f.fleet_watts / request.rate_per_s;
    if (candidate.price_usd_per_hour) {
      f.cost_usd_per_hour = f.instances * candidate.price_usd_per_hour->value;
      f.cost_usd_per_million = *f.cost_usd_per_hour / (request.rate_per_s * 3600.0) * 1e6;
    }
    f.co2e_kg_per_hour = Co2eKg(f.energy_kwh_per_hour, request.carbon);
    f.co2e_t_per_year = f.co2e_kg_per_hour * kHoursPerYear / 1000.0;
    if (request.latency_bound_s && candidate.latency_p99_s) {
      f.meets_latency_bound = candidate.latency_p99_s->value <= *request.latency_bound_s;
      if (!*f.meets_latency_bound) {
        plan.notes.push_back(fmt::format(
            "{}: p99 latency {:.4g} s at peak exceeds the bound {:.4g} s; its peak throughput "
            "does not meet the SLA's latency, so its fleet is too small",
            candidate.name, candidate.latency_p99_s->value, *request.latency_bound_s));
      }
    }
    if (candidate.power.kind() == CurveKind::kPeakOnly && f.load_fraction < 0.999) {
      candidate.notes.push_back(
          fmt::format("power at {:.1f} % load taken as peak power (no curve known): an upper bound",
                      f.load_fraction * 100));
    }
    f.candidate = std::move(candidate);
    plan.fleets.push_back(std::move(f));
  }

  plan.baseline_index = BaselineIndex(names, request.baseline);
  const InferenceFleet& base = plan.fleets[plan.baseline_index];
  for (std::size_t i = 0; i < plan.fleets.size(); ++i) {
    if (i == plan.baseline_index) continue;
    const InferenceFleet& f = plan.fleets[i];
    Comparison c;
    c.candidate = f.candidate.name;
    c.baseline = base.candidate.name;
    c.changes.push_back(MakeChange("throughput per instance", "1/s",
                                   f.candidate.throughput_per_s.value,
                                   base.candidate.throughput_per_s.value, true));
    c.changes.push_back(MakeChange("instances", "", f.instances, base.instances));
    c.changes.push_back(
        MakeChange("energy", "kWh/h", f.energy_kwh_per_hour, base.energy_kwh_per_hour));
    if (f.cost_usd_per_million && base.cost_usd_per_million) {
      c.changes.push_back(MakeChange("cost per million inferences", "USD", *f.cost_usd_per_million,
                                     *base.cost_usd_per_million));
    }
    c.changes.push_back(MakeChange("CO2e", "kg/h", f.co2e_kg_per_hour, base.co2e_kg_per_hour));
    plan.comparisons.push_back(std::move(c));
  }
  return plan;
}

}  // namespace joulebench::plan
