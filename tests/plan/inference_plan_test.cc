#include "joulebench/plan/inference_plan.h"

#include <gtest/gtest.h>

#include <cmath>

#include "joulebench/error.h"

namespace joulebench::plan {
namespace {

CarbonInputs Carbon(double grid = 400, double pue = 1.2) {
  return CarbonInputs{"test-1", Sourced{grid, "given"}, Sourced{pue, "given"}};
}

InferenceCandidate Candidate(std::string name, double throughput, PowerCurve power,
                             std::optional<double> price) {
  InferenceCandidate c;
  c.name = std::move(name);
  c.throughput_per_s = Sourced{throughput, "given"};
  c.power = std::move(power);
  if (price) c.price_usd_per_hour = Sourced{*price, "given"};
  return c;
}

InferenceRequest Request(double rate_per_s, double utilisation = 1.0) {
  InferenceRequest r;
  r.rate_per_s = rate_per_s;
  r.target_utilisation = utilisation;
  r.carbon = Carbon();
  return r;
}

TEST(PlanInference, SizesTheFleetAndItsLoad) {
  const auto plan =
      PlanInference(Request(100), {Candidate("a", 30, PowerCurve::PeakOnly(50, "g"), 1.0),
                                   Candidate("b", 10, PowerCurve::PeakOnly(20, "g"), 0.5)});
  ASSERT_EQ(plan.fleets.size(), 2u);
  EXPECT_EQ(plan.fleets[0].instances, 4);  // ceil(100 / 30)
  EXPECT_NEAR(plan.fleets[0].load_fraction, 100.0 / 120.0, 1e-12);
  EXPECT_EQ(plan.fleets[1].instances, 10);  // an exact multiple needs no extra instance
  EXPECT_DOUBLE_EQ(plan.fleets[1].load_fraction, 1.0);
}

TEST(PlanInference, AFleetOfMoreThanABillionInstancesIsAnInputError) {
  // 1e-9/s per instance for 100/s needed 1e11 instances, converted to int: undefined
  // behaviour.
  try {
    PlanInference(Request(100), {Candidate("slow", 1e-9, PowerCurve::PeakOnly(50, "g"), 1.0),
                                 Candidate("b", 10, PowerCurve::PeakOnly(20, "g"), 0.5)});
    FAIL() << "a fleet of 1e11 instances was planned";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("candidate slow"), std::string::npos) << e.what();
  }
  const auto plan =
      PlanInference(Request(1e9), {Candidate("a", 1, PowerCurve::PeakOnly(50, "g"), 1.0),
                                   Candidate("b", 10, PowerCurve::PeakOnly(20, "g"), 0.5)});
  EXPECT_EQ(plan.fleets[0].instances, 1000000000);
}

TEST(PlanInference, TargetUtilisationLeavesHeadroom) {
  const auto plan =
      PlanInference(Request(100, 0.7), {Candidate("a", 10, PowerCurve::PeakOnly(50, "g"), 1.0),
                                        Candidate("b", 10, PowerCurve::PeakOnly(50, "g"), 1.0)});
  EXPECT_EQ(plan.fleets[0].instances, 15);  // ceil(100 / 7)
  EXPECT_NEAR(plan.fleets[0].load_fraction, 100.0 / 150.0, 1e-12);
}

TEST(PlanInference, CostsTheFleetAtItsRealLoadOnTheCurve) {
  const PowerCurve curve =
      PowerCurve::FromPoints({{0, 100}, {1, 200}}, CurveKind::kMeasuredRun, "run");
  const auto plan = PlanInference(
      Request(50),
      {Candidate("a", 80, curve, 2.0), Candidate("b", 100, PowerCurve::PeakOnly(300, "g"), 3.0)});
  const auto& a = plan.fleets[0];
  EXPECT_EQ(a.instances, 1);
  EXPECT_NEAR(a.watts_per_instance, 100 + 100 * 50.0 / 80.0, 1e-9);
  EXPECT_NEAR(a.energy_kwh_per_hour, a.fleet_watts / 1000, 1e-12);
  EXPECT_NEAR(a.energy_kwh_per_day, 24 * a.energy_kwh_per_hour, 1e-12);
  EXPECT_NEAR(a.energy_kwh_per_year, 8760 * a.energy_kwh_per_hour, 1e-9);
  EXPECT_NEAR(a.joules_per_inference, a.fleet_watts / 50, 1e-12);
  // CO2e = energy x PUE x grid.
  EXPECT_NEAR(a.co2e_kg_per_hour, a.energy_kwh_per_hour * 1.2 * 400 / 1000, 1e-12);
  EXPECT_NEAR(a.co2e_t_per_year, a.co2e_kg_per_hour * 8760 / 1000, 1e-12);
}

TEST(PlanInference, CostPerMillionInferences) {
  const auto plan = PlanInference(Request(1e6 / 3600),
                                  {Candidate("a", 54, PowerCurve::PeakOnly(60, "g"), 0.362),
                                   Candidate("b", 8.6, PowerCurve::PeakOnly(136.7, "g"), 0.752)});
  EXPECT_NEAR(*plan.fleets[0].cost_usd_per_million, 6 * 0.362, 1e-9);
  EXPECT_NEAR(*plan.fleets[1].cost_usd_per_million, 33 * 0.752, 1e-9);
}

TEST(PlanInference, ComparesAgainstTheLastCandidateByDefault) {
  const auto plan =
      PlanInference(Request(100), {Candidate("a", 50, PowerCurve::PeakOnly(50, "g"), 1.0),
                                   Candidate("b", 10, PowerCurve::PeakOnly(100, "g"), 1.0)});
  EXPECT_EQ(plan.baseline_index, 1u);
  ASSERT_EQ(plan.comparisons.size(), 1u);
  const auto& changes = plan.comparisons[0].changes;
  EXPECT_EQ(changes[0].metric, "throughput per instance");
  EXPECT_DOUBLE_EQ(changes[0].ratio, 5.0);
  EXPECT_EQ(changes[1].metric, "instances");
  EXPECT_DOUBLE_EQ(changes[1].change_percent, -80.0);  // 2 vs 10
  EXPECT_EQ(changes[2].metric, "energy");
  EXPECT_DOUBLE_EQ(changes[2].change_percent, -90.0);  // 100 W vs 1000 W
}

TEST(PlanInference, NamedBaseline) {
  auto request = Request(100);
  request.baseline = "a";
  const auto plan =
      PlanInference(request, {Candidate("a", 50, PowerCurve::PeakOnly(50, "g"), 1.0),
                              Candidate("b", 10, PowerCurve::PeakOnly(100, "g"), 1.0)});
  EXPECT_EQ(plan.baseline_index, 0u);
  EXPECT_EQ(plan.comparisons[0].candidate, "b");
  request.baseline = "zzz";
  EXPECT_THROW(PlanInference(request, {Candidate("a", 50, PowerCurve::PeakOnly(50, "g"), 1.0),
                                       Candidate("b", 10, PowerCurve::PeakOnly(100, "g"), 1.0)}),
               InputError);
}

TEST(PlanInference, LeavesCostsOutWithoutAPrice) {
  const auto plan =
      PlanInference(Request(100), {Candidate("a", 50, PowerCurve::PeakOnly(50, "g"), std::nullopt),
                                   Candidate("b", 10, PowerCurve::PeakOnly(100, "g"), 1.0)});
  EXPECT_FALSE(plan.fleets[0].cost_usd_per_hour);
  for (const auto& change : plan.comparisons[0].changes) {
    EXPECT_NE(change.metric, "cost per million inferences");
  }
}

TEST(PlanInference, FlagsACandidateOverTheLatencyBound) {
  auto request = Request(100);
  request.latency_bound_s = 0.1;
  auto slow = Candidate("slow", 50, PowerCurve::PeakOnly(50, "g"), 1.0);
  slow.latency_p99_s = Sourced{0.25, "given"};
  auto fast = Candidate("fast", 10, PowerCurve::PeakOnly(50, "g"), 1.0);
  fast.latency_p99_s = Sourced{0.05, "given"};
  const auto plan = PlanInference(request, {slow, fast});
  EXPECT_FALSE(*plan.fleets[0].meets_latency_bound);
  EXPECT_TRUE(*plan.fleets[1].meets_latency_bound);
  ASSERT_EQ(plan.notes.size(), 1u);
}

TEST(PlanInference, RejectsBadRequests) {
  const std::vector<InferenceCandidate> two{
      Candidate("a", 50, PowerCurve::PeakOnly(50, "g"), 1.0),
      Candidate("b", 10, PowerCurve::PeakOnly(100, "g"), 1.0)};
  EXPECT_THROW(PlanInference(Request(0), two), InputError);
  EXPECT_THROW(PlanInference(Request(100, 0), two), InputError);
  EXPECT_THROW(PlanInference(Request(100, 1.2), two), InputError);
  EXPECT_THROW(PlanInference(Request(100), {two[0]}), InputError);
  EXPECT_THROW(PlanInference(Request(100), {two[0], two[0]}), InputError);  // same name
  auto low_pue = Request(100);
  low_pue.carbon.pue.value = 0.9;
  EXPECT_THROW(PlanInference(low_pue, two), InputError);
}

}  // namespace
}  // namespace joulebench::plan
