#include "joulebench/tune/pareto.h"

#include <algorithm>
#include <cmath>

namespace joulebench::tune {

std::vector<std::size_t> ParetoFront(std::span<const ParetoPoint> points) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (std::isfinite(points[i].throughput_per_s) && std::isfinite(points[i].joules_per_unit)) {
      order.push_back(i);
    }
  }
  // Highest throughput first, then lowest energy, then the earlier point: a point is on the
  // front when its energy is below that of every point before it in this order.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (points[a].throughput_per_s != points[b].throughput_per_s) {
      return points[a].throughput_per_s > points[b].throughput_per_s;
    }
    return points[a].joules_per_unit < points[b].joules_per_unit;
  });
  std::vector<std::size_t> front;
  double best_joules = INFINITY;
  for (std::size_t i : order) {
    if (points[i].joules_per_unit < best_joules) {
      front.push_back(i);
      best_joules = points[i].joules_per_unit;
    }
  }
  std::reverse(front.begin(), front.end());
  return front;
}

}  // namespace joulebench::tune
