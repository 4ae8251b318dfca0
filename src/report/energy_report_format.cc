#include "report/energy_report_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "joulebench/units.h"

namespace joulebench::report {
namespace {

std::string SignalName(energy::SignalKind s) {
  return s == energy::SignalKind::kCounter ? "counter" : "gauge";
}

// CSV fields may hold anything (domain names come from sysfs): quote when needed.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string DomainDescription(const energy::DomainInfo& d) {
  std::vector<std::string> parts{SignalName(d.signal)};
  if (d.signal == energy::SignalKind::kCounter) {
    parts.push_back(d.counter_range_joules > 0 ? "wraps at " + FormatJoules(d.counter_range_joules)
                                               : "does not wrap");
  }
  if (d.update_period_s > 0) parts.push_back("updates every " + FormatDuration(d.update_period_s));
  if (d.min_window_s > 0) parts.push_back("windows >= " + FormatDuration(d.min_window_s));
  if (d.max_watts > 0) parts.push_back("max " + FormatWatts(d.max_watts));
  if (!d.parent.empty()) parts.push_back("inside " + d.parent);
  if (!d.note.empty()) parts.push_back(d.note);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

nlohmann::json GapsJson(const std::vector<sampling::TimelineGap>& gaps) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& g : gaps) {
    out.push_back({{"domain", g.domain},
                   {"begin_s", g.begin_s},
                   {"end_s", g.end_s},
                   {"reason", g.reason},
                   {"bridged", g.bridged},
                   {"lost", g.lost},
                   {"open", g.open}});
  }
  return out;
}

}  // namespace

// "(measured over 57.50 s of 60.00 s; 1 gap: read failed: ...)" or "" when complete.
std::string CoverageNote(const sampling::DomainEnergy& d, double duration_s) {
  if (d.lost_at_s && d.unmeasured_s >= duration_s) {
    return fmt::format("[lost at {}: {}]", FormatDuration(*d.lost_at_s),
                       d.gaps.empty() ? "no reading" : d.gaps.back().reason);
  }
  if (d.unmeasured_s <= 0 && d.gaps.empty()) return "";
  if (d.unmeasured_s <= 0) {
    return fmt::format("[{} bridged gap{}: energy measured by the counter across]", d.gaps.size(),
                       d.gaps.size() == 1 ? "" : "s");
  }
  std::string out = fmt::format(
      "[measured over {} of {}; {} gap{}: {}", FormatDuration(duration_s - d.unmeasured_s),
      FormatDuration(duration_s), d.gaps.size(), d.gaps.size() == 1 ? "" : "s",
      d.gaps.empty() ? "" : d.gaps.front().reason);
  if (d.lost_at_s) out += fmt::format("; lost at {}", FormatDuration(*d.lost_at_s));
  return out + "]";
}

// What the total lacks: "(lower bound: nvml/gpu0 measured over 57.50 s of 60.00 s; leaves out
// rapl/package-1, lost)".
std::string TotalCompleteness(const sampling::EnergyReport& r) {
  std::vector<std::string> parts;
  for (const auto& name : r.partial_domains) {
    for (const auto& d : r.domains) {
      if (d.domain.name != name) continue;
      parts.push_back(fmt::format("{} measured over {} of {}", name,
                                  FormatDuration(r.duration_s - d.unmeasured_s),
                                  FormatDuration(r.duration_s)));
    }
  }
  for (const auto& name : r.excluded_domains) parts.push_back("leaves out " + name + " (lost)");
  std::string out = r.partial_domains.empty() ? "(incomplete: " : "(lower bound: ";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
  return out + ")";
}

std::string RestOfSystemDescription(const sampling::WholeSystemSplit& w) {
  std::string whole;
  for (const auto& n : w.whole_domains) whole += (whole.empty() ? "" : " + ") + n;
  std::string parts;
  for (const auto& n : w.component_domains) parts += (parts.empty() ? "" : " + ") + n;
  std::string out = fmt::format(
      "measured: {} - ({}): {}", whole, parts.empty() ? "no measured component" : parts,
      w.whole_machine ? "fans, power-supply losses, disks, NICs, the board and whatever the "
                        "component sensors leave out"
                      : "the platform outside the packages and memory");
  if (!w.unsubtracted_domains.empty()) {
    std::string held;
    for (const auto& n : w.unsubtracted_domains) held += (held.empty() ? "" : ", ") + n;
    out += fmt::format("; also holds {} (not subtracted: not a measurement of its own)", held);
  }
  return out;
}

