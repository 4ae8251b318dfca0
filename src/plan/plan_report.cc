#include "joulebench/plan/plan_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "plan/text_table.h"

namespace joulebench::plan {
namespace {

using nlohmann::json;

// 1234567.8 -> "1,234,568" (decimals 0) or "1,234,567.80" (decimals 2).
std::string Grouped(double value, int decimals) {
  if (!std::isfinite(value)) return "n/a";
  std::string text = fmt::format("{:.{}f}", std::fabs(value), decimals);
  const auto dot = text.find('.');
  std::string whole = text.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : text.substr(dot);
  std::string grouped;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped += ',';
    grouped += whole[i];
  }
  return (value < 0 && text.find_first_not_of("0.,") != std::string::npos ? "-" : "") + grouped +
         fraction;
}

// Three significant digits at least, no exponent for everyday magnitudes.
std::string Sig(double value) {
  if (!std::isfinite(value)) return "n/a";
  const double a = std::fabs(value);
  if (a >= 1000) return Grouped(value, 0);
  if (a >= 100) return fmt::format("{:.1f}", value);
  if (a >= 10) return fmt::format("{:.2f}", value);
  if (a >= 0.01 || a == 0) return fmt::format("{:.3f}", value);
  return fmt::format("{:.3g}", value);
}

// Prices as published: "$32.7726/h", not rounded.
std::string PriceText(double usd_per_hour) { return fmt::format("${}/h", usd_per_hour); }

std::string Money(std::optional<double> usd) {
  if (!usd) return "-";
  return "$" + Grouped(*usd, 2);
}

// "2.93x", "0.0024x" (never "0.00x": a small ratio keeps two significant digits); "-29 %",
// "+41,402 %", and "-0.4 %" for a change under one per cent (never "-0 %").
std::string ChangeText(const Change& c) {
  if (!std::isfinite(c.ratio)) return "n/a";
  if (c.shown_as_ratio) {
    if (c.ratio >= 0.1 || c.ratio == 0) return fmt::format("{:.2f}x", c.ratio);
    return fmt::format("{:.2g}x", c.ratio);
  }
  const double p = c.change_percent;
  const std::string sign = p > 0 ? "+" : (p < 0 ? "-" : "");
  if (std::fabs(p) >= 1000) return sign + Grouped(std::fabs(p), 0) + " %";
  if (std::fabs(p) < 0.95 && p != 0) return fmt::format("{:+.1f} %", p);
  return fmt::format("{:+.0f} %", p);
}

json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json Optional(const std::optional<double>& v) { return v ? Number(*v) : json(nullptr); }
json ToJson(const Sourced& s) {
  return json{{"value", Number(s.value)}, {"provenance", s.provenance}};
}
json Optional(const std::optional<Sourced>& s) { return s ? ToJson(*s) : json(nullptr); }

json CurveJson(const PowerCurve& curve) {
  json points = json::array();
  for (const auto& p : curve.points()) {
    points.push_back(json{{"load_fraction", Number(p.load_fraction)}, {"watts", Number(p.watts)}});
  }
  return json{{"kind", std::string(CurveKindName(curve.kind()))},
              {"provenance", curve.provenance()},
              {"adjusted_to_monotone", curve.adjusted_to_monotone()},
              {"points", std::move(points)}};
}

json ComparisonsJson(const std::vector<Comparison>& comparisons) {
  json out = json::array();
  for (const auto& c : comparisons) {
    json changes = json::array();
    for (const auto& ch : c.changes) {
      changes.push_back(json{{"metric", ch.metric},
                             {"unit", ch.unit},
                             {"candidate_value", Number(ch.candidate_value)},
                             {"baseline_value", Number(ch.baseline_value)},
                             {"ratio", Number(ch.ratio)},
                             {"change_percent", Number(ch.change_percent)}});
    }
    out.push_back(json{
        {"candidate", c.candidate}, {"baseline", c.baseline}, {"changes", std::move(changes)}});
  }
  return out;
}

json CarbonJson(const CarbonInputs& carbon) {
  return json{{"region", carbon.region},
              {"grid_g_co2e_per_kwh", ToJson(carbon.grid_g_co2e_per_kwh)},
              {"pue", ToJson(carbon.pue)}};
}

const Change* FindChange(const Comparison& comparison, const std::string& metric) {
  for (const auto& ch : comparison.changes) {
    if (ch.metric == metric) return &ch;
  }
  return nullptr;
}

const Change* FindChange(const std::vector<Comparison>& comparisons, const std::string& candidate,
                         const std::string& metric) {
  for (const auto& c : comparisons) {
    if (c.candidate == candidate) return FindChange(c, metric);
  }
  return nullptr;
}

// Every metric any comparison has, each once, in the order the comparisons list them: a
// metric one candidate lacks (no price, so no cost) is placed after the metric that precedes
// it where it does appear.
std::vector<std::string> MetricRows(const std::vector<Comparison>& comparisons) {
  std::vector<std::string> rows;
  for (const auto& c : comparisons) {
    auto at = rows.begin();
    for (const auto& ch : c.changes) {
      auto found = std::find(rows.begin(), rows.end(), ch.metric);
      at = found != rows.end() ? found + 1 : rows.insert(at, ch.metric) + 1;
    }
  }
  return rows;
}

// One row per metric, each cell looked up by candidate and metric name ("-" where the
// candidate lacks that metric): never by position, which would print one metric's change
// under another's label when candidates have different metrics.
std::string ComparisonTable(const std::vector<Comparison>& comparisons,
                            const std::string& baseline) {
  if (comparisons.empty()) return "";
  TextTable t;
  std::vector<std::string> header{fmt::format("change against {} (1x)", baseline)};
  for (const auto& c : comparisons) header.push_back(c.candidate);
  t.AddRow(header);
  for (const auto& metric : MetricRows(comparisons)) {
    std::vector<std::string> cells{metric};
    for (const auto& c : comparisons) {
      const Change* ch = FindChange(c, metric);
      cells.push_back(ch != nullptr ? ChangeText(*ch) : "-");
    }
    t.AddRow(cells);
  }
  return t.Render();
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvNumber(double v) { return std::isfinite(v) ? fmt::format("{}", v) : ""; }
std::string CsvNumber(const std::optional<double>& v) { return v ? CsvNumber(*v) : ""; }

std::string GridLine(const CarbonInputs& carbon) {
  return fmt::format("  grid intensity: {} gCO2e/kWh{} - {}\n  PUE: {} - {}\n",
                     Sig(carbon.grid_g_co2e_per_kwh.value),
                     carbon.region.empty() ? "" : fmt::format(" ({})", carbon.region),
                     carbon.grid_g_co2e_per_kwh.provenance, carbon.pue.value,
                     carbon.pue.provenance);
}

}  // namespace

// ---------------------------------------------------------------------------------- inference

// A table with one column per candidate (items expose .candidate), the baseline marked
// "(1x)", and its first row, the machine type.
template <typename Item>
class CandidateTable {
 public:
  CandidateTable(const std::vector<Item>& items, std::size_t baseline_index) : items_(items) {
    std::vector<std::string> header{"per candidate"};
    for (std::size_t i = 0; i < items.size(); ++i) {
      header.push_back(items[i].candidate.name + (i == baseline_index ? " (1x)" : ""));
    }
    table_.AddRow(header);
    Row("machine type", [](const Item& x) {
      return x.candidate.machine_type.empty() ? std::string("-") : x.candidate.machine_type;
    });
  }
  template <typename Cell>
  void Row(std::string label, Cell cell) {
    std::vector<std::string> cells{std::move(label)};
    for (const auto& item : items_) cells.push_back(cell(item));
    table_.AddRow(cells);
  }
  std::string Render() const { return table_.Render(); }

