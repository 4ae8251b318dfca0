#include "joulebench/report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "joulebench/report/run_comparison.h"
#include "joulebench/report/tune_report.h"
#include "joulebench/units.h"
#include "report/energy_report_format.h"
#include "report/svg_chart.h"

namespace joulebench::report {
namespace {

using nlohmann::json;

std::string RunLabel(const run::RunRecord& r) {
  std::string name = r.name.size() > 40 ? r.name.substr(0, 39) + "~" : r.name;
  return name.empty() ? fmt::format("run {}", r.id) : fmt::format("run {} {}", r.id, name);
}

const sampling::EnergyReport* FindReport(const run::RunRecord& r, std::string_view name) {
  for (const auto& e : r.energy) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "n/a";
  return fmt::format("{:.4g}", v);
}

// "measured: powercap ..." -> ("measured", "powercap ..."); anything else is "given".
std::pair<std::string, std::string> SplitProvenance(const std::string& p) {
  for (const char* kind : {"measured", "modelled", "given"}) {
    std::string prefix = std::string(kind) + ":";
    if (p.rfind(prefix, 0) == 0) {
      std::string by = p.substr(prefix.size());
      while (!by.empty() && by.front() == ' ') by.erase(0, 1);
      return {kind, by};
    }
  }
  return {"unstated", p};
}

std::string PowerChart(const std::vector<run::RunRecord>& runs, std::size_t max_points) {
  LineChart chart;
  chart.id = "chart-power";
  chart.title = "Power over time, per energy domain";
  chart.x_label = "time since the meter started (s)";
  chart.y_label = "power (W)";
  int color = 0;
  for (const auto& r : runs) {
    const auto& t = r.timeline;
    for (std::size_t d = 0; d < t.domains.size() && d < t.joules.size(); ++d) {
      std::vector<std::pair<double, double>> gaps;
      for (const auto& g : t.gaps) {
        if (g.domain != t.domains[d].name) continue;
        const double end = g.lost && !t.time_s.empty() ? t.time_s.back() : g.end_s;
        gaps.emplace_back(g.begin_s, end);
      }
      auto [x, y] = DownsamplePower(t.time_s, t.joules[d], max_points, gaps);
      ChartSeries s;
      s.name = (runs.size() > 1 ? RunLabel(r) + ": " : "") + t.domains[d].name + " (" +
               std::string(energy::ProvenanceKindName(t.domains[d].provenance.kind)) + ")";
      s.x = std::move(x);
      s.y = std::move(y);
      // A domain inside another (dram in a package) is drawn dashed: it is not added again.
      s.dashed = !t.domains[d].parent.empty();
      s.color = color++;
      chart.series.push_back(std::move(s));
    }
    std::string prefix = runs.size() > 1 ? fmt::format("run {} ", r.id) : "";
    if (const auto* b = FindReport(r, "baseline")) {
      chart.bands.push_back({b->begin_s, b->end_s, prefix + "idle baseline", "band-baseline"});
    }
    if (r.steady_state_at_s) {
      double warm_from = 0;
      if (const auto* b = FindReport(r, "baseline"); b && b->end_s <= *r.steady_state_at_s) {
        warm_from = b->end_s;
      }
      chart.bands.push_back({warm_from, *r.steady_state_at_s, prefix + "warm-up", "band-warmup"});
    }
    if (const auto* m = FindReport(r, "measurement")) {
      chart.bands.push_back(
          {m->begin_s, m->end_s, prefix + "steady-state measurement", "band-measurement"});
    }
    // Gaps: spans in which a domain has no measurement; its line is broken there. Many short
    // gaps of one domain are drawn as the span from the first to the last of them.
    constexpr std::size_t kGapBandsPerRun = 24;
    const std::size_t shown = std::min(t.gaps.size(), kGapBandsPerRun);
    for (std::size_t i = 0; i < shown; ++i) {
      const auto& g = t.gaps[i];
      if (t.time_s.empty() || g.begin_s >= t.time_s.back()) break;
      const double end = g.lost ? t.time_s.back() : std::min(g.end_s, t.time_s.back());
      std::string label =
          fmt::format("{}{} {}: {}", prefix, g.lost ? "lost" : "gap", g.domain, g.reason);
      if (i + 1 == shown && t.gaps.size() > shown) {
        label = fmt::format("{}{} more gaps to {}", prefix, t.gaps.size() - shown + 1,
                            FormatDuration(t.gaps.back().end_s));
        chart.bands.push_back({g.begin_s, t.gaps.back().end_s, label, "band-gap"});
        break;
      }
      chart.bands.push_back({g.begin_s, end, label, "band-gap"});
    }
  }
  return RenderLineChart(chart);
}

std::string EnergyChart(const std::vector<run::RunRecord>& runs) {
  BarChart chart;
  chart.id = "chart-energy";
  chart.title =
      "Energy per domain and window (domains counted in the total, stacked; a whole system as "
      "its measured components and the rest of the system)";
  chart.y_label = "energy (J)";
  for (const auto& r : runs) {
    for (const auto& e : r.energy) {
      Bar bar;
      bar.label = fmt::format("run {}: {}", r.id, e.name);
      if (e.whole_system) {
        // The whole system broken down: its measured components, then the rest of it.
        const auto& w = *e.whole_system;
        auto listed = [](const std::vector<std::string>& names, const std::string& name) {
          return std::find(names.begin(), names.end(), name) != names.end();
        };
        for (const auto& d : e.domains) {
          if (listed(w.component_domains, d.domain.name)) {
            bar.segments.push_back({d.domain.name, d.joules});
          }
        }
        bar.segments.push_back({"rest of system", std::max(0.0, w.rest_joules)});
        for (const auto& d : e.domains) {
          if (d.in_total && !listed(w.whole_domains, d.domain.name)) {
            bar.segments.push_back({d.domain.name, d.joules});
          }
        }
      } else {
        for (const auto& d : e.domains) {
          if (d.in_total) bar.segments.push_back({d.domain.name, d.joules});
        }
      }
      bar.annotation = FormatJoules(e.total_joules) + (e.total_complete ? "" : " (incomplete)");
      chart.bars.push_back(std::move(bar));
    }
  }
  return RenderBarChart(chart);
}

std::string WindowCharts(const std::vector<run::RunRecord>& runs) {
  LineChart throughput;
  throughput.id = "chart-throughput";
  throughput.title = "Throughput over time (per fixed window)";
  throughput.x_label = "time since the meter started (s)";
  throughput.y_label = "throughput (1/s)";
  LineChart latency;
  latency.id = "chart-latency";
  latency.title = "Latency over time (per fixed window)";
  latency.x_label = "time since the meter started (s)";
  latency.y_label = "latency (s)";
  int color = 0;
  for (const auto& r : runs) {
    ChartSeries t, p50, p99;
    t.name = RunLabel(r);
    p50.name = RunLabel(r) + " p50";
    p99.name = RunLabel(r) + " p99";
    t.color = p50.color = p99.color = color++;
    p50.dashed = true;
    for (const auto& w : r.windows) {
      double mid = (w.begin_s + w.end_s) / 2;
      t.x.push_back(mid);
      t.y.push_back(w.throughput_per_s);
      p50.x.push_back(mid);
      p50.y.push_back(w.latency_p50_s > 0 ? w.latency_p50_s : NAN);
      p99.x.push_back(mid);
      p99.y.push_back(w.latency_p99_s > 0 ? w.latency_p99_s : NAN);
    }
    if (r.steady_state_at_s) {
      throughput.bands.push_back({0, *r.steady_state_at_s,
                                  runs.size() > 1 ? fmt::format("run {} warm-up", r.id) : "warm-up",
                                  "band-warmup"});
    }
    throughput.series.push_back(std::move(t));
    latency.series.push_back(std::move(p50));
    latency.series.push_back(std::move(p99));
  }
  return RenderLineChart(throughput) + RenderLineChart(latency);
}

// The latency bound a run was held to: the load generator's server bound (infer, loadgen) or
// a top-level latency_bound_s / max_latency_s.
std::optional<double> LatencyBoundS(const run::RunRecord& r) {
  if (auto lg = r.config.find("loadgen"); lg != r.config.end() && lg->is_object()) {
    if (auto ns = lg->find("server_target_latency_ns");
        ns != lg->end() && ns->is_number() && ns->get<double>() > 0) {
      return ns->get<double>() / 1e9;
    }
  }
  for (const char* key : {"latency_bound_s", "max_latency_s"}) {
    if (auto it = r.config.find(key); it != r.config.end() && it->is_number()) {
      return it->get<double>();
    }
  }
  return std::nullopt;
}

std::string PeakChart(const std::vector<run::RunRecord>& runs) {
  LineChart chart;
  chart.id = "chart-peak";
  chart.title = "Latency versus offered rate (peak search probes)";
  chart.x_label = "offered rate (1/s)";
  chart.y_label = "latency percentile (s)";
  int color = 0;
  for (const auto& r : runs) {
    std::vector<run::PeakProbe> probes = r.peak_probes;
    std::sort(probes.begin(), probes.end(),
              [](const auto& a, const auto& b) { return a.rate_per_s < b.rate_per_s; });
    ChartSeries meets, misses;
    meets.name = RunLabel(r) + ": meets the bound";
    misses.name = RunLabel(r) + ": misses the bound";
    meets.color = color;
    misses.color = color + 1;
    meets.markers = true;
    misses.line = false;
    for (const auto& p : probes) {
      auto& s = p.valid ? meets : misses;
      s.x.push_back(p.rate_per_s);
      s.y.push_back(p.latency_percentile_s);
    }
    color += 2;
    // Runs without probes (or without failing ones) add no empty legend entries.
    if (!meets.x.empty()) chart.series.push_back(std::move(meets));
    if (!misses.x.empty()) chart.series.push_back(std::move(misses));
    if (const auto bound = LatencyBoundS(r); bound && !chart.y_reference) {
      chart.y_reference = {{*bound, fmt::format("latency bound {} s", Num(*bound))}};
    }
  }
  return RenderLineChart(chart);
}

std::string PowerLoadChart(const std::vector<run::RunRecord>& runs) {
  LineChart chart;
  chart.id = "chart-power-load";
  chart.title = "Power versus load";
  chart.x_label = "load (% of the peak rate)";
  chart.y_label = "power (W)";
  int color = 0;
  for (const auto& r : runs) {
    ChartSeries s;
    s.name = RunLabel(r);
    s.markers = true;
    s.color = color++;
    std::vector<run::LoadLevelPoint> points = r.power_curve;
    std::sort(points.begin(), points.end(),
              [](const auto& a, const auto& b) { return a.load_fraction < b.load_fraction; });
    for (const auto& p : points) {
      s.x.push_back(100 * p.load_fraction);
      s.y.push_back(p.watts_total);
    }
    chart.series.push_back(std::move(s));
  }
  return RenderLineChart(chart);
}

struct PlanCandidate {
  std::string name;
  std::optional<double> instances;
  std::optional<std::pair<std::string, double>> cost;    // key, value
  std::optional<std::pair<std::string, double>> energy;  // key, value
};

std::vector<PlanCandidate> ReadPlan(const json& plan) {
  std::vector<PlanCandidate> out;
  const json* list = &plan;
  if (plan.is_object()) {
    for (const char* key : {"candidates", "fleets", "results"}) {
      if (auto it = plan.find(key); it != plan.end() && it->is_array()) {
        list = &*it;
        break;
      }
    }
  }
  if (!list->is_array()) return out;
  for (const auto& c : *list) {
    if (!c.is_object()) continue;
    PlanCandidate pc;
    for (const char* key : {"name", "instance_type", "candidate", "id"}) {
      if (auto it = c.find(key); it != c.end() && it->is_string()) {
        pc.name = it->get<std::string>();
        break;
      }
    }
    for (const char* key : {"instances", "instances_needed", "instance_count"}) {
      if (auto it = c.find(key); it != c.end() && it->is_number()) {
        pc.instances = it->get<double>();
        break;
      }
    }
    // `joulebench plan --json` nests the numbers under "results"; simpler files have them at
    // the candidate's top level. Preferred keys first (the study's per-million and per-run
    // figures), then any cost_* / energy_* number.
    const json& results = c.contains("results") && c["results"].is_object() ? c["results"] : c;
    if (!pc.instances) {
      if (auto it = results.find("instances"); it != results.end() && it->is_number()) {
        pc.instances = it->get<double>();
      }
    }
    auto pick = [&](std::initializer_list<const char*> preferred,
                    std::string_view prefix) -> std::optional<std::pair<std::string, double>> {
      for (const json* where : {&results, &c}) {
        for (const char* key : preferred) {
          if (auto it = where->find(key); it != where->end() && it->is_number()) {
            return std::pair<std::string, double>{key, it->get<double>()};
          }
        }
      }
      for (const json* where : {&results, &c}) {
        for (const auto& [key, value] : where->items()) {
          if (value.is_number() && key.rfind(prefix, 0) == 0) {
            return std::pair<std::string, double>{key, value.get<double>()};
          }
        }
      }
      return std::nullopt;
    };
    pc.cost = pick({"cost_usd_per_million_inferences", "cost_usd_per_run", "cost_usd"}, "cost_");
    pc.energy = pick({"energy_kwh_per_hour", "energy_kwh", "energy_kwh_per_run"}, "energy_");
    out.push_back(std::move(pc));
  }
  return out;
}

std::string ChangeAnnotation(double value, double reference, bool first) {
  if (first || !(reference != 0) || !std::isfinite(value)) return Num(value);
  return fmt::format("{} ({:+.0f} %)", Num(value), (value / reference - 1) * 100);
}

std::string ComparisonCharts(const std::vector<run::RunRecord>& runs, const RunComparison& cmp,
                             const std::optional<json>& plan) {
  std::string out;
  for (const auto& q : cmp.quantities) {
    std::string id;
    if (q.name == "throughput") id = "chart-cmp-throughput";
    if (q.name.rfind("energy per ", 0) == 0) id = "chart-cmp-energy";
    if (q.name == "mean power") id = "chart-cmp-power";
    if (id.empty()) continue;
    BarChart chart;
    chart.id = id;
    chart.title = fmt::format("{} per run ({}){}", q.name, q.unit,
                              runs.size() > 1 ? ", change against the first run" : "");
    chart.y_label = fmt::format("{} ({})", q.name, q.unit);
    double reference = q.values.empty() || !q.values[0].value ? NAN : *q.values[0].value;
    for (std::size_t i = 0; i < q.values.size(); ++i) {
      Bar bar;
      bar.label = RunLabel(runs[i]);
      double v = q.values[i].value.value_or(NAN);
      bar.segments.push_back({q.name, v});
      bar.annotation = ChangeAnnotation(v, reference, i == 0);
      chart.bars.push_back(std::move(bar));
    }
    out += RenderBarChart(chart);
  }
  std::vector<PlanCandidate> candidates;
  if (plan) candidates = ReadPlan(*plan);
  auto plan_chart = [&](const std::string& id, const std::string& title, auto pick) {
    BarChart chart;
    chart.id = id;
    chart.title = title;
    double reference = NAN;
    bool first = true;
    for (const auto& c : candidates) {
      auto value = pick(c);
      if (!value) continue;
      chart.y_label = value->first;
      Bar bar;
      bar.label = c.name;
      bar.segments.push_back({value->first, value->second});
      if (first) reference = value->second;
      bar.annotation = ChangeAnnotation(value->second, reference, first);
      first = false;
      chart.bars.push_back(std::move(bar));
    }
    if (chart.bars.empty()) {
      return fmt::format(
          "<figure class=\"chart empty\" id=\"{}\"><figcaption>{}</figcaption><p class=\"note\">"
          "Needs a plan: run <code>joulebench plan ... --json &gt; plan.json</code> with these "
          "runs "
          "as candidates and pass <code>--plan plan.json</code> to <code>joulebench report</code>."
          "</p></figure>\n",
          id, HtmlEscape(title));
    }
    return RenderBarChart(chart);
  };
  out += plan_chart("chart-cmp-instances", "Instances needed for the SLA (from the plan)",
                    [](const PlanCandidate& c) -> std::optional<std::pair<std::string, double>> {
                      if (!c.instances) return std::nullopt;
                      return std::pair<std::string, double>{"instances", *c.instances};
                    });
  out += plan_chart("chart-cmp-cost", "Cost (from the plan)",
                    [](const PlanCandidate& c) { return c.cost; });
  out += plan_chart("chart-cmp-plan-energy", "Energy (from the plan)",
                    [](const PlanCandidate& c) { return c.energy; });
  return out;
}

std::string ProvenanceTable(const std::vector<run::RunRecord>& runs,
                            const std::optional<json>& plan) {
  std::string rows;
  auto row = [&](const std::string& run, const std::string& quantity, const std::string& value,
                 const std::string& unit, const std::string& provenance) {
    auto [kind, by] = SplitProvenance(provenance);
    rows += fmt::format(
        "<tr class=\"{}\"><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td>"
        "<td class=\"kind\">{}</td><td>{}</td></tr>\n",
        HtmlEscape(kind), HtmlEscape(run), HtmlEscape(quantity), HtmlEscape(value),
        HtmlEscape(unit), HtmlEscape(kind), HtmlEscape(by));
  };
  for (const auto& r : runs) {
    std::string label = RunLabel(r);
    for (const auto& m : r.metrics) row(label, m.name, Num(m.value), m.unit, m.provenance);
    for (const auto& e : r.energy) {
      for (const auto& d : e.domains) {
        row(label,
            fmt::format("energy of {} in window '{}'{}", d.domain.name, e.name,
                        d.in_total ? "" : " (inside its parent, not added)"),
            Num(d.joules), "J", d.domain.provenance.Describe());
      }
      if (e.whole_system) {
        row(label, fmt::format("energy of the rest of the system in window '{}'", e.name),
            Num(e.whole_system->rest_joules), "J", RestOfSystemDescription(*e.whole_system));
      }
    }
  }
  if (plan) {
    for (const auto& c : ReadPlan(*plan)) {
      if (c.instances)
        row("plan", c.name + ": instances", Num(*c.instances), "", "given: plan file");
      if (c.cost)
        row("plan", c.name + ": " + c.cost->first, Num(c.cost->second), "", "given: plan file");
      if (c.energy)
        row("plan", c.name + ": " + c.energy->first, Num(c.energy->second), "", "given: plan file");
    }
  }
  return "<table id=\"provenance\"><thead><tr><th>run</th><th>quantity</th><th>value</th>"
         "<th>unit</th><th>kind</th><th>measured by / modelled by / given by</th></tr></thead>"
         "<tbody>\n" +
         rows + "</tbody></table>\n";
}

std::string RunsTable(const std::vector<run::RunRecord>& runs) {
  std::string out =
      "<table id=\"runs\"><thead><tr><th>run</th><th>name</th><th>kind</th><th>workload</th>"
      "<th>shape</th><th>machine</th><th>started (UTC)</th><th>status</th><th>verdict</th></tr>"
      "</thead><tbody>\n";
  for (const auto& r : runs) {
    std::string machine;
    if (auto it = r.fingerprint.find("cpu_model"); it != r.fingerprint.end() && it->is_string()) {
      machine = it->get<std::string>();
    }
    std::string verdict = r.verdict;
    for (const auto& reason : r.verdict_reasons) verdict += "; " + reason;
    out += fmt::format(
        "<tr><td>{}</td><td class=\"run-name\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
        HtmlEscape(r.id), HtmlEscape(r.name), HtmlEscape(r.kind), HtmlEscape(WorkloadOf(r)),
        HtmlEscape(ShapeOf(r)), HtmlEscape(machine),
        r.start_unix_s > 0 ? FormatIsoTime(r.start_unix_s) : "-",
        HtmlEscape(std::string(run::RunStatusName(r.status))), HtmlEscape(verdict));
  }
  return out + "</tbody></table>\n";
}

// Multi-node runs: one row per node (its ranks, status, energy of the measurement, mean power,
// CPU energy and the ranks' modelled shares of it), then the sum, which is the run's energy.
std::string NodesSection(const std::vector<run::RunRecord>& runs) {
  std::string rows;
  BarChart chart;
  chart.id = "chart-nodes";
  chart.title = "Energy of the measurement per node (the run's energy is their sum)";
  chart.y_label = "energy (J)";
  for (const auto& r : runs) {
    if (r.nodes.empty()) continue;
    double sum = 0;
    Bar bar;
    bar.label = fmt::format("run {}", r.id);
    for (const auto& n : r.nodes) {
      const sampling::EnergyReport* m = n.FindEnergy("measurement");
      std::string ranks;
      for (const auto& u : n.ranks) {
        std::string rank = fmt::format("{}: {:.3g} CPU-s", u.rank, u.cpu_s);
        if (u.cpu_share) rank += fmt::format(", {:.1f} %", *u.cpu_share * 100);
        if (u.cpu_joules) rank += ", " + FormatJoules(*u.cpu_joules);
        if (u.status != "complete") rank += " (" + u.status + ")";
        ranks += (ranks.empty() ? "" : "; ") + rank;
      }
      rows += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>\n",
          HtmlEscape(r.id), HtmlEscape(n.node_id), HtmlEscape(n.hostname), HtmlEscape(n.status),
          m ? Num(m->total_joules) : "-", m ? Num(m->mean_watts) : "-",
          n.cpu_joules ? Num(*n.cpu_joules) : "-", HtmlEscape(ranks),
          HtmlEscape(n.attribution.empty() ? "-" : n.attribution));
      if (m) {
        sum += m->total_joules;
        bar.segments.push_back({n.node_id, m->total_joules});
      }
    }
    rows += fmt::format(
        "<tr class=\"sum\"><td>{}</td><td colspan=\"3\">sum of the nodes</td>"
        "<td class=\"num\">{}</td><td colspan=\"4\"></td></tr>\n",
        HtmlEscape(r.id), Num(sum));
    bar.annotation = FormatJoules(sum);
    chart.bars.push_back(std::move(bar));
  }
  if (rows.empty()) return "";
  return "<h2>Nodes</h2>\n<p>A multi-node run has one meter per node, read by the node's lowest "
         "rank; its energy is the sum of its nodes. Each rank's share of its node's CPU energy "
         "is modelled from CPU time.</p>\n"
         "<table id=\"nodes\"><thead><tr><th>run</th><th>node</th><th>host</th><th>status</th>"
         "<th>energy (J)</th><th>mean power (W)</th><th>CPU energy (J)</th>"
         "<th>ranks: CPU time, share of the node's busy CPU, CPU energy</th>"
         "<th>attribution</th></tr></thead><tbody>\n" +
         rows + "</tbody></table>\n" + RenderBarChart(chart);
}

constexpr const char* kStyle = R"css(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:920px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.modelled td.kind{color:#b35c00;font-weight:600}tr.given td.kind{color:#555;font-style:italic}
tr.measured td.kind{color:#26734d}
.flags{background:#fff4e5;border:1px solid #f0b429;padding:8px 12px}
figure.chart{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}
svg{max-width:100%;height:auto;background:#fff}
.grid{stroke:#eee}.axis{stroke:#888}.tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}
.line{fill:none;stroke-width:1.6}.line.dashed{stroke-dasharray:5 3}
.band{opacity:.35}.band-warmup{fill:#f6c48f}.band-measurement{fill:#9fd5a6}.band-baseline{fill:#c9c9c9}.band-gap{fill:#e06666}
.band-label{font-size:10.5px;fill:#444}.reference{stroke:#c00;stroke-dasharray:6 4}
.value{font-size:11px;fill:#222}
ul.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}
ul.legend li{cursor:pointer;user-select:none}ul.legend li.off{opacity:.35}
.swatch{display:inline-block;width:14px;height:4px;margin-right:5px;vertical-align:middle}
.swatch.dashed{background-image:linear-gradient(90deg,transparent 60%,#fff 60%)!important;background-size:6px 4px}
figure.empty .note,p.note{color:#666;font-style:italic}
footer{margin-top:32px;color:#777;font-size:12px}
)css";

// Legend entries toggle their series. Errors are recorded on the root element, so a
// headless browser's dumped DOM shows whether the script ran cleanly.
constexpr const char* kScript = R"js(
(function(){
  var root=document.documentElement;
  window.addEventListener('error',function(e){root.setAttribute('data-script-errors',String(e.message));});
  document.querySelectorAll('figure.chart').forEach(function(fig){
    fig.querySelectorAll('ul.legend li').forEach(function(li){
      li.addEventListener('click',function(){
        var on=li.classList.toggle('off');
        fig.querySelectorAll('svg [data-series="'+li.getAttribute('data-series')+'"]').forEach(function(el){
          el.style.display=on?'none':'';});
      });
    });
  });
  var drawn=0;document.querySelectorAll('figure.chart:not(.empty)').forEach(function(){drawn++;});
  root.setAttribute('data-charts-drawn',String(drawn));
  root.setAttribute('data-ready','1');
})();
)js";

}  // namespace

std::pair<std::vector<double>, std::vector<double>> DownsamplePower(
    const std::vector<double>& time_s, const std::vector<double>& joules, std::size_t max_points,
    std::vector<std::pair<double, double>> gaps) {
  std::vector<double> x, y;
  const std::size_t n = std::min(time_s.size(), joules.size());
  if (n < 2 || max_points == 0) return {x, y};
  // in_gap[i]: the interval from sample i-1 to sample i overlaps a gap.
  std::sort(gaps.begin(), gaps.end());
  std::vector<char> in_gap(n, 0);
  std::size_t good = n - 1;
  if (!gaps.empty()) {
    std::size_t first = 0;
    for (std::size_t i = 1; i < n; ++i) {
      while (first < gaps.size() && gaps[first].second <= time_s[i - 1]) ++first;
      for (std::size_t k = first; k < gaps.size() && gaps[k].first < time_s[i]; ++k) {
        if (gaps[k].second > time_s[i - 1]) {
          in_gap[i] = 1;
          --good;
          break;
        }
      }
    }
  }
  const std::size_t step = std::max<std::size_t>(1, (good + max_points - 1) / max_points);
  x.reserve(good / step + 2 * gaps.size() + 2);
  y.reserve(good / step + 2 * gaps.size() + 2);
  std::size_t i = 0;
  while (i + 1 < n) {
    if (in_gap[i + 1]) {
      // One break per gap: NaN ends the line, and it starts again after the gap.
      if (!y.empty() && !std::isnan(y.back())) {
        x.push_back(time_s[i]);
        y.push_back(NAN);
      }
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j + 1 < n && !in_gap[j + 1] && j - i < step) ++j;
    const double dt = time_s[j] - time_s[i];
    const double dj = joules[j] - joules[i];
    x.push_back((time_s[i] + time_s[j]) / 2);
    y.push_back(dt > 0 && std::isfinite(dj) ? dj / dt : NAN);
    i = j;
  }
  return {x, y};
}

std::string RenderHtmlReport(const std::vector<run::RunRecord>& runs,
                             const HtmlReportOptions& options) {
  std::string title = options.title;
  if (title.empty()) {
    title = "joulebench report:";
    for (std::size_t i = 0; i < runs.size(); ++i) title += (i ? ", run " : " run ") + runs[i].id;
  }
  RunComparison comparison = CompareRuns(runs);
  std::string out;
  out.reserve(1 << 20);
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      // No network: the page may load nothing from anywhere, not even by accident.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">";
  out += "<title>" + HtmlEscape(title) + "</title><style>" + kStyle + "</style></head><body>\n";
  out += "<h1>" + HtmlEscape(title) + "</h1>\n";
  if (!comparison.flags.empty()) {
    out += runs.size() > 1 ? "<div class=\"flags\"><strong>Not like for like:</strong><ul>"
                           : "<div class=\"flags\"><strong>Read with care:</strong><ul>";
    for (const auto& f : comparison.flags) out += "<li>" + HtmlEscape(f) + "</li>";
    out += "</ul></div>\n";
  }
  out += "<h2>Runs</h2>\n" + RunsTable(runs);
  for (const auto& r : runs) {
    if (r.steady_state_at_s) {
      out +=
          fmt::format("<p>Run {}: steady state reached after {} ({}).</p>\n", HtmlEscape(r.id),
                      FormatDuration(*r.steady_state_at_s), HtmlEscape(r.steady_state_criterion));
    }
    for (const auto& w : r.warnings) {
      out += fmt::format("<p class=\"note\">Run {}: {}</p>\n", HtmlEscape(r.id), HtmlEscape(w));
    }
  }
  out += "<h2>Power and energy</h2>\n";
  out += PowerChart(runs, options.max_points_per_series);
  out += EnergyChart(runs);
  out += NodesSection(runs);
  out += "<h2>Throughput and latency</h2>\n";
  out += WindowCharts(runs);
  out += PeakChart(runs);
  out += PowerLoadChart(runs);
  out += RenderTuneSection(runs);
  out += "<h2>Comparison</h2>\n";
  out += ComparisonCharts(runs, comparison, options.plan);
  out += "<h2>Provenance of every number</h2>\n";
  out +=
      "<p>measured: read from a sensor (named); modelled: estimated by a model (named, with its "
      "coefficients); given: taken from an input such as a plan or a published study.</p>\n";
  out += ProvenanceTable(runs, options.plan);
  out += "<footer>" +
         HtmlEscape(options.generator.empty() ? "generated by joulebench" : options.generator) +
         ". Charts draw at most " + std::to_string(options.max_points_per_series) +
         " points per series (bucket averages); the stored runs keep every sample.</footer>\n";
  out += std::string("<script>") + kScript + "</script>\n</body></html>\n";
  return out;
}

}  // namespace joulebench::report