std::string TotalProvenance(const sampling::EnergyReport& report) {
  bool measured = false;
  bool modelled = false;
  for (const auto& d : report.domains) {
    if (!d.in_total) continue;
    if (d.domain.provenance.kind == energy::ProvenanceKind::kModelled) {
      modelled = true;
    } else {
      measured = true;
    }
  }
  if (measured && modelled) return "measured and modelled";
  if (modelled) return "modelled";
  if (measured) return "measured";
  return "nothing measured";
}

std::string FormatEnergyReportTable(const sampling::EnergyReport& report) {
  std::string out;
  out +=
      fmt::format("{}: {} ({} to {} after the meter started)\n",
                  report.name.empty() ? "window" : report.name, FormatDuration(report.duration_s),
                  FormatDuration(report.begin_s), FormatDuration(report.end_s));
  if (report.domains.empty()) {
    out += "  no energy source is available: run 'joulebench probe' to see why\n";
  }
  std::size_t width = 6;
  for (const auto& d : report.domains) width = std::max(width, d.domain.name.size() + 2);
  const std::string rest_label = "rest of system";
  if (report.whole_system) width = std::max(width, rest_label.size() + 2);
  const bool baseline = report.total_attributable_joules.has_value();
  out += fmt::format("  {:<{}} {:>12} {:>11} {:>11} {:>8}", "domain", width, "energy", "mean power",
                     "peak power", "samples");
  if (baseline) out += fmt::format(" {:>12} {:>12}", "idle power", "attributable");
  out += "  source\n";
  for (const auto& d : report.domains) {
    out += fmt::format("  {:<{}} {:>12} {:>11} {:>11} {:>8}", d.domain.name, width,
                       FormatJoules(d.joules), FormatWatts(d.mean_watts), FormatWatts(d.peak_watts),
                       d.samples);
    const std::string coverage = CoverageNote(d, report.duration_s);
    if (baseline) {
      out += fmt::format(" {:>12} {:>12}", FormatWatts(d.baseline_watts.value_or(0)),
                         FormatJoules(d.attributable_joules.value_or(d.joules)));
    }
    out += "  " + d.domain.provenance.Describe();
    if (!coverage.empty()) out += " " + coverage;
    if (d.excluded_from_total) {
      out += " (lost: not added to the total)";
    } else if (!d.in_total) {
      const bool unsubtracted =
          report.whole_system &&
          std::find(report.whole_system->unsubtracted_domains.begin(),
                    report.whole_system->unsubtracted_domains.end(),
                    d.domain.name) != report.whole_system->unsubtracted_domains.end();
      out += " (inside " + d.domain.parent + ", not added to the total" +
             (unsubtracted ? ", not subtracted from it" : "") + ")";
    }
    out += "\n";
  }
  if (report.whole_system) {
    const auto& w = *report.whole_system;
    const bool known = std::isfinite(w.rest_joules);
    out += fmt::format("  {:<{}} {:>12} {:>11} {:>11} {:>8}", rest_label, width,
                       known ? FormatJoules(w.rest_joules) : "n/a",
                       known ? FormatWatts(w.rest_mean_watts) : "n/a", "", "");
    if (baseline) {
      out += fmt::format(
          " {:>12} {:>12}", "",
          known ? FormatJoules(w.rest_attributable_joules.value_or(w.rest_joules)) : "n/a");
    }
    out += "  " + RestOfSystemDescription(w);
    if (!known) out += " (not computed: a domain of it has unmeasured time in this window)";
    out += "\n";
  }
  std::string summed;
  for (const auto& name : report.total_domains) {
    const bool whole =
        report.whole_system && std::find(report.whole_system->whole_domains.begin(),
                                         report.whole_system->whole_domains.end(),
                                         name) != report.whole_system->whole_domains.end();
    summed += (summed.empty() ? "" : " + ") + name;
    if (whole) {
      summed += report.whole_system->whole_machine ? " (whole machine: the domains inside it are "
                                                     "not added)"
                                                   : " (whole platform: the domains inside it "
                                                     "are not added)";
    }
  }
  out += fmt::format("  {:<{}} {:>12} {:>11}", "total", width, FormatJoules(report.total_joules),
                     FormatWatts(report.mean_watts));
  out += fmt::format("  {}: {}", TotalProvenance(report), summed.empty() ? "no domain" : summed);
  if (!report.total_complete) out += "  " + TotalCompleteness(report);
  out += "\n";
  if (report.total_attributable_joules) {
    out += fmt::format(
        "  {:<{}} {:>12} {:>11}  total minus idle baseline power x duration ({})\n", "attributable",
        width, FormatJoules(*report.total_attributable_joules),
        FormatWatts(report.duration_s > 0 ? *report.total_attributable_joules / report.duration_s
                                          : 0),
        TotalProvenance(report));
  }
  for (const auto& w : report.warnings) out += "  warning: " + w + "\n";
  return out;
}

