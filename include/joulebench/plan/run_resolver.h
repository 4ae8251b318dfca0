// Finds the run record a planning candidate refers to (`run=REF`). A reference is a run's JSON
// output file (`infer --json > run.json`), or, once a store registers a lookup, a stored run id.
// This is the seam between the planner and the store: the planner never opens the database.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "joulebench/run/run_record.h"

namespace joulebench::plan {

struct ResolvedRun {
  run::RunRecord record;
  std::string label;  // how reports name it: "run <id> (FILE)" or "stored run <id>"
};

class RunResolver {
 public:
  virtual ~RunResolver() = default;
  // Throws InputError naming the reference when it cannot be found or read.
  virtual ResolvedRun Resolve(std::string_view reference) const = 0;
};

// Looks a stored run up by id; returns nullopt when there is no such run. Throws InputError for
// a run that cannot be used (e.g. still running).
using RunLookup = std::function<std::optional<run::RunRecord>(std::string_view id)>;

// Registers the store's lookup (once, e.g. from the store module's or CLI's setup). Later
// registrations replace earlier ones.
void RegisterRunLookup(RunLookup lookup);

// An existing file is read as RunRecord JSON; otherwise the registered lookup is asked for the
// reference as a run id. The error for neither names both possibilities.
class DefaultRunResolver : public RunResolver {
 public:
  ResolvedRun Resolve(std::string_view reference) const override;
};

// Reads a RunRecord JSON file; InputError naming the file on unreadable or malformed content.
ResolvedRun ReadRunFile(const std::string& path);

}  // namespace joulebench::plan
