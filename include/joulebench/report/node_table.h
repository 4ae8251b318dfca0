// The per-node breakdown of a multi-node run (RunRecord::nodes) on the terminal: one line per
// node (its ranks, status, energy, mean power and CPU energy) and their sum, then each rank's
// CPU time and modelled share of its node's CPU energy.
#pragma once

#include <string>

#include "joulebench/run/run_record.h"

namespace joulebench::report {

// "" when the record has no nodes.
std::string FormatNodeTable(const run::RunRecord& record);

}  // namespace joulebench::report
