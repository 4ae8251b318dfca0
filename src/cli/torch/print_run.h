// Prints a run record of `infer` or `train`: JSON (run::ToJson) or a terminal summary.
#pragma once

#include "joulebench/run/run_record.h"

namespace joulebench::cli {

void PrintRunRecord(const run::RunRecord& record, bool json);

}  // namespace joulebench::cli
