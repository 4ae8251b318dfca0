#include "report/measure_session_format.h"

#include <fmt/format.h>

#include <algorithm>

#include "joulebench/units.h"
#include "report/energy_report_format.h"

namespace joulebench::report {
namespace {

std::string ProbeLine(const run::ProbeSummary& p) {
  if (p.status == energy::ProbeStatus::kAvailable) {
    return fmt::format("{}: {} domain(s)", p.source_name, p.domain_count);
  }
  return fmt::format("{}: {} ({})", p.source_name, energy::ProbeStatusName(p.status), p.reason);
}

// Numbers of work are counts, usually whole: no exponent, no trailing zeros.
std::string WorkNumber(double work) {
  if (work == static_cast<double>(static_cast<long long>(work))) {
    return fmt::format("{}", static_cast<long long>(work));
  }
  return fmt::format("{:.6g}", work);
}

std::string WorkLine(const sampling::EnergyReport& energy, double work, const std::string& unit) {
  if (!(work > 0)) return fmt::format("  work: none counted ({})\n", unit);
  std::string out =
      fmt::format("  work: {} {}; {} per {} ({})", WorkNumber(work), unit,
                  FormatJoules(*run::JoulesPerWork(energy, work)), unit, TotalProvenance(energy));
  if (auto a = run::AttributableJoulesPerWork(energy, work)) {
    out += fmt::format(", attributable {} per {}", FormatJoules(*a), unit);
  }
  return out + "\n";
}

void AddJoulesPerWork(nlohmann::json& j, const sampling::EnergyReport& energy, double work) {
  j["work"] = work;
  if (auto e = run::JoulesPerWork(energy, work)) j["joules_per_work"] = *e;
  if (auto a = run::AttributableJoulesPerWork(energy, work)) j["attributable_joules_per_work"] = *a;
}

}  // namespace

std::string FormatWindowEnergy(const run::WindowEnergy& window, const std::string& work_unit) {
  return FormatEnergyReportTable(window.energy) + WorkLine(window.energy, window.work, work_unit);
}

std::string FormatMeasureSessionReport(const run::MeasureSessionReport& report) {
  std::string out = "sources:\n";
  for (const auto& p : report.probes) out += "  " + ProbeLine(p) + "\n";
  if (report.baseline) out += FormatEnergyReportTable(*report.baseline);
  out += FormatEnergyReportTable(report.measurement);
  out += WorkLine(report.measurement, report.work, report.work_unit);
  const std::size_t shown = std::min(report.windows.size(), kMaxWindowTables);
  for (std::size_t i = 0; i < shown; ++i) {
    out += FormatWindowEnergy(report.windows[i], report.work_unit);
  }
  if (report.windows.size() > shown) {
    out += fmt::format("... and {} more windows (all of them are in the report's windows)\n",
                       report.windows.size() - shown);
  }
  for (const auto& w : report.warnings) {
    const auto& shown_warnings = report.measurement.warnings;
    if (std::find(shown_warnings.begin(), shown_warnings.end(), w) == shown_warnings.end()) {
      out += "warning: " + w + "\n";
    }
  }
  return out;
}

nlohmann::json WindowEnergyToJson(const run::WindowEnergy& window) {
  nlohmann::json j = EnergyReportToJson(window.energy);
  AddJoulesPerWork(j, window.energy, window.work);
  return j;
}

nlohmann::json MeasureSessionReportToJson(const run::MeasureSessionReport& report) {
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& p : report.probes) {
    sources.push_back({{"name", p.source_name},
                       {"status", std::string(energy::ProbeStatusName(p.status))},
                       {"reason", p.reason},
                       {"fix", p.fix},
                       {"domains", p.domain_count}});
  }
  nlohmann::json windows = nlohmann::json::array();
  for (const auto& w : report.windows) windows.push_back(WindowEnergyToJson(w));
  nlohmann::json j = {
      {"status", std::string(run::RunStatusName(report.status))},
      {"ended", report.ended},
      {"sources", std::move(sources)},
      {"baseline", report.baseline ? EnergyReportToJson(*report.baseline) : nlohmann::json()},
      {"measurement", EnergyReportToJson(report.measurement)},
      {"work_unit", report.work_unit},
      {"windows", std::move(windows)},
      {"warnings", report.warnings},
  };
  AddJoulesPerWork(j, report.measurement, report.work);
  return j;
}

}  // namespace joulebench::report
