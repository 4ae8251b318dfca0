#include "joulebench/plan/comparison.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "joulebench/error.h"

namespace joulebench::plan {

Change MakeChange(std::string metric, std::string unit, double candidate_value,
                  double baseline_value, bool shown_as_ratio) {
  Change c;
  c.metric = std::move(metric);
  c.unit = std::move(unit);
  c.candidate_value = candidate_value;
  c.baseline_value = baseline_value;
  if (baseline_value == 0) {
    c.ratio = std::numeric_limits<double>::quiet_NaN();
    c.change_percent = std::numeric_limits<double>::quiet_NaN();
  } else {
    c.ratio = candidate_value / baseline_value;
    c.change_percent = (c.ratio - 1.0) * 100.0;
  }
  c.shown_as_ratio = shown_as_ratio;
  return c;
}

std::size_t BaselineIndex(const std::vector<std::string>& names, const std::string& baseline) {
  if (names.empty()) throw InputError("no candidates to compare");
  if (baseline.empty()) return names.size() - 1;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == baseline) return i;
  }
  throw InputError(fmt::format("--baseline: no candidate named '{}'; candidates: {}", baseline,
                               fmt::join(names, ", ")));
}

}  // namespace joulebench::plan
