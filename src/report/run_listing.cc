#include "joulebench/report/run_listing.h"

#include <fmt/format.h>

#include <cmath>

#include "joulebench/report/node_table.h"
#include "joulebench/report/tune_report.h"
#include "joulebench/units.h"
#include "report/energy_report_format.h"

namespace joulebench::report {
namespace {

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " + ") + n;
  return out;
}

std::string Shorten(std::string_view text, std::size_t width) {
  std::string out;
  for (char c : text) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (out.size() > width) out = out.substr(0, width - 1) + "~";
  return out;
}

std::string Number(double v) {
  if (!std::isfinite(v)) return "n/a";
  return fmt::format("{:.4g}", v);
}

std::string Time(double unix_s) { return unix_s > 0 ? FormatIsoTime(unix_s) : "-"; }

std::string CsvNumber(double v) { return std::isfinite(v) ? fmt::format("{}", v) : ""; }

}  // namespace

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string FormatRunList(const std::vector<store::RunSummary>& runs) {
  if (runs.empty()) return "No runs stored.\n";
  std::string out = fmt::format("{:>5}  {:<8} {:<20} {:>9}  {:<10} {:<7} {:<20} {:>14} {:>9}  {}\n",
                                "ID", "KIND", "STARTED (UTC)", "DURATION", "STATUS", "VERDICT",
                                "WORKLOAD", "THROUGHPUT", "POWER", "NAME");
  for (const auto& r : runs) {
    std::string duration =
        r.end_unix_s > r.start_unix_s ? FormatDuration(r.end_unix_s - r.start_unix_s) : "-";
    std::string throughput =
        r.throughput ? fmt::format("{} {}", Number(r.throughput->value), r.throughput->unit) : "-";
    std::string power = r.mean_watts ? FormatWatts(*r.mean_watts) : "-";
    out += fmt::format("{:>5}  {:<8} {:<20} {:>9}  {:<10} {:<7} {:<20} {:>14} {:>9}  {}\n", r.id,
                       Shorten(r.kind, 8), Time(r.start_unix_s), duration,
                       run::RunStatusName(r.status), r.verdict.empty() ? "-" : r.verdict,
                       Shorten(r.workload.empty() ? "-" : r.workload, 20), throughput, power,
                       Shorten(r.name, 40));
  }
  return out;
}

nlohmann::json RunListJson(const std::vector<store::RunSummary>& runs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : runs) {
    nlohmann::json throughput = nullptr;
    if (r.throughput) {
      throughput = {
          {"name", r.throughput->name},
          {"value", std::isfinite(r.throughput->value) ? nlohmann::json(r.throughput->value)
                                                       : nlohmann::json()},
          {"unit", r.throughput->unit},
          {"provenance", r.throughput->provenance}};
    }
    out.push_back(
        {{"id", r.id},
         {"kind", r.kind},
         {"name", r.name},
         {"start_unix_s", r.start_unix_s},
         {"start_time", Time(r.start_unix_s)},
         {"end_unix_s", r.end_unix_s},
         {"status", run::RunStatusName(r.status)},
         {"verdict", r.verdict},
         {"workload", r.workload},
         {"samples", r.samples},
         {"throughput", throughput},
         {"mean_watts", r.mean_watts ? nlohmann::json(*r.mean_watts) : nlohmann::json()}});
  }
  return out;
}

