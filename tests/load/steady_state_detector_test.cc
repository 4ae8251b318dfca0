#include "joulebench/load/steady_state_detector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace joulebench::load {
namespace {

const double kNoPower = std::nan("");

SteadyStateOptions Options() { return SteadyStateOptions{5, 0.05, 0.02, true}; }

// Feeds series until steady; returns the window index that made it steady, or -1.
template <typename F>
int FirstSteadyWindow(SteadyStateDetector& d, int windows, F&& value_at) {
  for (int i = 0; i < windows; ++i) {
    const auto [throughput, watts] = value_at(i);
    if (d.AddWindow(throughput, watts)) return i;
  }
  return -1;
}

TEST(SteadyStateDetectorTest, RampThenPlateauIsSteadyKWindowsIntoThePlateau) {
  SteadyStateDetector d(Options());
  // Throughput ramps 0..1000 over 10 windows, power 50..150 W, then both hold.
  const int at = FirstSteadyWindow(d, 40, [](int i) {
    const double f = std::min(1.0, i / 10.0);
    return std::pair{1000 * f, 50 + 100 * f};
  });
  EXPECT_EQ(at, 14);  // windows 10..14 are the first five on the plateau
  EXPECT_EQ(d.steady_at_window(), 14u);
  EXPECT_NE(d.Criterion(1.0).find("throughput and power"), std::string::npos);
}

TEST(SteadyStateDetectorTest, NoisyPlateauWithinTheBandIsSteady) {
  SteadyStateDetector d(Options());
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> noise(-0.02, 0.02);
  const int at = FirstSteadyWindow(d, 60, [&](int) {
    return std::pair{1000 * (1 + noise(rng)), 200 * (1 + noise(rng))};
  });
  EXPECT_GE(at, 4);
  EXPECT_LE(at, 20);
}

TEST(SteadyStateDetectorTest, SlowDriftInsideTheBandIsNotSteady) {
  SteadyStateDetector d(Options());
  // Power creeps up 1 % per window (a heating chip): every 5 windows stay within +-5 % of
  // their mean, but the half-to-half change is 3 %.
  const int at = FirstSteadyWindow(d, 60, [](int i) {
    return std::pair{1000.0, 100.0 * std::pow(1.01, i)};
  });
  EXPECT_EQ(at, -1);
  EXPECT_NE(d.last_reason().find("power drifts"), std::string::npos) << d.last_reason();
}

TEST(SteadyStateDetectorTest, SlowThroughputDriftWithoutPowerIsNotSteady) {
  SteadyStateDetector d(Options());
  const int at = FirstSteadyWindow(d, 60, [](int i) {
    return std::pair{1000.0 - 10.0 * i, kNoPower};
  });
  EXPECT_EQ(at, -1);
  EXPECT_NE(d.Criterion(1.0).find("no power signal"), std::string::npos);
}

TEST(SteadyStateDetectorTest, StepChangeRestartsTheWait) {
  SteadyStateDetector d(Options());
  // Throughput flat from the start, power steps from 100 to 160 W at window 3: the run is
  // steady only once five windows follow the step.
  const int at = FirstSteadyWindow(d, 30, [](int i) {
    return std::pair{500.0, i < 3 ? 100.0 : 160.0};
  });
  EXPECT_EQ(at, 7);
}

TEST(SteadyStateDetectorTest, StepAfterSteadyStateKeepsTheFirstDecision) {
  SteadyStateDetector d(Options());
  const int at = FirstSteadyWindow(d, 10, [](int i) {
    return std::pair{500.0, i < 8 ? 100.0 : 300.0};
  });
  EXPECT_EQ(at, 4);
  EXPECT_TRUE(d.AddWindow(500, 300));
  EXPECT_EQ(d.steady_at_window(), 4u);
}

TEST(SteadyStateDetectorTest, IdleZeroThroughputWithSteadyPowerIsSteady) {
  SteadyStateDetector d(SteadyStateOptions{5, 0.05, 0.02, false});
  const int at = FirstSteadyWindow(d, 10, [](int) { return std::pair{0.0, 42.0}; });
  EXPECT_EQ(at, 4);
  EXPECT_EQ(d.Criterion(1.0).rfind("power:", 0), 0u);
}

TEST(SteadyStateDetectorTest, FewQueriesPerWindowWidenTheThroughputBandToCountingNoise) {
  // 100 completions per 0.1 s window: Poisson noise alone is +-10 % (1 sigma).
  const auto series = [](int i) { return std::pair{1000.0 * (i % 2 ? 1.12 : 0.9), kNoPower}; };
  SteadyStateDetector strict(Options());
  EXPECT_EQ(FirstSteadyWindow(strict, 20, series), -1);
  SteadyStateOptions counted = Options();
  counted.window_s = 0.1;
  SteadyStateDetector widened(counted);
  EXPECT_EQ(FirstSteadyWindow(widened, 20, series), 4);
  // A real drift is still caught: the allowance is 3 sigma, not unlimited.
  SteadyStateDetector drifting(counted);
  EXPECT_EQ(FirstSteadyWindow(drifting, 20,
                              [](int i) {
                                return std::pair{1000.0 * std::pow(1.1, i), kNoPower};
                              }),
            -1);
}

TEST(SteadyStateDetectorTest, RejectsAWindowCountBelowTwo) {
  EXPECT_THROW(SteadyStateDetector(SteadyStateOptions{1, 0.05, 0.02, true}), std::exception);
}

}  // namespace
}  // namespace joulebench::load
