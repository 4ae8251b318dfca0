// A `tune` run for people: the probes as a terminal table (with the chosen configuration, the
// default's figures and their ratio), and the HTML report's tuning section (the Pareto front of
// throughput against energy per unit, and every probe with its accuracy next to its energy).
#pragma once

#include <string>
#include <vector>

#include "joulebench/run/run_record.h"

namespace joulebench::report {

// The terminal summary of a tune run: skipped knobs and why, accuracy of bf16 / int8 against
// fp32, one line per probe, the chosen configuration (as infer / train flags), the default's
// figures at the same rung and the ratio. "" for a run without tune probes.
std::string FormatTuneSummary(const run::RunRecord& record);

// The HTML section for the tune runs among `runs` (figure ids chart-tune-pareto-<run id>,
// tables table.tune-probes); "" when none is a tune run.
std::string RenderTuneSection(const std::vector<run::RunRecord>& runs);

}  // namespace joulebench::report
