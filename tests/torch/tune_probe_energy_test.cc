// A tune probe whose energy total is incomplete (a sensor lost or with a gap while it ran) is
// INVALID: it must never win the search for using "less" energy.
#include <gtest/gtest.h>

#include "workloads/torch/tune_record.h"

namespace joulebench::workloads {
namespace {

run::RunRecord ProbeRecord(bool complete) {
  run::RunRecord r;
  sampling::EnergyReport baseline;
  baseline.name = "baseline";
  baseline.total_complete = false;  // the baseline's completeness does not matter here
  r.energy.push_back(baseline);
  sampling::EnergyReport m;
  m.name = "measurement";
  m.total_complete = complete;
  if (!complete) m.excluded_domains = {"nvml/gpu0"};
  r.energy.push_back(m);
  return r;
}

TEST(TuneProbeEnergy, IncompleteMeasurementMakesTheProbeInvalidAndSaysWhy) {
  run::TuneProbe probe;
  probe.verdict = "VALID";
  InvalidateIfEnergyIncomplete(ProbeRecord(false), probe);
  EXPECT_EQ(probe.verdict, "INVALID");
  ASSERT_EQ(probe.reasons.size(), 1u);
  EXPECT_NE(probe.reasons[0].find("nvml/gpu0"), std::string::npos) << probe.reasons[0];
}

TEST(TuneProbeEnergy, CompleteMeasurementKeepsTheVerdict) {
  run::TuneProbe probe;
  probe.verdict = "VALID";
  InvalidateIfEnergyIncomplete(ProbeRecord(true), probe);
  EXPECT_EQ(probe.verdict, "VALID");
  EXPECT_TRUE(probe.reasons.empty());
}

}  // namespace
}  // namespace joulebench::workloads