std::string FormatRunDetails(const run::RunRecord& r, std::optional<std::size_t> samples) {
  std::string out;
  out += fmt::format("Run {}  {}  \"{}\"\n", r.id, r.kind, Shorten(r.name, 200));
  out += fmt::format("  status   {}{}\n", run::RunStatusName(r.status),
                     r.verdict.empty() ? "" : "  verdict " + r.verdict);
  for (const auto& reason : r.verdict_reasons) out += fmt::format("           - {}\n", reason);
  out += fmt::format("  started  {}   ended {}", Time(r.start_unix_s), Time(r.end_unix_s));
  if (r.end_unix_s > r.start_unix_s) {
    out += fmt::format("   ({})", FormatDuration(r.end_unix_s - r.start_unix_s));
  }
  out += "\n";
  if (r.steady_state_at_s) {
    out += fmt::format("  steady state reached at {} ({})\n", FormatDuration(*r.steady_state_at_s),
                       r.steady_state_criterion);
  }
  if (!r.fingerprint.empty()) {
    out += "Machine\n";
    for (const auto& [key, value] : r.fingerprint.items()) {
      out += fmt::format(
          "  {:<20} {}\n", key,
          Shorten(value.is_string() ? value.get<std::string>() : run::DumpJson(value), 100));
    }
  }
  if (!r.config.empty()) {
    out += "Configuration\n";
    for (const auto& [key, value] : r.config.items()) {
      out += fmt::format(
          "  {:<20} {}\n", key,
          Shorten(value.is_string() ? value.get<std::string>() : run::DumpJson(value), 100));
    }
  }
  for (const auto& e : r.energy) {
    out += fmt::format("Energy: window \"{}\"  {} .. {}  ({})\n", e.name, FormatDuration(e.begin_s),
                       FormatDuration(e.end_s), FormatDuration(e.duration_s));
    for (const auto& d : e.domains) {
      const std::string coverage = CoverageNote(d, e.duration_s);
      out += fmt::format("  {:<24} {:>10} {:>10} {}{}  [{}]{}\n", d.domain.name,
                         FormatJoules(d.joules), FormatWatts(d.mean_watts),
                         d.attributable_joules
                             ? fmt::format(" attributable {}", FormatJoules(*d.attributable_joules))
                             : "",
                         d.excluded_from_total ? " (lost, not added)"
                         : d.in_total          ? ""
                                               : " (inside its parent, not added)",
                         d.domain.provenance.Describe(), coverage.empty() ? "" : " " + coverage);
    }
    if (e.whole_system) {
      const auto& w = *e.whole_system;
      const bool known = std::isfinite(w.rest_joules);
      out += fmt::format(
          "  {:<24} {:>10} {:>10} {}{}  [{}]\n", "rest of system",
          known ? FormatJoules(w.rest_joules) : "n/a",
          known ? FormatWatts(w.rest_mean_watts) : "n/a",
          w.rest_attributable_joules
              ? fmt::format(" attributable {}", FormatJoules(*w.rest_attributable_joules))
              : "",
          "", RestOfSystemDescription(w));
    }
    out += fmt::format(
        "  {:<24} {:>10} {:>10}{}{}{}\n", "total", FormatJoules(e.total_joules),
        FormatWatts(e.mean_watts),
        e.total_attributable_joules
            ? fmt::format(" attributable {}", FormatJoules(*e.total_attributable_joules))
            : "",
        e.any_modelled ? "  (includes modelled domains)" : "",
        e.whole_system ? fmt::format("  (the whole {}: {})",
                                     e.whole_system->whole_machine ? "machine" : "platform",
                                     Joined(e.whole_system->whole_domains))
                       : "");
    if (!e.total_complete) out += fmt::format("  {:<24} {}\n", "", TotalCompleteness(e));
    for (const auto& w : e.warnings) out += fmt::format("  warning: {}\n", w);
  }
  if (!r.metrics.empty()) {
    out += "Metrics\n";
    for (const auto& m : r.metrics) {
      out += fmt::format("  {:<28} {:>12} {:<8} [{}]\n", m.name, Number(m.value), m.unit,
                         m.provenance);
    }
  }
  if (!r.peak_probes.empty()) {
    out += "Peak search\n";
    for (const auto& p : r.peak_probes) {
      out += fmt::format("  {:>10}/s  latency {:>10}  {}\n", Number(p.rate_per_s),
                         FormatDuration(p.latency_percentile_s),
                         p.valid ? "meets bound" : "misses bound");
    }
  }
  if (!r.power_curve.empty()) {
    out += "Power versus load\n";
    for (const auto& p : r.power_curve) {
      out += fmt::format("  {:>5.0f} %  {:>10}/s offered {:>10}/s achieved  {}\n",
                         100 * p.load_fraction, Number(p.rate_per_s), Number(p.achieved_per_s),
                         FormatWatts(p.watts_total));
    }
  }
  out += FormatNodeTable(r);
  if (!r.tune_probes.empty()) out += "Tune probes\n" + FormatTuneSummary(r);
  out += fmt::format("Timeline: {} samples of {} domains; {} windows; {} latency buckets\n",
                     samples.value_or(r.timeline.time_s.size()), r.timeline.domains.size(),
                     r.windows.size(), r.latency_histogram.size());
  // Gaps: spans in which a domain has no measurement (the first ones, then a count).
  constexpr std::size_t kGapsShown = 20;
  for (std::size_t i = 0; i < r.timeline.gaps.size() && i < kGapsShown; ++i) {
    const auto& g = r.timeline.gaps[i];
    out += fmt::format(
        "  gap in {}: {} to {}{}: {}{}\n", g.domain, FormatDuration(g.begin_s),
        g.lost ? "the end" : FormatDuration(g.end_s), g.open && !g.lost ? " (still open)" : "",
        g.reason,
        g.bridged ? " (energy measured by the counter across it)" : " (energy not measured)");
  }
  if (r.timeline.gaps.size() > kGapsShown) {
    out += fmt::format("  ... and {} more gaps ('runs export' has them all)\n",
                       r.timeline.gaps.size() - kGapsShown);
  }
  for (const auto& w : r.warnings) out += fmt::format("warning: {}\n", w);
  return out;
}

