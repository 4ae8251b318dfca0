// Power of one machine as a function of its load (fraction of its peak throughput), so that a
// fleet running below its limit is costed at the power it really draws, not at peak power.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace joulebench::plan {

// Where a curve comes from, best first. The planner always says which one it used.
enum class CurveKind {
  kMeasuredRun,  // `infer --load-levels`: mean power measured at several loads on this machine
  kCatalog,      // a published curve from the catalog (e.g. Teads idle/10/50/100 %)
  kPeakOnly,     // one power figure at peak load, applied at every load (an upper bound)
};
std::string_view CurveKindName(CurveKind kind);  // "measured run", "catalog", "peak power only"

class PowerCurve {
 public:
  struct Point {
    double load_fraction = 0;  // 0 (idle) .. 1 (peak throughput)
    double watts = 0;          // whole-machine power at that load
  };

  // Piecewise-linear through `points` (any order, at least one, load in [0, 1], watts >= 0).
  // Measured points can be noisy; the curve is made monotone (non-decreasing) by isotonic
  // regression (pool-adjacent-violators), so more load never costs less power.
  // Throws InputError naming `provenance` on bad points.
  static PowerCurve FromPoints(std::vector<Point> points, CurveKind kind, std::string provenance);
  // A flat curve: `watts` at every load (kind kPeakOnly).
  static PowerCurve PeakOnly(double watts, std::string provenance);

  // Power at `load_fraction` (clamped to [0, 1]). Between points: linear; outside the
  // measured span: the nearest end point's power (flat), which errs towards the end value.
  double WattsAt(double load_fraction) const;
  double PeakWatts() const { return WattsAt(1.0); }

  CurveKind kind() const { return kind_; }
  const std::string& provenance() const { return provenance_; }
  const std::vector<Point>& points() const { return points_; }  // monotone, sorted by load
  bool adjusted_to_monotone() const { return adjusted_; }       // true when input was not

 private:
  std::vector<Point> points_;
  CurveKind kind_ = CurveKind::kPeakOnly;
  std::string provenance_;
  bool adjusted_ = false;
};

}  // namespace joulebench::plan
