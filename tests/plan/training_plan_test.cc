#include "joulebench/plan/training_plan.h"

#include <gtest/gtest.h>

#include "joulebench/error.h"

namespace joulebench::plan {
namespace {

TrainingCandidate Candidate(std::string name, double sequences_per_s, double watts,
                            std::optional<double> price) {
  TrainingCandidate c;
  c.name = std::move(name);
  c.sequences_per_s = Sourced{sequences_per_s, "given"};
  c.watts = Sourced{watts, "given"};
  if (price) c.price_usd_per_hour = Sourced{*price, "given"};
  return c;
}

TrainingRequest Request(double efficiency = 1.0) {
  TrainingRequest r;
  r.total_sequences = 3.6e6;
  r.instances = 10;
  r.scaling_efficiency = Sourced{efficiency, "given"};
  r.carbon = CarbonInputs{"x", Sourced{500, "given"}, Sourced{1.5, "given"}};
  return r;
}

TEST(PlanTraining, TimeEnergyCostAndCarbon) {
  const auto plan = PlanTraining(Request(), {Candidate("a", 100, 1000, 10.0),
                                             Candidate("b", 50, 800, 5.0)});
  const auto& a = plan.runs[0];
  EXPECT_DOUBLE_EQ(a.time_s, 3600);                 // 3.6M / (10 x 100/s)
  EXPECT_DOUBLE_EQ(a.energy_kwh, 10.0);             // 10 x 1 kW x 1 h
  EXPECT_DOUBLE_EQ(a.facility_energy_kwh, 15.0);    // x PUE 1.5
  EXPECT_DOUBLE_EQ(*a.cost_usd, 100.0);             // 10 x $10/h x 1 h
  EXPECT_DOUBLE_EQ(a.co2e_kg, 10.0 * 1.5 * 500 / 1000);
  EXPECT_DOUBLE_EQ(a.sequences_per_hour_per_instance, 360000);
  const auto& changes = plan.comparisons[0].changes;
  EXPECT_DOUBLE_EQ(changes[0].ratio, 2.0);                // throughput
  EXPECT_DOUBLE_EQ(changes[1].change_percent, -50.0);     // time: 1 h vs 2 h
  EXPECT_NEAR(changes[2].change_percent, -37.5, 1e-9);    // energy: 10 vs 16 kWh
  EXPECT_DOUBLE_EQ(changes[3].change_percent, 0.0);       // cost: $100 vs $100
}

TEST(PlanTraining, ScalingEfficiencyStretchesTimeAndEnergy) {
  const auto plan = PlanTraining(Request(0.8), {Candidate("a", 100, 1000, 10.0),
                                                Candidate("b", 50, 800, 5.0)});
  EXPECT_DOUBLE_EQ(plan.runs[0].time_s, 4500);
  EXPECT_DOUBLE_EQ(plan.runs[0].energy_kwh, 12.5);
}

TEST(PlanTraining, ScalingEfficiencyFromTwoClusterSizes) {
  EXPECT_DOUBLE_EQ(ScalingEfficiency(1, 100, 16, 1440), 0.9);
  EXPECT_DOUBLE_EQ(ScalingEfficiency(16, 1440, 1, 100), 0.9);  // either order
  EXPECT_THROW(ScalingEfficiency(4, 100, 4, 100), InputError);
  EXPECT_THROW(ScalingEfficiency(1, 0, 2, 100), InputError);
}

TEST(PlanTraining, RejectsBadRequests) {
  const std::vector<TrainingCandidate> two{Candidate("a", 100, 1000, 10.0),
                                           Candidate("b", 50, 800, 5.0)};
  auto r = Request();
  r.instances = 0;
  EXPECT_THROW(PlanTraining(r, two), InputError);
  EXPECT_THROW(PlanTraining(Request(1.1), two), InputError);
  EXPECT_THROW(PlanTraining(Request(0), two), InputError);
  EXPECT_THROW(PlanTraining(Request(), {two[0], Candidate("c", 10, 0, 1.0)}), InputError);
  EXPECT_THROW(PlanTraining(Request(), {two[0]}), InputError);
}

}  // namespace
}  // namespace joulebench::plan
