#include "joulebench/plan/power_curve.h"

#include <gtest/gtest.h>

#include "joulebench/error.h"

namespace joulebench::plan {
namespace {

// g4dn.2xlarge as published by Teads: idle 24.7 W, 10 % 49.0 W, 50 % 100.0 W, 100 % 136.7 W.
PowerCurve Teads() {
  return PowerCurve::FromPoints({{0, 24.7}, {0.1, 49.0}, {0.5, 100.0}, {1.0, 136.7}},
                                CurveKind::kCatalog, "test");
}

TEST(PowerCurve, InterpolatesLinearlyBetweenPoints) {
  const PowerCurve curve = Teads();
  EXPECT_DOUBLE_EQ(curve.WattsAt(0.5), 100.0);
  EXPECT_NEAR(curve.WattsAt(0.75), 118.35, 1e-9);
  EXPECT_NEAR(curve.WattsAt(0.3), 74.5, 1e-9);
  EXPECT_NEAR(curve.WattsAt(0.05), 36.85, 1e-9);
}

TEST(PowerCurve, ClampsLoadOutsideZeroToOne) {
  const PowerCurve curve = Teads();
  EXPECT_DOUBLE_EQ(curve.WattsAt(-0.2), 24.7);
  EXPECT_DOUBLE_EQ(curve.WattsAt(1.7), 136.7);
}

TEST(PowerCurve, HoldsTheEndValueBeyondTheMeasuredSpan) {
  const PowerCurve curve =
      PowerCurve::FromPoints({{0.25, 50}, {0.75, 90}}, CurveKind::kMeasuredRun, "run");
  EXPECT_DOUBLE_EQ(curve.WattsAt(0.1), 50);
  EXPECT_DOUBLE_EQ(curve.WattsAt(0.9), 90);
  EXPECT_DOUBLE_EQ(curve.PeakWatts(), 90);
}

TEST(PowerCurve, SortsPointsGivenInAnyOrder) {
  const PowerCurve curve =
      PowerCurve::FromPoints({{1.0, 200}, {0, 100}}, CurveKind::kMeasuredRun, "run");
  EXPECT_DOUBLE_EQ(curve.WattsAt(0.5), 150);
  EXPECT_FALSE(curve.adjusted_to_monotone());
}

TEST(PowerCurve, NoisyDipIsPooledSoMoreLoadNeverCostsLess) {
  // 75 % measured below 50 % (noise): the two are averaged to 105 W.
  const PowerCurve curve = PowerCurve::FromPoints(
      {{0, 50}, {0.25, 80}, {0.5, 110}, {0.75, 100}, {1.0, 140}}, CurveKind::kMeasuredRun, "run");
  EXPECT_TRUE(curve.adjusted_to_monotone());
  EXPECT_DOUBLE_EQ(curve.WattsAt(0.5), 105);
  EXPECT_DOUBLE_EQ(curve.WattsAt(0.75), 105);
  double previous = 0;
  for (int i = 0; i <= 100; ++i) {
    const double w = curve.WattsAt(i / 100.0);
    EXPECT_GE(w, previous);
    previous = w;
  }
}

TEST(PowerCurve, RepeatedLoadLevelsAreAveraged) {
  const PowerCurve curve =
      PowerCurve::FromPoints({{0, 10}, {1, 100}, {1, 110}}, CurveKind::kMeasuredRun, "run");
  EXPECT_DOUBLE_EQ(curve.PeakWatts(), 105);
}

TEST(PowerCurve, PeakOnlyIsFlatAndSaysSo) {
  const PowerCurve curve = PowerCurve::PeakOnly(60, "given");
  EXPECT_EQ(curve.kind(), CurveKind::kPeakOnly);
  EXPECT_DOUBLE_EQ(curve.WattsAt(0.2), 60);
  EXPECT_EQ(CurveKindName(curve.kind()), "peak power only");
}

TEST(PowerCurve, RejectsBadPoints) {
  EXPECT_THROW(PowerCurve::FromPoints({}, CurveKind::kCatalog, "x"), InputError);
  EXPECT_THROW(PowerCurve::FromPoints({{1.5, 10}}, CurveKind::kCatalog, "x"), InputError);
  EXPECT_THROW(PowerCurve::FromPoints({{0.5, -1}}, CurveKind::kCatalog, "x"), InputError);
  EXPECT_THROW(PowerCurve::PeakOnly(0, "x"), InputError);
}

}  // namespace
}  // namespace joulebench::plan
