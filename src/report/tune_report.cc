#include "joulebench/report/tune_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "joulebench/tune/search.h"
#include "joulebench/units.h"
#include "report/svg_chart.h"

namespace joulebench::report {
namespace {

using nlohmann::json;

std::string UnitOf(const run::RunRecord& r) {
  const auto tune = r.config.find("tune");
  if (tune != r.config.end() && tune->is_object() && tune->value("mode", "") == "train") {
    return "sequence";
  }
  return "inference";
}

std::string Joules(double j) { return std::isfinite(j) ? FormatJoules(j) : "-"; }

std::string Accuracy(const run::TuneProbe& p) {
  if (!p.accuracy_cosine) return "";
  return fmt::format("cos {:.6f}, max |diff| {:.3g}", *p.accuracy_cosine,
                     p.accuracy_max_abs_diff.value_or(NAN));
}

std::string Status(const run::TuneProbe& p) {
  if (p.outcome == "measured") return p.verdict;
  return p.outcome;
}

const json* TuneConfig(const run::RunRecord& r) {
  auto it = r.config.find("tune");
  return it != r.config.end() && it->is_object() ? &*it : nullptr;
}

// `infer` / `train` flags that run a configuration again.
std::string Flags(const json& knobs) {
  std::string out;
  for (const auto& [key, value] : knobs.items()) {
    if (key == "dtype") out += fmt::format(" --dtype {}", value.get<std::string>());
    if (key == "threads") out += fmt::format(" --threads {}", value.dump());
    if (key == "max_batch") out += fmt::format(" --max-batch {}", value.dump());
    if (key == "batch") out += fmt::format(" --batch {}", value.dump());
    if (key == "max_delay_s" && value.is_number()) {
      const double d = value.get<double>();
      out += d == 0 ? " --max-delay 0s"
                    : (d < 1 ? fmt::format(" --max-delay {:g}ms", d * 1e3)
                             : fmt::format(" --max-delay {:g}s", d));
    }
    if (key == "power_limit_w")
      out += fmt::format(" (GPU power limit {} W: nvidia-smi -pl)", value.dump());
  }
  return out;
}

}  // namespace

std::string FormatTuneSummary(const run::RunRecord& r) {
  if (r.tune_probes.empty()) return "";
  const std::string unit = UnitOf(r);
  std::string out;
  if (const json* t = TuneConfig(r)) {
    if (auto s = t->find("skipped"); s != t->end() && s->is_array()) {
      for (const auto& k : *s) {
        out += fmt::format("knob {} {}: not searched: {}\n", k.value("knob", ""),
                           k.value("value", ""), k.value("reason", ""));
      }
    }
    if (auto a = t->find("accuracy"); a != t->end() && a->is_object()) {
      for (const auto& [dtype, fig] : a->items()) {
        out += fmt::format(
            "{} against fp32 (same weights, {} documents, {} tokens): cosine {:.6f}, max |diff| "
            "{:.4g} (largest fp32 output {:.4g}), same top label {:.1f} %\n",
            dtype, fig.value("documents", 0), fig.value("tokens", 0),
            fig.value("cosine_similarity", 0.0), fig.value("max_abs_diff", 0.0),
            fig.value("reference_max_abs", 0.0), 100 * fig.value("argmax_agreement", 0.0));
      }
    }
    out += fmt::format("objective: least {}; {}\n", t->value("objective", ""),
                       t->value("constraint", ""));
  }
  const bool infer = unit == "inference";
  out += fmt::format("{:<4} {:<26} {:<9} {:>10} {:>10} {:>10} {:>9} {:>11} {:>11} {:>7}  {}\n",
                     "rung", "configuration", "status", infer ? "peak/s" : "", "done/s",
                     infer ? "p99" : "step", "power", infer ? "J/inf" : "J/seq", "attrib.", "took",
                     "notes");
  for (const auto& p : r.tune_probes) {
    std::string notes;
    if (p.chosen) notes += "CHOSEN ";
    if (p.pareto) notes += "pareto ";
    notes += Accuracy(p);
    if (p.outcome != "measured" || p.verdict != "VALID") {
      if (!p.reasons.empty()) notes += p.reasons.front();
    }
    const bool figures = p.outcome == "measured" && p.verdict == "VALID";
    out += fmt::format(
        "{:<4} {:<26} {:<9} {:>10} {:>10} {:>10} {:>9} {:>11} {:>11} {:>7}  {}\n", p.rung, p.name,
        Status(p), figures && infer ? fmt::format("{:.4g}", p.rate_per_s) : "",
        figures ? fmt::format("{:.4g}", p.throughput_per_s) : "",
        figures ? FormatDuration(p.latency_s) : "", figures ? FormatWatts(p.mean_watts) : "",
        figures ? Joules(p.joules_per_unit) : "",
        figures && p.joules_per_unit_attributable ? Joules(*p.joules_per_unit_attributable) : "",
        p.outcome == "skipped" ? "" : FormatDuration(p.elapsed_s), notes);
  }
  const json* t = TuneConfig(r);
  if (t != nullptr && t->contains("chosen")) {
    const json& c = (*t)["chosen"];
    out += fmt::format("chosen: {} (rung {}); run it with:{}\n", c.value("name", ""),
                       c.value("rung", 0), Flags(c.value("knobs", json::object())));
  }
  for (const auto& m : r.metrics) {
    if (m.name.find("_ratio_to_default") != std::string::npos) {
      out += fmt::format("energy per {}: chosen / default = {:.3f} ({})\n", unit, m.value,
                         m.provenance);
    }
  }
  return out;
}

std::string RenderTuneSection(const std::vector<run::RunRecord>& runs) {
  std::string out;
  for (const auto& r : runs) {
    if (r.tune_probes.empty()) continue;
    const std::string unit = UnitOf(r);
    out += fmt::format("<h3>Tune run {}: {}</h3>\n", HtmlEscape(r.id), HtmlEscape(r.name));
    // Each configuration at the highest rung it was measured at.
    std::map<std::string, const run::TuneProbe*> latest;
    for (const auto& p : r.tune_probes) {
      if (p.outcome != "measured" || p.verdict != "VALID") continue;
      auto [it, inserted] = latest.emplace(p.name, &p);
      if (!inserted && p.rung >= it->second->rung) it->second = &p;
    }
    LineChart chart;
    chart.id = fmt::format("chart-tune-pareto-{}", r.id);
    chart.title = fmt::format(
        "Throughput against energy per {}: every VALID configuration (at its longest probe), "
        "the Pareto front, the chosen one",
        unit);
    chart.x_label =
        unit == "inference" ? "throughput at the peak rate (1/s)" : "throughput (sequences/s)";
    chart.y_label = fmt::format(
        "energy per {} (J{})", unit,
        !latest.empty() && latest.begin()->second->joules_per_unit_attributable ? ", attributable"
                                                                                : "");
    ChartSeries all, front, chosen;
    all.name = "configurations";
    all.line = false;
    all.markers = true;
    all.color = 0;
    front.name = "Pareto front";
    front.markers = true;
    front.color = 1;
    chosen.name = "chosen";
    chosen.line = false;
    chosen.markers = true;
    chosen.color = 3;
    std::vector<const run::TuneProbe*> on_front;
    for (const auto& [name, p] : latest) {
      all.x.push_back(p->throughput_per_s);
      all.y.push_back(tune::Objective(*p));
      if (p->pareto) on_front.push_back(p);
    }
    std::sort(on_front.begin(), on_front.end(), [](const auto* a, const auto* b) {
      return a->throughput_per_s < b->throughput_per_s;
    });
    for (const auto* p : on_front) {
      front.x.push_back(p->throughput_per_s);
      front.y.push_back(tune::Objective(*p));
    }
    for (const auto& p : r.tune_probes) {
      if (p.chosen) {
        chosen.x.push_back(p.throughput_per_s);
        chosen.y.push_back(tune::Objective(p));
      }
    }
    chart.series = {all, front, chosen};
    chart.y_from_zero = false;
    out += RenderLineChart(chart);
    out +=
        "<table class=\"tune-probes\"><thead><tr><th>rung</th><th>configuration</th>"
        "<th>status</th><th>peak rate (1/s)</th><th>throughput (1/s)</th><th>latency</th>"
        "<th>power</th><th>energy per " +
        unit +
        "</th><th>attributable</th><th>accuracy against fp32</th><th>energy measured by</th>"
        "<th>notes</th></tr></thead><tbody>\n";
    for (const auto& p : r.tune_probes) {
      const bool figures = p.outcome == "measured" && p.verdict == "VALID";
      std::string notes;
      if (p.chosen) notes += "chosen; ";
      if (p.pareto) notes += "on the Pareto front; ";
      for (const auto& reason : p.reasons) notes += reason + "; ";
      out += fmt::format(
          "<tr{}><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}"
          "</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
          p.chosen ? " class=\"chosen\"" : "", p.rung, HtmlEscape(p.name), HtmlEscape(Status(p)),
          figures && p.rate_per_s > 0 ? fmt::format("{:.4g}", p.rate_per_s) : "",
          figures ? fmt::format("{:.4g}", p.throughput_per_s) : "",
          figures ? HtmlEscape(FormatDuration(p.latency_s)) : "",
          figures ? HtmlEscape(FormatWatts(p.mean_watts)) : "",
          figures ? HtmlEscape(Joules(p.joules_per_unit)) : "",
          figures && p.joules_per_unit_attributable
              ? HtmlEscape(Joules(*p.joules_per_unit_attributable))
              : "",
          HtmlEscape(Accuracy(p)), HtmlEscape(figures ? p.energy_provenance : ""),
          HtmlEscape(notes));
    }
    out += "</tbody></table>\n";
    for (const auto& m : r.metrics) {
      if (m.name.find("_ratio_to_default") != std::string::npos) {
        out +=
            fmt::format("<p>Energy per {}, chosen over default: <strong>{:.3f}</strong> ({})</p>\n",
                        HtmlEscape(unit), m.value, HtmlEscape(m.provenance));
      }
    }
  }
  if (out.empty()) return "";
  return "<h2>Tuning</h2>\n" + out;
}

}  // namespace joulebench::report
