#include "exporter/exposition_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace joulebench::testing {
namespace {

// Splits "name{a="x",b="y"} 12.5" into name, labels and value; false for comments and blanks.
bool ParseLine(const std::string& line, std::string& name, LabelPairs& labels, double& value) {
  if (line.empty() || line[0] == '#') return false;
  labels.clear();
  std::size_t at = line.find_first_of("{ ");
  if (at == std::string::npos) return false;
  name = line.substr(0, at);
  if (line[at] == '{') {
    ++at;
    while (at < line.size() && line[at] != '}') {
      const std::size_t eq = line.find('=', at);
      if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
      std::string key = line.substr(at, eq - at);
      std::string text;
      std::size_t i = eq + 2;
      for (; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          text += line[i] == 'n' ? '\n' : line[i];
        } else {
          text += line[i];
        }
      }
      labels.emplace_back(std::move(key), std::move(text));
      at = i + 1;
      if (at < line.size() && line[at] == ',') ++at;
    }
    ++at;  // '}'
  }
  while (at < line.size() && line[at] == ' ') ++at;
  const std::string number = line.substr(at, line.find(' ', at) - at);
  if (number == "+Inf") {
    value = HUGE_VAL;
  } else if (number == "-Inf") {
    value = -HUGE_VAL;
  } else {
    char* end = nullptr;
    value = std::strtod(number.c_str(), &end);
    if (end == number.c_str()) return false;
  }
  return true;
}

bool HasAll(const LabelPairs& have, const LabelPairs& want) {
  for (const auto& w : want) {
    bool found = false;
    for (const auto& h : have) found = found || h == w;
    if (!found) return false;
  }
  return true;
}

}  // namespace

std::optional<double> SampleValue(const std::string& exposition, const std::string& name,
                                  const LabelPairs& labels) {
  std::istringstream in(exposition);
  std::string line;
  std::optional<double> found;
  std::string line_name;
  LabelPairs line_labels;
  double value = 0;
  while (std::getline(in, line)) {
    if (!ParseLine(line, line_name, line_labels, value)) continue;
    if (line_name != name || !HasAll(line_labels, labels)) continue;
    EXPECT_FALSE(found) << "several samples of " << name << " match: " << line;
    found = value;
  }
  return found;
}

std::size_t SampleCount(const std::string& exposition, const std::string& name) {
  std::istringstream in(exposition);
  std::string line;
  std::size_t count = 0;
  std::string line_name;
  LabelPairs line_labels;
  double value = 0;
  while (std::getline(in, line)) {
    if (ParseLine(line, line_name, line_labels, value) && line_name == name) ++count;
  }
  return count;
}

}  // namespace joulebench::testing
