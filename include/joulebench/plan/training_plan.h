// Training projections: how long a fixed cluster of each candidate takes to process a number of
// sequences, with what energy, cost and CO2e, and how the candidates compare.
//
//   time    = sequences / (instances x sequences per second per instance x scaling efficiency)
//   energy  = instances x training power per instance x time   (machine energy; facility: x PUE)
//   cost    = instances x price per hour x time
//   CO2e    = energy x PUE x grid intensity
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "joulebench/plan/carbon_data.h"
#include "joulebench/plan/comparison.h"
#include "joulebench/plan/sourced.h"

namespace joulebench::plan {

struct TrainingCandidate {
  std::string name;
  std::string machine_type;
  std::string origin;
  Sourced sequences_per_s;  // one instance, steady state (> 0)
  Sourced watts;            // one instance while training (> 0)
  std::optional<Sourced> price_usd_per_hour;
  std::string price_missing_reason;
  std::vector<std::string> notes;
  // Measured by the multi-node train run the candidate comes from (train --mpi on several
  // nodes, against its first node alone); absent otherwise.
  std::optional<Sourced> measured_scaling_efficiency;
};

struct TrainingRequest {
  double total_sequences = 0;  // e.g. 450e6 for BERT-Large pretraining
  int instances = 0;           // per candidate (the study: 16)
  // Fraction of linear scaling the cluster achieves (0, 1]; default 1.0 (stated as such), or
  // measured with ScalingEfficiency() from runs at two sizes.
  Sourced scaling_efficiency{1.0, "default: 1.0 (linear scaling assumed)"};
  CarbonInputs carbon;
  std::string baseline;  // 1x reference; "" = the last candidate
};

struct TrainingRun {
  TrainingCandidate candidate;
  double cluster_sequences_per_s = 0;
  double sequences_per_hour_per_instance = 0;
  double time_s = 0;
  double cluster_watts = 0;
  double energy_kwh = 0;           // machine energy
  double facility_energy_kwh = 0;  // x PUE
  std::optional<double> cost_usd;
  double co2e_kg = 0;
};

struct TrainingPlan {
  TrainingRequest request;
  std::vector<TrainingRun> runs;
  std::size_t baseline_index = 0;
  std::vector<Comparison> comparisons;
  std::vector<std::string> notes;
};

// Throws InputError on sequences or instances <= 0, efficiency outside (0, 1], fewer than two
// candidates, a candidate without positive throughput or power, PUE below 1.
TrainingPlan PlanTraining(const TrainingRequest& request,
                          std::vector<TrainingCandidate> candidates);

// Scaling efficiency measured from two cluster sizes: per-instance throughput at the larger
// size over per-instance throughput at the smaller one. Throughputs are of the whole cluster.
// Throws InputError when sizes are equal or not positive, or a throughput is not positive.
double ScalingEfficiency(int instances_a, double throughput_a_per_s, int instances_b,
                         double throughput_b_per_s);

}  // namespace joulebench::plan