std::string RunCsv(const run::RunRecord& r) {
  std::string out =
      "# run\nid,kind,name,start_unix_s,end_unix_s,status,verdict,steady_state_at_s\n";
  out +=
      fmt::format("{},{},{},{},{},{},{},{}\n", CsvField(r.id), CsvField(r.kind), CsvField(r.name),
                  CsvNumber(r.start_unix_s), CsvNumber(r.end_unix_s), run::RunStatusName(r.status),
                  CsvField(r.verdict), r.steady_state_at_s ? CsvNumber(*r.steady_state_at_s) : "");
  out += "# metrics\nname,value,unit,provenance\n";
  for (const auto& m : r.metrics) {
    out += fmt::format("{},{},{},{}\n", CsvField(m.name), CsvNumber(m.value), CsvField(m.unit),
                       CsvField(m.provenance));
  }
  out +=
      "# energy\nwindow,domain,joules,mean_watts,peak_watts,samples,baseline_watts,"
      "attributable_joules,in_total,provenance\n";
  for (const auto& e : r.energy) {
    for (const auto& d : e.domains) {
      out +=
          fmt::format("{},{},{},{},{},{},{},{},{},{}\n", CsvField(e.name), CsvField(d.domain.name),
                      CsvNumber(d.joules), CsvNumber(d.mean_watts), CsvNumber(d.peak_watts),
                      d.samples, d.baseline_watts ? CsvNumber(*d.baseline_watts) : "",
                      d.attributable_joules ? CsvNumber(*d.attributable_joules) : "",
                      d.in_total ? 1 : 0, CsvField(d.domain.provenance.Describe()));
    }
  }
  out += "# windows\nbegin_s,end_s,throughput_per_s,watts,latency_p50_s,latency_p99_s\n";
  for (const auto& w : r.windows) {
    out += fmt::format("{},{},{},{},{},{}\n", CsvNumber(w.begin_s), CsvNumber(w.end_s),
                       CsvNumber(w.throughput_per_s), CsvNumber(w.watts),
                       CsvNumber(w.latency_p50_s), CsvNumber(w.latency_p99_s));
  }
  out += "# power_curve\nload_fraction,rate_per_s,achieved_per_s,watts_total\n";
  for (const auto& p : r.power_curve) {
    out += fmt::format("{},{},{},{}\n", CsvNumber(p.load_fraction), CsvNumber(p.rate_per_s),
                       CsvNumber(p.achieved_per_s), CsvNumber(p.watts_total));
  }
  out += "# peak_probes\nrate_per_s,latency_percentile_s,valid\n";
  for (const auto& p : r.peak_probes) {
    out += fmt::format("{},{},{}\n", CsvNumber(p.rate_per_s), CsvNumber(p.latency_percentile_s),
                       p.valid ? 1 : 0);
  }
  out += "# latency_histogram\nupper_bound_s,count\n";
  for (const auto& [upper, count] : r.latency_histogram) {
    out += fmt::format("{},{}\n", CsvNumber(upper), count);
  }
  if (!r.nodes.empty()) {
    out +=
        "# nodes\nnode_id,hostname,status,leader_rank,rank,rank_status,exit_code,cpu_s,cpu_share,"
        "rank_cpu_joules,node_joules,node_mean_watts,node_cpu_joules\n";
    for (const auto& n : r.nodes) {
      const sampling::EnergyReport* m = n.FindEnergy("measurement");
      for (const auto& u : n.ranks) {
        out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", CsvField(n.node_id),
                           CsvField(n.hostname), CsvField(n.status), n.leader_rank, u.rank,
                           CsvField(u.status), u.exit_code ? std::to_string(*u.exit_code) : "",
                           CsvNumber(u.cpu_s), u.cpu_share ? CsvNumber(*u.cpu_share) : "",
                           u.cpu_joules ? CsvNumber(*u.cpu_joules) : "",
                           m ? CsvNumber(m->total_joules) : "", m ? CsvNumber(m->mean_watts) : "",
                           n.cpu_joules ? CsvNumber(*n.cpu_joules) : "");
      }
    }
  }
  out += "# timeline_gaps\ndomain,begin_s,end_s,reason,bridged,lost,open\n";
  for (const auto& g : r.timeline.gaps) {
    out += fmt::format("{},{},{},{},{},{},{}\n", CsvField(g.domain), CsvNumber(g.begin_s),
                       CsvNumber(g.end_s), CsvField(g.reason), g.bridged ? 1 : 0, g.lost ? 1 : 0,
                       g.open ? 1 : 0);
  }
  out += "# timeline\ntime_s";
  for (const auto& d : r.timeline.domains) out += "," + CsvField(d.name + " (J)");
  out += "\n";
  for (std::size_t i = 0; i < r.timeline.time_s.size(); ++i) {
    out += CsvNumber(r.timeline.time_s[i]);
    for (const auto& series : r.timeline.joules) {
      out += ',';
      out += CsvNumber(series[i]);
    }
    out += '\n';
  }
  return out;
}

}  // namespace joulebench::report
