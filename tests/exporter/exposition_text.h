// Reads samples out of a Prometheus text exposition (what GET /metrics returns), for tests:
// a sample is found by its metric name and a subset of its labels, never by its position.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace joulebench::testing {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// The value of the one sample of `name` whose labels include every pair of `labels`;
// nullopt when there is none. Fails the test when several samples match.
std::optional<double> SampleValue(const std::string& exposition, const std::string& name,
                                  const LabelPairs& labels = {});

// Number of samples of `name` (label sets).
std::size_t SampleCount(const std::string& exposition, const std::string& name);

}  // namespace joulebench::testing
