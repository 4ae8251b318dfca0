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
// provenance on the same line; with a whole-system domain, a "rest of system" line (whole
// minus the measured components inside it); the total says which domains it adds (and which
// is the whole machine); the attributable energy when a baseline was measured; then the
// warnings.
std::string FormatEnergyReportTable(const sampling::EnergyReport& report);

// The report as JSON: name, begin_s, end_s, duration_s, total_joules, mean_watts,
// total_attributable_joules (when a baseline exists), total_domains, total_provenance,
// warnings, and domains[] each with name, component, signal, provenance {kind, by},
// joules, mean_watts, peak_watts, samples, in_total, parent, unmeasured_s, gaps[],
// excluded_from_total, lost_at_s (when lost), baseline_watts and attributable_joules (when a
// baseline exists); total_complete, excluded_domains, partial_domains; whole_system (when the
// total holds a whole-system domain with domains inside it): whole_domains, whole_joules,
// whole_machine, component_domains, component_joules, unsubtracted_domains, rest_joules,
// rest_mean_watts, rest_provenance, rest_attributable_joules (with a baseline).
nlohmann::json EnergyReportToJson(const sampling::EnergyReport& report);

// "measured: redfish/1 - (rapl/package-0 + nvml/gpu0): fans, power-supply losses, ...": how
// the rest of the system is computed and what it holds.
std::string RestOfSystemDescription(const sampling::WholeSystemSplit& split);

// A domain's coverage of its window, for the end of its line: "[measured over 57.50 s of
// 60.00 s; 1 gap: read failed: ...]", "[lost at 12.00 s: ...]", or "" when measured throughout.
std::string CoverageNote(const sampling::DomainEnergy& domain, double duration_s);
// What an incomplete total lacks: "(lower bound: nvml/gpu0 measured over 57.50 s of 60.00 s;
// leaves out rapl/package-1 (lost))"; call only when !report.total_complete.
std::string TotalCompleteness(const sampling::EnergyReport& report);

// "measured", "modelled", or "measured and modelled": what the total is made of.
std::string TotalProvenance(const sampling::EnergyReport& report);

// The timeline as CSV: time_s, then per domain its cumulative joules ("<name> J") and the
// mean power since the previous sample ("<name> W"; empty where the interval lies in a gap of
// that domain). Header first; one row per sample.
void WriteTimelineCsv(const sampling::Timeline& timeline, std::ostream& out);

// probe's outputs: every source tried, its status, domains or reason and fix.
std::string FormatProbeTable(const std::vector<energy::ProbeResult>& probes);
nlohmann::json ProbeResultsToJson(const std::vector<energy::ProbeResult>& probes);
nlohmann::json DomainInfoToJson(const energy::DomainInfo& domain);

}  // namespace joulebench::report