nlohmann::json DomainInfoToJson(const energy::DomainInfo& d) {
  nlohmann::json j = {
      {"name", d.name},
      {"component", std::string(energy::ComponentName(d.component))},
      {"signal", SignalName(d.signal)},
      {"provenance",
       {{"kind", std::string(energy::ProvenanceKindName(d.provenance.kind))},
        {"by", d.provenance.by}}},
      {"parent", d.parent},
      {"counter_range_joules", d.counter_range_joules},
      {"max_watts", d.max_watts},
      {"update_period_s", d.update_period_s},
      {"min_window_s", d.min_window_s},
      {"note", d.note},
      {"whole_machine", d.whole_machine},
  };
  return j;
}

nlohmann::json EnergyReportToJson(const sampling::EnergyReport& report) {
  nlohmann::json domains = nlohmann::json::array();
  for (const auto& d : report.domains) {
    nlohmann::json j = {
        {"name", d.domain.name},
        {"component", std::string(energy::ComponentName(d.domain.component))},
        {"signal", SignalName(d.domain.signal)},
        {"provenance",
         {{"kind", std::string(energy::ProvenanceKindName(d.domain.provenance.kind))},
          {"by", d.domain.provenance.by}}},
        {"parent", d.domain.parent},
        {"joules", d.joules},
        {"mean_watts", d.mean_watts},
        {"peak_watts", d.peak_watts},
        {"samples", d.samples},
        {"in_total", d.in_total},
        {"unmeasured_s", d.unmeasured_s},
        {"gaps", GapsJson(d.gaps)},
        {"excluded_from_total", d.excluded_from_total},
    };
    if (d.lost_at_s) j["lost_at_s"] = *d.lost_at_s;
    if (d.baseline_watts) j["baseline_watts"] = *d.baseline_watts;
    if (d.attributable_joules) j["attributable_joules"] = *d.attributable_joules;
    domains.push_back(std::move(j));
  }
  nlohmann::json j = {
      {"name", report.name},
      {"begin_s", report.begin_s},
      {"end_s", report.end_s},
      {"duration_s", report.duration_s},
      {"total_joules", report.total_joules},
      {"mean_watts", report.mean_watts},
      {"total_domains", report.total_domains},
      {"total_provenance", TotalProvenance(report)},
      {"any_modelled", report.any_modelled},
      {"warnings", report.warnings},
      {"domains", std::move(domains)},
      {"total_complete", report.total_complete},
      {"excluded_domains", report.excluded_domains},
      {"partial_domains", report.partial_domains},
  };
  if (report.total_attributable_joules) {
    j["total_attributable_joules"] = *report.total_attributable_joules;
  }
  if (report.whole_system) {
    const auto& w = *report.whole_system;
    nlohmann::json split = {
        {"whole_domains", w.whole_domains},
        {"whole_joules", w.whole_joules},
        {"whole_machine", w.whole_machine},
        {"component_domains", w.component_domains},
        {"component_joules", w.component_joules},
        {"unsubtracted_domains", w.unsubtracted_domains},
        {"rest_joules", std::isfinite(w.rest_joules) ? nlohmann::json(w.rest_joules) : nullptr},
        {"rest_mean_watts",
         std::isfinite(w.rest_mean_watts) ? nlohmann::json(w.rest_mean_watts) : nullptr},
        {"rest_provenance", RestOfSystemDescription(w)},
    };
    if (w.rest_attributable_joules && std::isfinite(*w.rest_attributable_joules)) {
      split["rest_attributable_joules"] = *w.rest_attributable_joules;
    }
    j["whole_system"] = std::move(split);
  }
  return j;
}

