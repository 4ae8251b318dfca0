// Presentation of energy reports, timelines and probe results: the terminal table, the JSON
// shape (documented in docs/user-guide-energy.md) and the timeline CSV. Shared by every
// command that measures energy.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::report {

// A terminal table: one line per domain with energy, mean and peak power, samples and the
// provenance on the same line; the total says which domains it adds; the attributable
// energy when a baseline was measured; then the warnings.
std::string FormatEnergyReportTable(const sampling::EnergyReport& report);

// The report as JSON: name, begin_s, end_s, duration_s, total_joules, mean_watts,
// total_attributable_joules (when a baseline exists), total_domains, total_provenance,
// warnings, and domains[] each with name, component, signal, provenance {kind, by},
// joules, mean_watts, peak_watts, samples, in_total, parent, baseline_watts and
// attributable_joules (when a baseline exists).
nlohmann::json EnergyReportToJson(const sampling::EnergyReport& report);

// "measured", "modelled", or "measured and modelled": what the total is made of.
std::string TotalProvenance(const sampling::EnergyReport& report);

// The timeline as CSV: time_s, then per domain its cumulative joules ("<name> J") and the
// mean power since the previous sample ("<name> W"). Header first; one row per sample.
void WriteTimelineCsv(const sampling::Timeline& timeline, std::ostream& out);

// probe's outputs: every source tried, its status, domains or reason and fix.
std::string FormatProbeTable(const std::vector<energy::ProbeResult>& probes);
nlohmann::json ProbeResultsToJson(const std::vector<energy::ProbeResult>& probes);
nlohmann::json DomainInfoToJson(const energy::DomainInfo& domain);

}  // namespace joulebench::report
