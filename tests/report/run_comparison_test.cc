// compare: each run's energy comes from its "measurement" report, else its own last window;
// never from the idle baseline or a tune run's default configuration.
#include "joulebench/report/run_comparison.h"

#include <gtest/gtest.h>

#include "support/sample_run_record.h"

namespace joulebench::report {
namespace {

const ComparedQuantity* Quantity(const RunComparison& c, const std::string& name) {
  for (const auto& q : c.quantities) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

TEST(CompareRuns, ARunWithOnlyItsBaselineHasNoEnergyAndNoPower) {
  run::RunRecord measured = testing::SampleRunRecord(1);
  run::RunRecord baseline_only = testing::SampleRunRecord(1);
  baseline_only.id = "2";
  ASSERT_EQ(baseline_only.energy.front().name, "baseline");
  baseline_only.energy.resize(1);
  baseline_only.metrics.clear();
  const RunComparison c = CompareRuns({measured, baseline_only});
  const ComparedQuantity* energy = Quantity(c, "energy (measurement window)");
  ASSERT_NE(energy, nullptr);
  ASSERT_EQ(energy->values.size(), 2u);
  EXPECT_TRUE(energy->values[0].value.has_value());
  EXPECT_FALSE(energy->values[1].value.has_value()) << *energy->values[1].value;
  const ComparedQuantity* power = Quantity(c, "mean power");
  ASSERT_NE(power, nullptr);
  EXPECT_FALSE(power->values[1].value.has_value()) << *power->values[1].value;
}

TEST(CompareRuns, WithoutAMeasurementReportTheRunsOwnLastWindowCounts) {
  run::RunRecord a = testing::SampleRunRecord(1);
  run::RunRecord b = testing::SampleRunRecord(1);
  b.id = "2";
  ASSERT_EQ(b.energy.size(), 2u);
  b.energy[1].name = "epoch 1";  // a Python session's window
  b.energy[1].total_joules = 123;
  b.energy.push_back(b.energy[0]);  // and a default configuration's report after it
  b.energy.back().name = "default configuration";
  b.energy.back().total_joules = 999;
  const RunComparison c = CompareRuns({a, b});
  const ComparedQuantity* energy = Quantity(c, "energy (measurement window)");
  ASSERT_NE(energy, nullptr);
  EXPECT_EQ(energy->values[1].value, 123);
}

}  // namespace
}  // namespace joulebench::report
