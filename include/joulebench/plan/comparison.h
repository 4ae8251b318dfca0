// Side-by-side comparison of plan candidates in the study's form: each candidate against a
// baseline (the "1x" column), as a ratio ("6.3x") and a percentage change ("-82 %").
#pragma once

#include <string>
#include <vector>

namespace joulebench::plan {

struct Change {
  std::string metric;   // e.g. "instances", "cost per million inferences"
  std::string unit;     // of the two values, e.g. "USD"
  double candidate_value = 0;
  double baseline_value = 0;
  double ratio = 0;            // candidate / baseline; NaN when the baseline is 0
  double change_percent = 0;   // (ratio - 1) x 100; NaN when the baseline is 0
  bool shown_as_ratio = false; // the study shows throughput as "6.3x", the rest as "-82 %"
};

struct Comparison {
  std::string candidate;
  std::string baseline;
  std::vector<Change> changes;
};

Change MakeChange(std::string metric, std::string unit, double candidate_value,
                  double baseline_value, bool shown_as_ratio = false);

// Index of the baseline among `names`: the one named `baseline` (InputError listing the names
// when none is), else the last one (the study lists the comparable GPU instances, its 1x,
// last).
std::size_t BaselineIndex(const std::vector<std::string>& names, const std::string& baseline);

}  // namespace joulebench::plan
