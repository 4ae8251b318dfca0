// A planning input with where it comes from, so every number in a plan can be traced.
#pragma once

#include <string>

namespace joulebench::plan {

struct Sourced {
  double value = 0;
  // Starts with the kind of source: "given: ...", "catalog: ...", "measured run: ...",
  // "default: ...", then says which file, row or run id and its own source.
  std::string provenance;
};

}  // namespace joulebench::plan
