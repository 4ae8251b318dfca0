#include "cli/torch/print_run.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "joulebench/report/node_table.h"
#include "joulebench/units.h"
#include "report/energy_report_format.h"

namespace joulebench::cli {
namespace {

std::string FormatValue(const run::Metric& m) {
  if (m.unit == "s") return FormatDuration(m.value);
  if (m.unit == "J") return FormatJoules(m.value);
  if (m.unit == "W") return FormatWatts(m.value);
  if (m.unit == "FLOP/s") return fmt::format("{:.3g} GFLOP/s", m.value / 1e9);
  if (m.unit == "FLOP") return fmt::format("{:.4g} GFLOP", m.value / 1e9);
  if (m.unit == "1" && m.name.find("fraction") != std::string::npos) {
    return fmt::format("{:.1f} %", m.value * 100);
  }
  if (m.unit == "1") return fmt::format("{:.6g}", m.value);
  return fmt::format("{:.6g} {}", m.value, m.unit);
}

}  // namespace

void PrintRunRecord(const run::RunRecord& record, bool json) {
  std::string out;
  if (json) {
    out = run::DumpJson(run::ToJson(record), 2) + "\n";
  } else {
    out += fmt::format("{} {}: {}", record.kind, record.name,
                       record.verdict.empty() ? "done" : record.verdict);
    for (const auto& reason : record.verdict_reasons) out += "\n  " + reason;
    out += "\n";
    if (record.steady_state_at_s) {
      out += fmt::format("steady state after {} ({})\n", FormatDuration(*record.steady_state_at_s),
                         record.steady_state_criterion);
    }
    for (const auto& m : record.metrics) {
      out += fmt::format("  {:<44} {:>16}   {}\n", m.name, FormatValue(m), m.provenance);
    }
    for (const auto& e : record.energy) out += report::FormatEnergyReportTable(e);
    out += report::FormatNodeTable(record);
    for (const auto& w : record.warnings) out += "warning: " + w + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace joulebench::cli
