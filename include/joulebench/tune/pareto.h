// The Pareto front of throughput against energy per unit of work: the configurations no other
// one beats on both (higher or equal throughput with lower or equal energy, one of them
// strictly).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace joulebench::tune {

struct ParetoPoint {
  double throughput_per_s = 0;  // more is better
  double joules_per_unit = 0;   // less is better
};

// Indices of the non-dominated points, by ascending throughput. Points with a non-finite
// coordinate are never on the front; of identical points the first is kept.
std::vector<std::size_t> ParetoFront(std::span<const ParetoPoint> points);

}  // namespace joulebench::tune
