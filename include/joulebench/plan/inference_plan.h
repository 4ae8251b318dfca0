// Inference fleets for an SLA: how many instances of each candidate serve a target rate, at
// what power, energy, cost and CO2e, and how the candidates compare (the study's table).
//
//   instances      n = ceil(rate / (peak throughput x target utilisation))
//   load           each instance serves rate / n, i.e. load = rate / (n x peak throughput)
//   fleet power    n x P(load), P from the candidate's power curve
//   energy         fleet power x time (machine energy; facility energy = x PUE)
//   cost           n x price per hour; per million inferences = cost per hour / (rate x 3600) x 1e6
//   CO2e           machine energy x PUE x grid intensity
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "joulebench/plan/carbon_data.h"
#include "joulebench/plan/comparison.h"
#include "joulebench/plan/power_curve.h"
#include "joulebench/plan/sourced.h"

namespace joulebench::plan {

// Hours in a planning year (365 days of continuous service).
inline constexpr double kHoursPerYear = 8760;

struct InferenceCandidate {
  std::string name;          // label in the tables
  std::string machine_type;  // catalog name, or "" for a machine outside the catalog
  std::string origin;        // "given", "run FILE (id ...)": what the candidate was built from
  Sourced throughput_per_s;  // peak inferences per second of one instance (> 0)
  PowerCurve power = PowerCurve::PeakOnly(1, "unset");  // one instance, whole machine
  std::optional<Sourced> price_usd_per_hour;             // one instance
  std::string price_missing_reason;  // why costs are left out, when price_usd_per_hour is empty
  std::optional<Sourced> latency_p99_s;  // at peak throughput, where known
  std::vector<std::string> notes;        // caveats shown with the candidate
};

struct InferenceRequest {
  double rate_per_s = 0;          // the SLA rate (> 0)
  std::optional<double> latency_bound_s;  // p99 bound the candidates' peak must meet
  double target_utilisation = 1.0;        // (0, 1]; 1.0 as in the study; 0.7 leaves headroom
  CarbonInputs carbon;
  std::string baseline;  // candidate name of the 1x reference; "" = the last candidate
};

struct InferenceFleet {
  InferenceCandidate candidate;
  int instances = 0;
  double load_fraction = 0;       // of each instance's peak throughput
  double watts_per_instance = 0;  // P(load)
  double fleet_watts = 0;
  double energy_kwh_per_hour = 0;  // machine energy
  double energy_kwh_per_day = 0;
  double energy_kwh_per_year = 0;
  double facility_kwh_per_hour = 0;  // x PUE
  double joules_per_inference = 0;   // fleet power / rate (machine energy)
  std::optional<double> cost_usd_per_hour;
  std::optional<double> cost_usd_per_million;
  double co2e_kg_per_hour = 0;
  double co2e_t_per_year = 0;
  std::optional<bool> meets_latency_bound;  // when both a bound and the latency are known
};

struct InferencePlan {
  InferenceRequest request;
  std::vector<InferenceFleet> fleets;
  std::size_t baseline_index = 0;
  std::vector<Comparison> comparisons;  // every other candidate against the baseline
  std::vector<std::string> notes;       // plan-wide caveats
};

// Throws InputError on a rate <= 0, a utilisation outside (0, 1], fewer than two candidates,
// a candidate without a positive throughput, a PUE below 1 or a negative grid figure.
InferencePlan PlanInference(const InferenceRequest& request,
                            std::vector<InferenceCandidate> candidates);

}  // namespace joulebench::plan
