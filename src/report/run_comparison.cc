#include "joulebench/report/run_comparison.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace joulebench::report {
namespace {

// Config keys that decide how much work one unit is; runs differing in them do not compare.
constexpr const char* kShapeKeys[] = {"seq_len", "sequence_length", "batch",     "batch_size",
                                      "dtype",   "scenario",        "layers",    "hidden",
                                      "device",  "latency_bound_s", "image_size"};

const sampling::EnergyReport* MeasurementReport(const run::RunRecord& r) {
  for (const auto& e : r.energy) {
    if (e.name == "measurement") return &e;
  }
  // Else the run's last own window; never the idle baseline or a tune run's default
  // configuration, whose figures are not the run's.
  for (auto it = r.energy.rbegin(); it != r.energy.rend(); ++it) {
    if (it->name != "baseline" && it->name != "default configuration") return &*it;
  }
  return nullptr;
}

std::string EnergyProvenance(const sampling::EnergyReport& e) {
  std::string by;
  for (const auto& d : e.domains) {
    if (!d.in_total) continue;
    if (!by.empty()) by += "; ";
    by += d.domain.provenance.Describe();
  }
  return by.empty() ? "measured: energy report" : by;
}

ComparedValue FromMetric(const run::RunRecord& r, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (const run::Metric* m = r.FindMetric(name)) return {m->value, m->provenance};
  }
  return {};
}

// The first "energy_per_*" metric: joules per inference, per sequence, per unit of progress.
ComparedValue EnergyPerUnit(const run::RunRecord& r, std::string& unit_name) {
  for (const auto& m : r.metrics) {
    if (m.name.rfind("energy_per_", 0) == 0) {
      if (unit_name.empty()) unit_name = m.name.substr(11);
      return {m.value, m.provenance};
    }
  }
  return {};
}

std::string Num(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return "-";
  return fmt::format("{:.4g}", *v);
}

std::string Clean(std::string_view s, std::size_t width) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (out.size() > width) out = out.substr(0, width - 1) + "~";
  return out;
}

}  // namespace

std::optional<double> ComparedQuantity::Ratio(std::size_t run) const {
  if (values.empty() || run >= values.size()) return std::nullopt;
  const auto& base = values[0].value;
  const auto& v = values[run].value;
  if (!base || !v || *base == 0 || !std::isfinite(*base) || !std::isfinite(*v)) return std::nullopt;
  return *v / *base;
}

std::optional<double> ComparedQuantity::ChangePercent(std::size_t run) const {
  auto ratio = Ratio(run);
  if (!ratio) return std::nullopt;
  return (*ratio - 1) * 100;
}

std::string WorkloadOf(const run::RunRecord& r) {
  for (const char* key : {"workload", "model", "command"}) {
    auto it = r.config.find(key);
    if (it == r.config.end()) continue;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_array()) {
      std::string joined;
      for (const auto& part : *it) {
        if (!joined.empty()) joined += ' ';
        joined += part.is_string() ? part.get<std::string>() : run::DumpJson(part);
      }
      return joined;
    }
    return run::DumpJson(*it);
  }
  return "";
}

std::string ShapeOf(const run::RunRecord& r) {
  std::string shape;
  for (const char* key : kShapeKeys) {
    auto it = r.config.find(key);
    if (it == r.config.end()) continue;
    if (!shape.empty()) shape += ' ';
    shape +=
        fmt::format("{}={}", key, it->is_string() ? it->get<std::string>() : run::DumpJson(*it));
  }
  return shape;
}

