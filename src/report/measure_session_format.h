// Presentation of a MeasureSession's report (the Python binding's Meter.report()): the same
// tables as `joulebench measure` prints, one per window, with the work counted and the energy
// per unit of work; and its JSON shape (docs/python.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "run/measure_session.h"

namespace joulebench::report {

// "sources:" with one line per probed source, the baseline's and the measurement's tables, each
// window's table (the first kMaxWindowTables; a line says how many more there are), the work
// lines, and the warnings the tables do not already show.
inline constexpr std::size_t kMaxWindowTables = 20;
std::string FormatMeasureSessionReport(const run::MeasureSessionReport& report);

// A window's table and its work line ("  work: 20 step; 1.23 J per step, ...").
std::string FormatWindowEnergy(const run::WindowEnergy& window, const std::string& work_unit);

// {"status", "ended", "sources": [{name, status, reason, fix, domains}], "baseline",
//  "measurement", "work", "work_unit", "joules_per_work", "attributable_joules_per_work",
//  "windows": [EnergyReportToJson + "work", "joules_per_work", ...], "warnings"}.
nlohmann::json MeasureSessionReportToJson(const run::MeasureSessionReport& report);
nlohmann::json WindowEnergyToJson(const run::WindowEnergy& window);

}  // namespace joulebench::report
