#include "joulebench/plan/training_plan.h"

#include <fmt/format.h>

#include <cmath>

#include "joulebench/error.h"

namespace joulebench::plan {

TrainingPlan PlanTraining(const TrainingRequest& request,
                          std::vector<TrainingCandidate> candidates) {
  if (!(request.total_sequences > 0) || !std::isfinite(request.total_sequences)) {
    throw InputError("--sequences: must be greater than zero, e.g. 450M");
  }
  if (request.instances < 1) {
    throw InputError("--instances: must be a whole number of at least 1, e.g. 16");
  }
  const double efficiency = request.scaling_efficiency.value;
  if (!(efficiency > 0 && efficiency <= 1)) {
    throw InputError(fmt::format(
        "--scaling-efficiency: {} is outside (0, 1]; 1.0 means linear scaling", efficiency));
  }
  if (candidates.size() < 2) {
    throw InputError(fmt::format("give at least two candidates to compare (got {}), e.g. "
                                 "--candidate name=trn1.32xlarge,throughput=3400/s,power=6500W",
                                 candidates.size()));
  }
  if (!(request.carbon.pue.value >= 1.0)) {
    throw InputError(fmt::format("--pue: {} is below 1; e.g. 1.135 (AWS average)",
                                 request.carbon.pue.value));
  }
  if (!(request.carbon.grid_g_co2e_per_kwh.value >= 0)) {
    throw InputError("--grid-intensity: must not be negative");
  }

  TrainingPlan plan;
  plan.request = request;
  std::vector<std::string> names;
  for (auto& candidate : candidates) {
    if (!(candidate.sequences_per_s.value > 0) || !std::isfinite(candidate.sequences_per_s.value)) {
      throw InputError(fmt::format("candidate {}: throughput must be greater than zero",
                                   candidate.name));
    }
    if (!(candidate.watts.value > 0) || !std::isfinite(candidate.watts.value)) {
      throw InputError(fmt::format("candidate {}: power must be greater than zero",
                                   candidate.name));
    }
    for (const auto& n : names) {
      if (n == candidate.name) {
        throw InputError(fmt::format("two candidates are named '{}'; give each a distinct "
                                     "name=LABEL",
                                     candidate.name));
      }
    }
    names.push_back(candidate.name);
    TrainingRun r;
    r.cluster_sequences_per_s = request.instances * candidate.sequences_per_s.value * efficiency;
    r.sequences_per_hour_per_instance = candidate.sequences_per_s.value * 3600;
    r.time_s = request.total_sequences / r.cluster_sequences_per_s;
    r.cluster_watts = request.instances * candidate.watts.value;
    r.energy_kwh = r.cluster_watts * r.time_s / 3.6e6;
    r.facility_energy_kwh = r.energy_kwh * request.carbon.pue.value;
    if (candidate.price_usd_per_hour) {
      r.cost_usd = request.instances * candidate.price_usd_per_hour->value * r.time_s / 3600;
    }
    r.co2e_kg = Co2eKg(r.energy_kwh, request.carbon);
    r.candidate = std::move(candidate);
    plan.runs.push_back(std::move(r));
  }
  plan.baseline_index = BaselineIndex(names, request.baseline);
  const TrainingRun& base = plan.runs[plan.baseline_index];
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    if (i == plan.baseline_index) continue;
    const TrainingRun& r = plan.runs[i];
    Comparison c;
    c.candidate = r.candidate.name;
    c.baseline = base.candidate.name;
    c.changes.push_back(MakeChange("throughput (sequences per hour per instance)", "1/h",
                                   r.sequences_per_hour_per_instance,
                                   base.sequences_per_hour_per_instance, true));
    c.changes.push_back(MakeChange("time to train", "h", r.time_s / 3600, base.time_s / 3600));
    c.changes.push_back(MakeChange("energy", "kWh", r.energy_kwh, base.energy_kwh));
    if (r.cost_usd && base.cost_usd) {
      c.changes.push_back(MakeChange("cost per training run", "USD", *r.cost_usd, *base.cost_usd));
    }
    c.changes.push_back(MakeChange("CO2e", "kg", r.co2e_kg, base.co2e_kg));
    plan.comparisons.push_back(std::move(c));
  }
  return plan;
}

double ScalingEfficiency(int instances_a, double throughput_a_per_s, int instances_b,
                         double throughput_b_per_s) {
  if (instances_a < 1 || instances_b < 1 || instances_a == instances_b) {
    throw InputError(fmt::format("--scaling-from: need two different cluster sizes of at least "
                                 "1 instance (got {} and {})",
                                 instances_a, instances_b));
  }
  if (!(throughput_a_per_s > 0) || !(throughput_b_per_s > 0)) {
    throw InputError("--scaling-from: throughputs must be greater than zero");
  }
  if (instances_a > instances_b) {
    std::swap(instances_a, instances_b);
    std::swap(throughput_a_per_s, throughput_b_per_s);
  }
  return (throughput_b_per_s / instances_b) / (throughput_a_per_s / instances_a);
}

}  // namespace joulebench::plan