 private:
  const std::vector<Item>& items_;
  TextTable table_;
};

// The candidate's price and where it comes from, or why costs are left out.
template <typename Candidate>
std::string PriceLine(const Candidate& c) {
  if (!c.price_usd_per_hour) return fmt::format("    costs left out: {}\n", c.price_missing_reason);
  return fmt::format("    price {} - {}\n", PriceText(c.price_usd_per_hour->value),
                     c.price_usd_per_hour->provenance);
}

std::string PlanFooter(const std::vector<std::string>& notes) {
  std::string out;
  for (const auto& n : notes) out += fmt::format("  note: {}\n", n);
  out += "  Energy is the machines' own (IT) energy; CO2e = energy x PUE x grid intensity.\n";
  return out;
}

std::string RenderTable(const InferencePlan& plan) {
  const auto& r = plan.request;
  std::string out = fmt::format(
      "Inference fleet for {}/h ({}/s) at a target utilisation of {} % per instance{}{}\n\n",
      Grouped(r.rate_per_s * 3600, 0), Sig(r.rate_per_s), Sig(r.target_utilisation * 100),
      r.latency_bound_s ? fmt::format(", p99 latency bound {} s", Sig(*r.latency_bound_s)) : "",
      r.carbon.region.empty() ? "" : fmt::format(", region {}", r.carbon.region));
  CandidateTable t(plan.fleets, plan.baseline_index);
  auto row = [&](std::string label, auto cell) { t.Row(std::move(label), cell); };
  row("throughput per instance [1/s]",
      [](const InferenceFleet& f) { return Sig(f.candidate.throughput_per_s.value); });
  row("instances", [](const InferenceFleet& f) { return fmt::format("{}", f.instances); });
  row("load per instance [% of peak]",
      [](const InferenceFleet& f) { return fmt::format("{:.1f}", f.load_fraction * 100); });
  row("power per instance [W]", [](const InferenceFleet& f) { return Sig(f.watts_per_instance); });
  row("power curve", [](const InferenceFleet& f) {
    // A modelled figure names its model next to the number (house rule).
    const CurveKind kind = f.candidate.power.kind();
    return kind == CurveKind::kModelled ? std::string("modelled (CCF)")
                                        : std::string(CurveKindName(kind));
  });
  row("fleet power [kW]", [](const InferenceFleet& f) { return Sig(f.fleet_watts / 1000); });
  row("energy [kWh/h]", [](const InferenceFleet& f) { return Sig(f.energy_kwh_per_hour); });
  row("energy [kWh/day]", [](const InferenceFleet& f) { return Sig(f.energy_kwh_per_day); });
  row("energy [MWh/year]",
      [](const InferenceFleet& f) { return Sig(f.energy_kwh_per_year / 1000); });
  row("energy per inference [J]",
      [](const InferenceFleet& f) { return Sig(f.joules_per_inference); });
  row("cost [USD/h]", [](const InferenceFleet& f) { return Money(f.cost_usd_per_hour); });
  row("cost per million inferences [USD]",
      [](const InferenceFleet& f) { return Money(f.cost_usd_per_million); });
  row("CO2e [kg/h]", [](const InferenceFleet& f) { return Sig(f.co2e_kg_per_hour); });
  row("CO2e [t/year]", [](const InferenceFleet& f) { return Sig(f.co2e_t_per_year); });
  if (r.latency_bound_s) {
    row("meets the latency bound", [](const InferenceFleet& f) {
      return f.meets_latency_bound ? std::string(*f.meets_latency_bound ? "yes" : "NO")
                                   : std::string("unknown");
    });
  }
  out += t.Render();
  out += "\n" + ComparisonTable(plan.comparisons, plan.fleets[plan.baseline_index].candidate.name);
  out += "\nInputs and where they come from\n";
  out += GridLine(r.carbon);
  for (const auto& f : plan.fleets) {
    const auto& c = f.candidate;
    out += fmt::format("  {} ({}):\n", c.name, c.origin);
    out += fmt::format("    throughput {}/s - {}\n", Sig(c.throughput_per_s.value),
                       c.throughput_per_s.provenance);
    out += fmt::format("    power: {}, {} W at peak - {}\n", CurveKindName(c.power.kind()),
                       Sig(c.power.PeakWatts()), c.power.provenance());
    out += PriceLine(c);
    if (c.latency_p99_s) {
      out += fmt::format("    p99 latency {} s - {}\n", Sig(c.latency_p99_s->value),
                         c.latency_p99_s->provenance);
    }
    for (const auto& n : c.notes) out += fmt::format("    note: {}\n", n);
  }
  out += PlanFooter(plan.notes);
  return out;
}

nlohmann::json ToJson(const InferencePlan& plan) {
  const auto& r = plan.request;
  json candidates = json::array();
  for (std::size_t i = 0; i < plan.fleets.size(); ++i) {
    const auto& f = plan.fleets[i];
    const auto& c = f.candidate;
    candidates.push_back(
        json{{"name", c.name},
             {"machine_type", c.machine_type},
             {"origin", c.origin},
             {"baseline", i == plan.baseline_index},
             {"inputs",
              {{"throughput_per_s", ToJson(c.throughput_per_s)},
               {"power_curve", CurveJson(c.power)},
               {"price_usd_per_hour", Optional(c.price_usd_per_hour)},
               {"price_missing_reason", c.price_missing_reason},
               {"latency_p99_s", Optional(c.latency_p99_s)}}},
             {"results",
              {{"instances", f.instances},
               {"load_fraction", Number(f.load_fraction)},
               {"watts_per_instance", Number(f.watts_per_instance)},
               {"fleet_watts", Number(f.fleet_watts)},
               {"energy_kwh_per_hour", Number(f.energy_kwh_per_hour)},
               {"energy_kwh_per_day", Number(f.energy_kwh_per_day)},
               {"energy_kwh_per_year", Number(f.energy_kwh_per_year)},
               {"facility_energy_kwh_per_hour", Number(f.facility_kwh_per_hour)},
               {"joules_per_inference", Number(f.joules_per_inference)},
               {"cost_usd_per_hour", Optional(f.cost_usd_per_hour)},
               {"cost_usd_per_million_inferences", Optional(f.cost_usd_per_million)},
               {"co2e_kg_per_hour", Number(f.co2e_kg_per_hour)},
               {"co2e_t_per_year", Number(f.co2e_t_per_year)},
               {"meets_latency_bound",
                f.meets_latency_bound ? json(*f.meets_latency_bound) : json(nullptr)}}},
             {"notes", c.notes}});
  }
  return json{{"schema", kInferencePlanSchema},
              {"request",
               {{"rate_per_s", Number(r.rate_per_s)},
                {"target_utilisation", Number(r.target_utilisation)},
                {"latency_bound_s", Optional(r.latency_bound_s)},
                {"hours_per_year", kHoursPerYear},
                {"carbon", CarbonJson(r.carbon)},
                {"baseline", plan.fleets[plan.baseline_index].candidate.name}}},
              {"candidates", std::move(candidates)},
              {"comparisons", ComparisonsJson(plan.comparisons)},
              {"notes", plan.notes}};
}

std::string ToCsv(const InferencePlan& plan) {
  std::string out =
      "name,machine_type,baseline,throughput_per_s,instances,load_fraction,watts_per_instance,"
      "power_curve,fleet_watts,energy_kwh_per_hour,energy_kwh_per_year,joules_per_inference,"
      "cost_usd_per_hour,cost_usd_per_million_inferences,co2e_kg_per_hour,co2e_t_per_year,"
      "throughput_ratio,instances_change_percent,energy_change_percent,"
      "cost_per_million_change_percent,throughput_provenance,power_provenance,price_provenance\n";
  for (std::size_t i = 0; i < plan.fleets.size(); ++i) {
    const auto& f = plan.fleets[i];
    const auto& c = f.candidate;
    auto change = [&](const std::string& metric, bool ratio) -> std::string {
      const Change* ch = FindChange(plan.comparisons, c.name, metric);
      if (ch == nullptr) return "";
      return CsvNumber(ratio ? ch->ratio : ch->change_percent);
    };
    std::vector<std::string> cells{
        CsvField(c.name),
        CsvField(c.machine_type),
        i == plan.baseline_index ? "true" : "false",
        CsvNumber(c.throughput_per_s.value),
        fmt::format("{}", f.instances),
        CsvNumber(f.load_fraction),
        CsvNumber(f.watts_per_instance),
        CsvField(std::string(CurveKindName(c.power.kind()))),
        CsvNumber(f.fleet_watts),
        CsvNumber(f.energy_kwh_per_hour),
        CsvNumber(f.energy_kwh_per_year),
        CsvNumber(f.joules_per_inference),
        CsvNumber(f.cost_usd_per_hour),
        CsvNumber(f.cost_usd_per_million),
        CsvNumber(f.co2e_kg_per_hour),
        CsvNumber(f.co2e_t_per_year),
        change("throughput per instance", true),
        change("instances", false),
        change("energy", false),
        change("cost per million inferences", false),
        CsvField(c.throughput_per_s.provenance),
        CsvField(c.power.provenance()),
        CsvField(c.price_usd_per_hour ? c.price_usd_per_hour->provenance : c.price_missing_reason)};
    out += fmt::format("{}\n", fmt::join(cells, ","));
  }
  return out;
}

// ----------------------------------------------------------------------------------- training

std::string RenderTable(const TrainingPlan& plan,
                        const std::optional<TrainingPrediction>& prediction) {
  const auto& r = plan.request;
  std::string out = fmt::format(
      "Training {} sequences on {} instances per candidate, scaling efficiency {}{}\n\n",
      Grouped(r.total_sequences, 0), r.instances, r.scaling_efficiency.value,
      r.carbon.region.empty() ? "" : fmt::format(", region {}", r.carbon.region));
  CandidateTable t(plan.runs, plan.baseline_index);
  auto row = [&](std::string label, auto cell) { t.Row(std::move(label), cell); };
  row("sequences per instance [1/s]",
      [](const TrainingRun& x) { return Sig(x.candidate.sequences_per_s.value); });
  row("sequences per instance [1/h]",
      [](const TrainingRun& x) { return Grouped(x.sequences_per_hour_per_instance, 0); });
  row("power per instance [W]", [](const TrainingRun& x) { return Sig(x.candidate.watts.value); });
  row("cluster power [kW]", [](const TrainingRun& x) { return Sig(x.cluster_watts / 1000); });
  row("time to train [h]", [](const TrainingRun& x) { return Sig(x.time_s / 3600); });
  row("energy [kWh]", [](const TrainingRun& x) { return Sig(x.energy_kwh); });
  row("cost per training run [USD]", [](const TrainingRun& x) { return Money(x.cost_usd); });
  row("CO2e [kg]", [](const TrainingRun& x) { return Sig(x.co2e_kg); });
  out += t.Render();
  out += "\n" + ComparisonTable(plan.comparisons, plan.runs[plan.baseline_index].candidate.name);
  out += "\nInputs and where they come from\n";
  out += fmt::format("  scaling efficiency {} - {}\n", r.scaling_efficiency.value,
                     r.scaling_efficiency.provenance);
  out += GridLine(r.carbon);
  for (const auto& run : plan.runs) {
    const auto& c = run.candidate;
    out += fmt::format("  {} ({}):\n", c.name, c.origin);
    out += fmt::format("    throughput {} sequences/s - {}\n", Sig(c.sequences_per_s.value),
                       c.sequences_per_s.provenance);
    out += fmt::format("    power {} W - {}\n", Sig(c.watts.value), c.watts.provenance);
    out += PriceLine(c);
    for (const auto& n : c.notes) out += fmt::format("    note: {}\n", n);
  }
  out += PlanFooter(plan.notes);

  if (prediction) {
    const auto& p = *prediction;
    out += fmt::format(
        "\nPrediction from the first {:.0f} % of {} ({} windows, 95 % interval from batch "
        "means over {} batches)\n",
        p.observed_fraction * 100, p.run_label, p.run.intervals_observed, p.run.batches);
    TextTable pt;
    pt.AddRow({"", "predicted", "95 % interval", "actual", "error"});
    const auto& d = p.run.duration_s;
    const auto& j = p.run.joules;
    pt.AddRow({"this run: duration [s]", Sig(d.value),
               fmt::format("{} - {}", Sig(d.low), Sig(d.high)),
               p.check ? Sig(p.check->actual_duration_s) : "-",
               p.check ? fmt::format("{:+.1f} %{}", p.check->duration_error_percent,
                                     p.check->duration_within_interval ? "" : " (outside)")
                       : "-"});
    pt.AddRow({"this run: energy [kJ]", Sig(j.value / 1e3),
               fmt::format("{} - {}", Sig(j.low / 1e3), Sig(j.high / 1e3)),
               p.check ? Sig(p.check->actual_joules / 1e3) : "-",
               p.check ? fmt::format("{:+.1f} %{}", p.check->joules_error_percent,
                                     p.check->joules_within_interval ? "" : " (outside)")
                       : "-"});
    const auto& cd = p.cluster.duration_s;
    const auto& cj = p.cluster.joules;
    pt.AddRow({fmt::format("{} sequences on {} of this machine: time [h]",
                           Grouped(r.total_sequences, 0), r.instances),
               Sig(cd.value / 3600),
               fmt::format("{} - {}", Sig(cd.low / 3600), Sig(cd.high / 3600)), "-", "-"});
    pt.AddRow({"  energy [kWh]", Sig(cj.value / 3.6e6),
               fmt::format("{} - {}", Sig(cj.low / 3.6e6), Sig(cj.high / 3.6e6)), "-", "-"});
    out += pt.Render();
    if (!p.check) out += "  (the run did not complete, so there is nothing to check against)\n";
  }
  return out;
}

namespace {

json EstimateJson(const Estimate& e) {
  return json{{"value", Number(e.value)}, {"low", Number(e.low)}, {"high", Number(e.high)}};
}

json PredictionJson(const RunPrediction& p) {
  return json{{"intervals_observed", p.intervals_observed},
              {"batches", p.batches},
              {"observed_duration_s", Number(p.observed_duration_s)},
              {"observed_work", Number(p.observed_work)},
              {"observed_joules", Number(p.observed_joules)},
              {"target_work", Number(p.target_work)},
              {"confidence", p.confidence},
              {"work_per_s", EstimateJson(p.work_per_s)},
              {"watts", EstimateJson(p.watts)},
              {"duration_s", EstimateJson(p.duration_s)},
              {"joules", EstimateJson(p.joules)}};
}

}  // namespace

nlohmann::json ToJson(const TrainingPlan& plan,
                      const std::optional<TrainingPrediction>& prediction) {
  const auto& r = plan.request;
  json candidates = json::array();
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const auto& x = plan.runs[i];
    const auto& c = x.candidate;
    candidates.push_back(
        json{{"name", c.name},
             {"machine_type", c.machine_type},
             {"origin", c.origin},
             {"baseline", i == plan.baseline_index},
             {"inputs",
              {{"sequences_per_s", ToJson(c.sequences_per_s)},
               {"watts", ToJson(c.watts)},
               {"price_usd_per_hour", Optional(c.price_usd_per_hour)},
               {"price_missing_reason", c.price_missing_reason}}},
             {"results",
              {{"cluster_sequences_per_s", Number(x.cluster_sequences_per_s)},
               {"sequences_per_hour_per_instance", Number(x.sequences_per_hour_per_instance)},
               {"time_s", Number(x.time_s)},
               {"cluster_watts", Number(x.cluster_watts)},
               {"energy_kwh", Number(x.energy_kwh)},
               {"facility_energy_kwh", Number(x.facility_energy_kwh)},
               {"cost_usd", Optional(x.cost_usd)},
               {"co2e_kg", Number(x.co2e_kg)}}},
             {"notes", c.notes}});
  }
  json out{{"schema", kTrainingPlanSchema},
           {"request",
            {{"total_sequences", Number(r.total_sequences)},
             {"instances", r.instances},
             {"scaling_efficiency", ToJson(r.scaling_efficiency)},
             {"carbon", CarbonJson(r.carbon)},
             {"baseline", plan.runs[plan.baseline_index].candidate.name}}},
           {"candidates", std::move(candidates)},
           {"comparisons", ComparisonsJson(plan.comparisons)},
           {"notes", plan.notes},
           {"prediction", nullptr}};
  if (prediction) {
    json check = nullptr;
    if (prediction->check) {
      const auto& c = *prediction->check;
      check = json{{"actual_duration_s", Number(c.actual_duration_s)},
                   {"actual_joules", Number(c.actual_joules)},
                   {"duration_error_percent", Number(c.duration_error_percent)},
                   {"joules_error_percent", Number(c.joules_error_percent)},
                   {"duration_within_interval", c.duration_within_interval},
                   {"joules_within_interval", c.joules_within_interval}};
    }
    out["prediction"] = json{{"run", prediction->run_label},
                             {"observed_fraction", Number(prediction->observed_fraction)},
                             {"this_run", PredictionJson(prediction->run)},
                             {"check", std::move(check)},
                             {"cluster", PredictionJson(prediction->cluster)}};
  }
  return out;
}