RunComparison CompareRuns(const std::vector<run::RunRecord>& runs) {
  RunComparison c;
  for (const auto& r : runs) {
    ComparedRun cr;
    cr.id = r.id;
    cr.name = r.name;
    cr.kind = r.kind;
    cr.workload = WorkloadOf(r);
    cr.shape = ShapeOf(r);
    if (auto it = r.fingerprint.find("cpu_model"); it != r.fingerprint.end() && it->is_string()) {
      cr.machine = it->get<std::string>();
    }
    if (auto it = r.fingerprint.find("gpus"); it != r.fingerprint.end() && it->is_array()) {
      for (const auto& g : *it) {
        if (g.is_string()) cr.machine += " + " + g.get<std::string>();
      }
    }
    cr.status = std::string(run::RunStatusName(r.status));
    cr.verdict = r.verdict;
    c.runs.push_back(std::move(cr));
  }
  std::string unit_of_work;
  ComparedQuantity throughput{"throughput", "1/s", true, {}};
  ComparedQuantity p50{"p50 latency", "s", false, {}};
  ComparedQuantity p99{"p99 latency", "s", false, {}};
  ComparedQuantity energy_per_unit{"energy per unit", "J", false, {}};
  ComparedQuantity mean_power{"mean power", "W", false, {}};
  ComparedQuantity energy{"energy (measurement window)", "J", false, {}};
  ComparedQuantity attributable{"attributable energy", "J", false, {}};
  for (const auto& r : runs) {
    ComparedValue t = FromMetric(r, {"throughput", "throughput_per_s", "sequences_per_s"});
    if (const run::Metric* m = r.FindMetric("throughput"); m != nullptr && !m->unit.empty()) {
      throughput.unit = m->unit;
    }
    throughput.values.push_back(t);
    p50.values.push_back(FromMetric(r, {"p50_latency", "latency_p50"}));
    p99.values.push_back(FromMetric(r, {"p99_latency", "latency_p99"}));
    energy_per_unit.values.push_back(EnergyPerUnit(r, unit_of_work));
    const sampling::EnergyReport* e = MeasurementReport(r);
    ComparedValue power = FromMetric(r, {"mean_power", "mean_watts"});
    if (!power.value && e != nullptr) power = {e->mean_watts, EnergyProvenance(*e)};
    mean_power.values.push_back(power);
    energy.values.push_back(e ? ComparedValue{e->total_joules, EnergyProvenance(*e)}
                              : ComparedValue{});
    attributable.values.push_back(
        e && e->total_attributable_joules
            ? ComparedValue{*e->total_attributable_joules, EnergyProvenance(*e)}
            : ComparedValue{});
  }
  if (!unit_of_work.empty()) energy_per_unit.name = "energy per " + unit_of_work;
  for (auto* q : {&throughput, &p50, &p99, &energy_per_unit, &mean_power, &energy, &attributable}) {
    bool any = false;
    for (const auto& v : q->values) any = any || v.value.has_value();
    if (any) c.quantities.push_back(std::move(*q));
  }

  if (runs.size() > 1) {
    const auto& first = c.runs[0];
    for (std::size_t i = 1; i < c.runs.size(); ++i) {
      const auto& other = c.runs[i];
      if (other.kind != first.kind) {
        c.flags.push_back(fmt::format("runs {} and {} are of different kinds ({} vs {})", first.id,
                                      other.id, first.kind, other.kind));
      }
      if (other.workload != first.workload) {
        c.flags.push_back(
            fmt::format("runs {} and {} measure different workloads ('{}' vs '{}'): their ratios "
                        "compare unlike "
                        "work",
                        first.id, other.id, Clean(first.workload, 60), Clean(other.workload, 60)));
      }
      if (other.shape != first.shape) {
        c.flags.push_back(fmt::format("runs {} and {} use different shapes ('{}' vs '{}')",
                                      first.id, other.id, first.shape, other.shape));
      }
      const std::size_t first_nodes = std::max<std::size_t>(1, runs[0].nodes.size());
      const std::size_t other_nodes = std::max<std::size_t>(1, runs[i].nodes.size());
      if (first_nodes != other_nodes) {
        c.flags.push_back(fmt::format(
            "runs {} and {} ran on {} and {} node(s): their energy and throughput are of the whole "
            "job",
            first.id, other.id, first_nodes, other_nodes));
      }
    }
  }
  for (const auto& r : c.runs) {
    if (r.status != "complete") {
      c.flags.push_back(
          fmt::format("run {} is {}: its numbers cover only part of the run", r.id, r.status));
    }
    if (r.verdict == "INVALID") {
      c.flags.push_back(
          fmt::format("run {} is INVALID (see 'joulebench runs show {}')", r.id, r.id));
    }
  }
  // A sensor that failed mid-run: that run's energy total leaves out or holds only part of a
  // domain (docs/reliability.md).
  for (const auto& r : runs) {
    const sampling::EnergyReport* e = MeasurementReport(r);
    if (e == nullptr || e->total_complete) continue;
    std::string what;
    for (const auto& name : e->excluded_domains) {
      what += (what.empty() ? "" : ", ") + name + " (lost)";
    }
    for (const auto& name : e->partial_domains) {
      what += (what.empty() ? "" : ", ") + name + " (measured over part of the window)";
    }
    c.flags.push_back(
        fmt::format("run {}'s energy total is incomplete: {}; its energy figures are a lower bound",
                    r.id, what));
  }
  return c;
}

