// Planning candidates as users write them, and how they become plan inputs.
//
// A spec is a list of key=value pairs: `--candidate name=inf1.2xlarge,throughput=54/s,power=60W`
// on the command line, or a [[infer.candidate]] / [[train.candidate]] table in a plan file.
// Keys (docs/planner.md, "Candidates"):
//   name        label; also the machine type when `type` is absent and the catalog knows it
//   type        catalog machine type (prices, published power curve)
//   run         a run's JSON file or a stored run id (throughput, power, power curve, latency)
//   throughput  peak per instance with a time unit: 54/s, 194400/h      (given)
//   power       per instance: 60W, 6.5kW                                 (given; flat curve)
//   price       US dollars per hour per instance: 0.362/h or $0.362/h  (given)
//   latency     p99 at peak (inference): 80ms                            (given)
//   source      where the given figures come from (shown as their provenance);
//               throughput_source, power_source, price_source, latency_source for one figure
// Given figures win over a run's, a run's over the catalog's; a catalog machine without a
// published curve gets a modelled one (modelled_power.h) where all its parts are known.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulebench/energy/ccf_coefficients.h"
#include "joulebench/plan/catalog.h"
#include "joulebench/plan/inference_plan.h"
#include "joulebench/plan/run_resolver.h"
#include "joulebench/plan/training_plan.h"

namespace joulebench::plan {

struct CandidateSpec {
  std::vector<std::pair<std::string, std::string>> fields;  // key, value (in the order given)
  std::string origin;  // e.g. "--candidate #2", "study.toml [[infer.candidate]] #1"

  const std::string* Find(std::string_view key) const;
};

// Parses "k=v,k=v". Throws InputError (naming `origin`) on an unknown or repeated key, a pair
// without '=' or an empty value.
CandidateSpec ParseCandidateSpec(std::string_view text, std::string origin);
// The same checks for fields that come already split (a plan file's table).
CandidateSpec CandidateSpecFromFields(std::vector<std::pair<std::string, std::string>> fields,
                                      std::string origin);

// What a candidate is resolved against.
struct CandidateContext {
  const Catalog* catalog = nullptr;
  const RunResolver* runs = nullptr;
  // This machine (the one the runs were measured on), for run candidates without type or price.
  std::optional<std::string> this_machine_type;           // --instance-type
  std::optional<double> this_machine_price_usd_per_hour;  // --price
  // Coefficients for a modelled curve when a catalog machine has no published one (the last
  // resort for power); nullptr = no modelling.
  const energy::CcfCoefficients* ccf = nullptr;
};

// Throw InputError naming the candidate on: an unknown machine type (with the closest names),
// a missing throughput or power (saying how to give it), unparseable figures.
InferenceCandidate ResolveInferenceCandidate(const CandidateSpec& spec,
                                             const CandidateContext& context);
TrainingCandidate ResolveTrainingCandidate(const CandidateSpec& spec,
                                           const CandidateContext& context);

// The sequences per second a train run measured (metric sequences_per_s, else throughput),
// for the whole cluster it ran on. Throws InputError naming the run when it has neither.
Sourced TrainingThroughputOfRun(const ResolvedRun& run);

// The scaling efficiency a multi-node train run measured (metric scaling_efficiency:
// throughput on its N nodes / (N x its first node's alone)), with the run named in the
// provenance, and a note when `instances` differs from N. Throws InputError naming the run
// when it is not a train run or measured none (one node, or --no-scaling-reference).
Sourced ScalingEfficiencyOfRun(const ResolvedRun& run, int instances,
                               std::vector<std::string>* notes = nullptr);

// The measured scaling efficiency the candidates bring (from their multi-node runs), to
// replace the default 1.0: nullopt when none brings one; InputError when several disagree
// (the user then chooses with --from-run or --scaling-efficiency).
std::optional<Sourced> CandidatesScalingEfficiency(
    const std::vector<TrainingCandidate>& candidates);

// "60W", "6.5kW", "500mW" -> watts (> 0). InputError naming `what` otherwise.
double ParsePowerWatts(std::string_view text, std::string_view what);
// "0.362/h", "$0.362/h", "8.69/d" -> US dollars per hour (> 0).
double ParsePriceUsdPerHour(std::string_view text, std::string_view what);

}  // namespace joulebench::plan
