#include "joulebench/plan/power_curve.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "joulebench/error.h"

namespace joulebench::plan {

std::string_view CurveKindName(CurveKind kind) {
  switch (kind) {
    case CurveKind::kMeasuredRun: return "measured run";
    case CurveKind::kCatalog: return "catalog";
    case CurveKind::kPeakOnly: return "peak power only";
  }
  return "unknown";
}

PowerCurve PowerCurve::FromPoints(std::vector<Point> points, CurveKind kind,
                                  std::string provenance) {
  if (points.empty()) {
    throw InputError(fmt::format("power curve ({}): no points", provenance));
  }
  for (const auto& p : points) {
    if (!std::isfinite(p.load_fraction) || p.load_fraction < 0 || p.load_fraction > 1) {
      throw InputError(fmt::format("power curve ({}): load {} is outside 0..1", provenance,
                                   p.load_fraction));
    }
    if (!std::isfinite(p.watts) || p.watts < 0) {
      throw InputError(fmt::format("power curve ({}): power {} W at load {} is not a "
                                   "non-negative number",
                                   provenance, p.watts, p.load_fraction));
    }
  }
  std::stable_sort(points.begin(), points.end(),
                   [](const Point& a, const Point& b) { return a.load_fraction < b.load_fraction; });
  // Equal loads (repeated measurements) are averaged into one point.
  std::vector<Point> merged;
  std::vector<int> weights;
  for (const auto& p : points) {
    if (!merged.empty() && merged.back().load_fraction == p.load_fraction) {
      const int w = weights.back();
      merged.back().watts = (merged.back().watts * w + p.watts) / (w + 1);
      ++weights.back();
    } else {
      merged.push_back(p);
      weights.push_back(1);
    }
  }
  // Pool adjacent violators: blocks of (mean watts, weight, first index).
  struct Block {
    double watts;
    double weight;
    std::size_t count;
  };
  std::vector<Block> blocks;
  bool adjusted = false;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    blocks.push_back(Block{merged[i].watts, static_cast<double>(weights[i]), 1});
    while (blocks.size() > 1 && blocks[blocks.size() - 2].watts > blocks.back().watts) {
      adjusted = true;
      Block top = blocks.back();
      blocks.pop_back();
      Block& below = blocks.back();
      below.watts = (below.watts * below.weight + top.watts * top.weight) /
                    (below.weight + top.weight);
      below.weight += top.weight;
      below.count += top.count;
    }
  }
  std::size_t index = 0;
  for (const auto& block : blocks) {
    for (std::size_t k = 0; k < block.count; ++k) merged[index++].watts = block.watts;
  }
  PowerCurve curve;
  curve.points_ = std::move(merged);
  curve.kind_ = kind;
  curve.provenance_ = std::move(provenance);
  curve.adjusted_ = adjusted;
  return curve;
}

PowerCurve PowerCurve::PeakOnly(double watts, std::string provenance) {
  if (!std::isfinite(watts) || watts <= 0) {
    throw InputError(fmt::format("power ({}): {} W must be greater than zero", provenance, watts));
  }
  PowerCurve curve;
  curve.points_ = {Point{1.0, watts}};
  curve.kind_ = CurveKind::kPeakOnly;
  curve.provenance_ = std::move(provenance);
  return curve;
}

double PowerCurve::WattsAt(double load_fraction) const {
  const double load = std::clamp(load_fraction, 0.0, 1.0);
  if (load <= points_.front().load_fraction) return points_.front().watts;
  if (load >= points_.back().load_fraction) return points_.back().watts;
  auto upper = std::lower_bound(
      points_.begin(), points_.end(), load,
      [](const Point& p, double value) { return p.load_fraction < value; });
  const Point& b = *upper;
  const Point& a = *(upper - 1);
  const double t = (load - a.load_fraction) / (b.load_fraction - a.load_fraction);
  return a.watts + t * (b.watts - a.watts);
}

}  // namespace joulebench::plan
