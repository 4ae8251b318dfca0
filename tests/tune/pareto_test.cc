#include "joulebench/tune/pareto.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace joulebench::tune {
namespace {

TEST(ParetoFront, KeepsThePointsNoOtherBeatsOnBothAxes) {
  // (throughput, J): 1 and 3 are dominated by 2 (more throughput, less energy); 4 is the
  // fastest; 0 the most frugal; 5 trades between 0 and 2.
  const std::vector<ParetoPoint> points = {{10, 1.0}, {8, 3.0},  {40, 2.0},
                                           {30, 2.5}, {60, 4.0}, {20, 1.5}};
  EXPECT_EQ(ParetoFront(points), (std::vector<std::size_t>{0, 5, 2, 4}));
}

TEST(ParetoFront, EqualThroughputKeepsOnlyTheLowerEnergy) {
  const std::vector<ParetoPoint> points = {{10, 2.0}, {10, 1.0}, {5, 1.0}};
  // 2 has the same energy as 1 at less throughput: dominated. 0 is beaten by 1.
  EXPECT_EQ(ParetoFront(points), (std::vector<std::size_t>{1}));
}

TEST(ParetoFront, OfIdenticalPointsTheFirstIsKept) {
  const std::vector<ParetoPoint> points = {{10, 1.0}, {10, 1.0}};
  EXPECT_EQ(ParetoFront(points), (std::vector<std::size_t>{0}));
}

TEST(ParetoFront, NonFinitePointsAreNeverOnTheFront) {
  const std::vector<ParetoPoint> points = {{NAN, 0.1}, {10, INFINITY}, {5, 2.0}};
  EXPECT_EQ(ParetoFront(points), (std::vector<std::size_t>{2}));
  EXPECT_TRUE(ParetoFront({}).empty());
}

}  // namespace
}  // namespace joulebench::tune
