// The seam between the run store and the planner: lets `run=ID` candidates (and
// --scaling-from / --predict-from run ids) be answered from a run database.
#pragma once

#include <optional>
#include <string>

namespace joulebench::store {

// Registers (plan::RegisterRunLookup) a lookup of stored runs in `db` (a --db path), else in
// DatabasePath(). Without `db`, nothing is registered when storing is switched off
// (StoringEnabled(false) is false, e.g. $JOULEBENCH_NO_STORE=1). Ids are looked up when a plan
// needs them: a missing database is then an InputError saying no runs are stored yet.
void RegisterPlanRunLookup(const std::optional<std::string>& db);

}  // namespace joulebench::store