std::string ToCsv(const TrainingPlan& plan) {
  std::string out =
      "name,machine_type,baseline,sequences_per_s,watts_per_instance,time_s,time_h,energy_kwh,"
      "cost_usd,co2e_kg,throughput_ratio,time_change_percent,energy_change_percent,"
      "cost_change_percent,throughput_provenance,power_provenance,price_provenance\n";
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const auto& x = plan.runs[i];
    const auto& c = x.candidate;
    auto change = [&](const std::string& metric, bool ratio) -> std::string {
      const Change* ch = FindChange(plan.comparisons, c.name, metric);
      if (ch == nullptr) return "";
      return CsvNumber(ratio ? ch->ratio : ch->change_percent);
    };
    std::vector<std::string> cells{
        CsvField(c.name),
        CsvField(c.machine_type),
        i == plan.baseline_index ? "true" : "false",
        CsvNumber(c.sequences_per_s.value),
        CsvNumber(c.watts.value),
        CsvNumber(x.time_s),
        CsvNumber(x.time_s / 3600),
        CsvNumber(x.energy_kwh),
        CsvNumber(x.cost_usd),
        CsvNumber(x.co2e_kg),
        change("throughput (sequences per hour per instance)", true),
        change("time to train", false),
        change("energy", false),
        change("cost per training run", false),
        CsvField(c.sequences_per_s.provenance),
        CsvField(c.watts.provenance),
        CsvField(c.price_usd_per_hour ? c.price_usd_per_hour->provenance : c.price_missing_reason)};
    out += fmt::format("{}\n", fmt::join(cells, ","));
  }
  return out;
}

}  // namespace joulebench::plan