std::string FormatComparison(const RunComparison& c) {
  std::string out;
  for (const auto& flag : c.flags) out += "NOT LIKE FOR LIKE: " + flag + "\n";
  constexpr int kLabel = 30;
  constexpr int kColumn = 22;
  auto row = [&](std::string_view label, const std::vector<std::string>& cells) {
    std::string line = fmt::format("{:<{}}", Clean(label, kLabel), kLabel);
    for (const auto& cell : cells) line += fmt::format(" {:>{}}", Clean(cell, kColumn), kColumn);
    return line + "\n";
  };
  std::vector<std::string> ids, names, workloads, shapes, machines, statuses;
  for (const auto& r : c.runs) {
    ids.push_back("run " + r.id);
    names.push_back(r.name.empty() ? "-" : r.name);
    workloads.push_back(r.workload.empty() ? "-" : r.workload);
    shapes.push_back(r.shape.empty() ? "-" : r.shape);
    machines.push_back(r.machine.empty() ? "-" : r.machine);
    statuses.push_back(r.status + (r.verdict.empty() ? "" : " " + r.verdict));
  }
  out += row("", ids);
  out += row("name", names);
  out += row("workload", workloads);
  out += row("shape", shapes);
  out += row("machine", machines);
  out += row("status", statuses);
  for (const auto& q : c.quantities) {
    std::vector<std::string> cells;
    for (std::size_t i = 0; i < q.values.size(); ++i) {
      std::string cell = Num(q.values[i].value);
      if (i > 0) {
        auto ratio = q.Ratio(i);
        auto change = q.ChangePercent(i);
        if (ratio) cell += fmt::format(" ({:.2f}x {:+.0f}%)", *ratio, *change);
      }
      cells.push_back(cell);
    }
    out += row(fmt::format("{} [{}]", q.name, q.unit), cells);
  }
  if (c.quantities.empty()) out += "(no comparable quantities stored in these runs)\n";
  out += "Ratios and changes are against the first run. Provenance: joulebench compare --json.\n";
  return out;
}

nlohmann::json ToJson(const RunComparison& c) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : c.runs) {
    runs.push_back({{"id", r.id},
                    {"name", r.name},
                    {"kind", r.kind},
                    {"workload", r.workload},
                    {"shape", r.shape},
                    {"machine", r.machine},
                    {"status", r.status},
                    {"verdict", r.verdict}});
  }
  auto num = [](std::optional<double> v) {
    return v && std::isfinite(*v) ? nlohmann::json(*v) : nlohmann::json();
  };
  nlohmann::json quantities = nlohmann::json::array();
  for (const auto& q : c.quantities) {
    nlohmann::json values = nlohmann::json::array();
    for (std::size_t i = 0; i < q.values.size(); ++i) {
      values.push_back({{"run", c.runs[i].id},
                        {"value", num(q.values[i].value)},
                        {"provenance", q.values[i].provenance},
                        {"ratio", num(q.Ratio(i))},
                        {"change_percent", num(q.ChangePercent(i))}});
    }
    quantities.push_back({{"name", q.name},
                          {"unit", q.unit},
                          {"higher_is_better", q.higher_is_better},
                          {"values", values}});
  }
  return {{"runs", runs},
          {"quantities", quantities},
          {"comparable", c.comparable()},
          {"flags", c.flags}};
}

}  // namespace joulebench::report