void WriteTimelineCsv(const sampling::Timeline& timeline, std::ostream& out) {
  out << "time_s";
  for (const auto& d : timeline.domains) {
    out << ',' << CsvField(d.name + " J") << ',' << CsvField(d.name + " W");
  }
  out << '\n';
  // Each domain's gaps, so that a sample interval inside one has an empty power field: the
  // power there is not measured.
  std::vector<std::vector<const sampling::TimelineGap*>> gaps(timeline.domains.size());
  for (const auto& g : timeline.gaps) {
    for (std::size_t d = 0; d < timeline.domains.size(); ++d) {
      if (timeline.domains[d].name == g.domain) gaps[d].push_back(&g);
    }
  }
  std::vector<std::size_t> next_gap(timeline.domains.size(), 0);
  for (std::size_t i = 0; i < timeline.time_s.size(); ++i) {
    const double t = timeline.time_s[i];
    out << fmt::format("{:.6f}", t);
    for (std::size_t d = 0; d < timeline.domains.size(); ++d) {
      const double joules = timeline.joules[d][i];
      auto& k = next_gap[d];
      while (k < gaps[d].size() && gaps[d][k]->end_s < t && !gaps[d][k]->lost) ++k;
      const bool in_gap = i > 0 && k < gaps[d].size() && gaps[d][k]->begin_s < t &&
                          (gaps[d][k]->lost || t <= gaps[d][k]->end_s);
      if (in_gap) {
        out << fmt::format(",{:.6f},", joules);
        continue;
      }
      double watts = 0;
      if (i > 0) {
        const double dt = t - timeline.time_s[i - 1];
        if (dt > 0) watts = (joules - timeline.joules[d][i - 1]) / dt;
      }
      out << fmt::format(",{:.6f},{:.3f}", joules, watts);
    }
    out << '\n';
  }
}

std::string FormatProbeTable(const std::vector<energy::ProbeResult>& probes) {
  std::string out;
  for (const auto& p : probes) {
    const auto status = std::string(energy::ProbeStatusName(p.status));
    if (p.status == energy::ProbeStatus::kAvailable && p.source) {
      const auto& domains = p.source->domains();
      out += fmt::format("{:<11} {:<18} {} domain{}\n", p.source_name, status, domains.size(),
                         domains.size() == 1 ? "" : "s");
      std::size_t width = 0;
      for (const auto& d : domains) width = std::max(width, d.name.size());
      for (const auto& d : domains) {
        out += fmt::format("    {:<{}}  {}; {}\n", d.name, width, d.provenance.Describe(),
                           DomainDescription(d));
      }
    } else {
      out += fmt::format("{:<11} {:<18} {}\n", p.source_name, status, p.reason);
    }
    for (const auto& detail : p.details) out += "    " + detail + "\n";
    if (!p.fix.empty()) out += "    fix: " + p.fix + "\n";
  }
  return out;
}

nlohmann::json ProbeResultsToJson(const std::vector<energy::ProbeResult>& probes) {
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& p : probes) {
    nlohmann::json domains = nlohmann::json::array();
    if (p.source) {
      for (const auto& d : p.source->domains()) domains.push_back(DomainInfoToJson(d));
    }
    sources.push_back({{"name", p.source_name},
                       {"status", std::string(energy::ProbeStatusName(p.status))},
                       {"reason", p.reason},
                       {"fix", p.fix},
                       {"details", p.details},
                       {"domains", std::move(domains)}});
  }
  return {{"sources", std::move(sources)}};
}

}  // namespace joulebench::report
