// Stored runs as text for the terminal, JSON and CSV (`joulebench runs ...`).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/run/run_record.h"
#include "joulebench/store/run_store.h"

namespace joulebench::report {

// One line per run under a header: id, kind, start (UTC), duration, status, verdict,
// workload, throughput, mean power, name. "No runs stored" when empty.
std::string FormatRunList(const std::vector<store::RunSummary>& runs);
// [{"id", "kind", "name", "start_unix_s", "start_time", "end_unix_s", "status", "verdict",
//   "workload", "samples", "throughput": {metric} | null, "mean_watts": number | null}]
nlohmann::json RunListJson(const std::vector<store::RunSummary>& runs);

// Everything about one run that fits a terminal: header, machine, configuration, energy per
// window and domain with provenance, metrics with provenance, load results, the timeline's
// size and gaps, warnings. timeline_samples: the stored count, when `record` was loaded with
// a decimated timeline (store::LoadOptions); else the record's own count is shown.
std::string FormatRunDetails(const run::RunRecord& record,
                             std::optional<std::size_t> timeline_samples = std::nullopt);

// The run as CSV tables separated by "# <table>" lines: run, metrics, energy, windows,
// power_curve, peak_probes, latency_histogram, timeline_gaps, timeline (docs/json-schema.md).
std::string RunCsv(const run::RunRecord& record);

// RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled.
std::string CsvField(std::string_view text);

}  // namespace joulebench::report
