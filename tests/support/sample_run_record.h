// A run record with every field set to a distinct, non-default value, and a field-by-field
// comparison, for round-trip tests (JSON, the store). Comparing field by field (not through
// ToJson) catches a field that a writer and a reader both forget.
#pragma once

#include <string>

#include "joulebench/run/run_record.h"

namespace joulebench::testing {

// `samples` timeline samples for 3 domains (a counter package, its dram child, a gauge GPU).
run::RunRecord SampleRunRecord(std::size_t samples = 50);

// EXPECTs every field of `actual` equal to `expected` (doubles exactly; NaN equals NaN).
void ExpectSameRunRecord(const run::RunRecord& expected, const run::RunRecord& actual);
void ExpectSameEnergyReport(const sampling::EnergyReport& expected,
                            const sampling::EnergyReport& actual);

}  // namespace joulebench::testing
