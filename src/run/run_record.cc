#include "joulebench/run/run_record.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "joulebench/error.h"
#include "joulebench/units.h"

namespace joulebench::run {
namespace {

using nlohmann::json;
// The helpers below overload ToJson for the parts; keep the public overloads visible to them.
using ::joulebench::run::ToJson;

// The schema tag written into every run document; readers accept this major version.
constexpr std::string_view kRunSchema = "joulebench.run/1";

// JSON has no NaN or infinity; nlohmann would write them as null, which would read back as
// a type error. Non-finite numbers are written as null and read back as NaN.
json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

[[noreturn]] void BadShape(std::string_view path, std::string_view what) {
  throw InputError(
      fmt::format("run JSON: '{}' {}; expected the shape in docs/json-schema.md", path, what));
}

const json* Field(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end()) return nullptr;
  return &*it;
}

double GetDouble(const json& object, std::string_view key, std::string_view path,
                 double fallback = 0) {
  const json* v = Field(object, key);
  if (v == nullptr) return fallback;
  if (v->is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!v->is_number()) BadShape(fmt::format("{}.{}", path, key), "is not a number");
  return v->get<double>();
}

std::optional<double> GetOptionalDouble(const json& object, std::string_view key,
                                        std::string_view path) {
  const json* v = Field(object, key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_number()) BadShape(fmt::format("{}.{}", path, key), "is not a number");
  return v->get<double>();
}

std::string GetString(const json& object, std::string_view key, std::string_view path) {
  const json* v = Field(object, key);
  if (v == nullptr || v->is_null()) return "";
  if (!v->is_string()) BadShape(fmt::format("{}.{}", path, key), "is not a string");
  return v->get<std::string>();
}

bool GetBool(const json& object, std::string_view key, std::string_view path) {
  const json* v = Field(object, key);
  if (v == nullptr || v->is_null()) return false;
  if (!v->is_boolean()) BadShape(fmt::format("{}.{}", path, key), "is not true or false");
  return v->get<bool>();
}

const json& GetArray(const json& object, std::string_view key, std::string_view path) {
  static const json kEmpty = json::array();
  const json* v = Field(object, key);
  if (v == nullptr || v->is_null()) return kEmpty;
  if (!v->is_array()) BadShape(fmt::format("{}.{}", path, key), "is not an array");
  return *v;
}

const json& GetObject(const json& object, std::string_view key, std::string_view path) {
  static const json kEmpty = json::object();
  const json* v = Field(object, key);
  if (v == nullptr || v->is_null()) return kEmpty;
  if (!v->is_object()) BadShape(fmt::format("{}.{}", path, key), "is not an object");
  return *v;
}

void RequireObject(const json& v, std::string_view path) {
  if (!v.is_object()) BadShape(path, "is not an object");
}

std::vector<std::string> GetStrings(const json& object, std::string_view key,
                                    std::string_view path) {
  std::vector<std::string> out;
  const json& array = GetArray(object, key, path);
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) BadShape(fmt::format("{}.{}[{}]", path, key, i), "is not a string");
    out.push_back(array[i].get<std::string>());
  }
  return out;
}

std::vector<double> GetDoubles(const json& array, std::string_view path) {
  if (!array.is_array()) BadShape(path, "is not an array");
  std::vector<double> out;
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const json& v = array[i];
    if (v.is_null()) {
      out.push_back(std::numeric_limits<double>::quiet_NaN());
    } else if (v.is_number()) {
      out.push_back(v.get<double>());
    } else {
      BadShape(fmt::format("{}[{}]", path, i), "is not a number");
    }
  }
  return out;
}

json Doubles(const std::vector<double>& values) {
  json out = json::array();
  for (double v : values) out.push_back(Number(v));
  return out;
}

energy::Component ParseComponent(std::string_view name, std::string_view path) {
  using energy::Component;
  for (Component c : {Component::kCpuPackage, Component::kCpuCores, Component::kUncore,
                      Component::kDram, Component::kPlatform, Component::kAccelerator,
                      Component::kCpu, Component::kMemory, Component::kNetwork}) {
    if (energy::ComponentName(c) == name) return c;
  }
  BadShape(path, fmt::format("names an unknown component '{}'", name));
}

energy::ProvenanceKind ParseProvenanceKind(std::string_view name, std::string_view path) {
  using energy::ProvenanceKind;
  for (ProvenanceKind k :
       {ProvenanceKind::kMeasured, ProvenanceKind::kModelled, ProvenanceKind::kGiven}) {
    if (energy::ProvenanceKindName(k) == name) return k;
  }
  BadShape(path, fmt::format("names an unknown provenance '{}' (measured, modelled, given)", name));
}

json ToJson(const energy::Provenance& p) {
  return json{{"kind", energy::ProvenanceKindName(p.kind)}, {"by", p.by}};
}

energy::Provenance ProvenanceFromJson(const json& j, std::string_view path) {
  RequireObject(j, path);
  energy::Provenance p;
  std::string kind = GetString(j, "kind", path);
  if (!kind.empty()) p.kind = ParseProvenanceKind(kind, fmt::format("{}.kind", path));
  p.by = GetString(j, "by", path);
  return p;
}

}  // namespace

json ToJson(const energy::DomainInfo& d) {
  return json{{"name", d.name},
              {"component", energy::ComponentName(d.component)},
              {"provenance", ToJson(d.provenance)},
              {"signal", d.signal == energy::SignalKind::kCounter ? "counter" : "gauge"},
              {"counter_range_joules", Number(d.counter_range_joules)},
              {"max_watts", Number(d.max_watts)},
              {"parent", d.parent},
              {"update_period_s", Number(d.update_period_s)},
              {"min_window_s", Number(d.min_window_s)},
              {"note", d.note},
              {"whole_machine", d.whole_machine},
              {"counts_through_gaps", d.counts_through_gaps}};
}

namespace {

energy::DomainInfo DomainInfoFromJsonAt(const json& j, std::string_view path) {
  RequireObject(j, path);
  energy::DomainInfo d;
  d.name = GetString(j, "name", path);
  if (d.name.empty()) BadShape(fmt::format("{}.name", path), "is missing or empty");
  std::string component = GetString(j, "component", path);
  if (!component.empty())
    d.component = ParseComponent(component, fmt::format("{}.component", path));
  if (const json* p = Field(j, "provenance"); p != nullptr && !p->is_null()) {
    d.provenance = ProvenanceFromJson(*p, fmt::format("{}.provenance", path));
  }
  std::string signal = GetString(j, "signal", path);
  if (signal == "gauge") {
    d.signal = energy::SignalKind::kGauge;
  } else if (signal.empty() || signal == "counter") {
    d.signal = energy::SignalKind::kCounter;
  } else {
    BadShape(fmt::format("{}.signal", path), "is neither 'counter' nor 'gauge'");
  }
  d.counter_range_joules = GetDouble(j, "counter_range_joules", path);
  d.max_watts = GetDouble(j, "max_watts", path);
  d.parent = GetString(j, "parent", path);
  d.update_period_s = GetDouble(j, "update_period_s", path);
  d.min_window_s = GetDouble(j, "min_window_s", path);
  d.note = GetString(j, "note", path);
  d.whole_machine = GetBool(j, "whole_machine", path);
  // Written since gaps are recorded; older domains were counters that count through gaps.
  if (const json* v = Field(j, "counts_through_gaps"); v != nullptr && !v->is_null()) {
    d.counts_through_gaps = GetBool(j, "counts_through_gaps", path);
  }
  return d;
}

json GapToJson(const sampling::TimelineGap& g) {
  return json{{"domain", g.domain}, {"begin_s", Number(g.begin_s)}, {"end_s", Number(g.end_s)},
              {"reason", g.reason}, {"bridged", g.bridged},         {"lost", g.lost},
              {"open", g.open}};
}

sampling::TimelineGap GapFromJson(const json& j, std::string_view path) {
  RequireObject(j, path);
  sampling::TimelineGap g;
  g.domain = GetString(j, "domain", path);
  g.begin_s = GetDouble(j, "begin_s", path);
  g.end_s = GetDouble(j, "end_s", path);
  g.reason = GetString(j, "reason", path);
  g.bridged = GetBool(j, "bridged", path);
  g.lost = GetBool(j, "lost", path);
  g.open = GetBool(j, "open", path);
  return g;
}

json GapsToJson(const std::vector<sampling::TimelineGap>& gaps) {
  json out = json::array();
  for (const auto& g : gaps) out.push_back(GapToJson(g));
  return out;
}

std::vector<sampling::TimelineGap> GapsFromJson(const json& object, std::string_view path) {
  std::vector<sampling::TimelineGap> out;
  const json& array = GetArray(object, "gaps", path);
  for (std::size_t i = 0; i < array.size(); ++i) {
    out.push_back(GapFromJson(array[i], fmt::format("{}.gaps[{}]", path, i)));
  }
  return out;
}

}  // namespace

energy::DomainInfo DomainInfoFromJson(const json& j) { return DomainInfoFromJsonAt(j, "domain"); }

namespace {

json ToJson(const sampling::DomainEnergy& d) {
  json j{{"domain", ToJson(d.domain)},
         {"joules", Number(d.joules)},
         {"mean_watts", Number(d.mean_watts)},
         {"peak_watts", Number(d.peak_watts)},
         {"samples", d.samples},
         {"baseline_watts", nullptr},
         {"attributable_joules", nullptr},
         {"in_total", d.in_total},
         {"unmeasured_s", Number(d.unmeasured_s)},
         {"gaps", GapsToJson(d.gaps)},
         {"lost_at_s", nullptr},
         {"excluded_from_total", d.excluded_from_total}};
  if (d.baseline_watts) j["baseline_watts"] = Number(*d.baseline_watts);
  if (d.attributable_joules) j["attributable_joules"] = Number(*d.attributable_joules);
  if (d.lost_at_s) j["lost_at_s"] = Number(*d.lost_at_s);
  return j;
}

std::uint64_t GetCount(const json& object, std::string_view key, std::string_view path) {
  const json* v = Field(object, key);
  if (v == nullptr || v->is_null()) return 0;
  if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<std::int64_t>() >= 0)) {
    BadShape(fmt::format("{}.{}", path, key), "is not a non-negative integer");
  }
  return v->get<std::uint64_t>();
}

sampling::DomainEnergy DomainEnergyFromJson(const json& j, std::string_view path) {
  RequireObject(j, path);
  sampling::DomainEnergy d;
  const json* domain = Field(j, "domain");
  if (domain == nullptr) BadShape(fmt::format("{}.domain", path), "is missing");
  d.domain = DomainInfoFromJsonAt(*domain, fmt::format("{}.domain", path));
  d.joules = GetDouble(j, "joules", path);
  d.mean_watts = GetDouble(j, "mean_watts", path);
  d.peak_watts = GetDouble(j, "peak_watts", path);
  d.samples = static_cast<std::size_t>(GetCount(j, "samples", path));
  d.baseline_watts = GetOptionalDouble(j, "baseline_watts", path);
  d.attributable_joules = GetOptionalDouble(j, "attributable_joules", path);
  d.in_total = GetBool(j, "in_total", path);
  // Written since gaps are recorded; older reports had no unmeasured time.
  d.unmeasured_s = GetDouble(j, "unmeasured_s", path, 0);
  if (std::isnan(d.unmeasured_s)) d.unmeasured_s = 0;
  d.gaps = GapsFromJson(j, path);
  d.lost_at_s = GetOptionalDouble(j, "lost_at_s", path);
  d.excluded_from_total = GetBool(j, "excluded_from_total", path);
  return d;
}

json ToJson(const sampling::WholeSystemSplit& w) {
  json j{{"whole_domains", w.whole_domains},
         {"whole_joules", Number(w.whole_joules)},
         {"whole_machine", w.whole_machine},
         {"component_domains", w.component_domains},
         {"component_joules", Number(w.component_joules)},
         {"unsubtracted_domains", w.unsubtracted_domains},
         {"rest_joules", Number(w.rest_joules)},
         {"rest_mean_watts", Number(w.rest_mean_watts)},
         {"rest_attributable_joules", nullptr}};
  if (w.rest_attributable_joules)
    j["rest_attributable_joules"] = Number(*w.rest_attributable_joules);
  return j;
}

sampling::WholeSystemSplit WholeSystemSplitFromJson(const json& j, std::string_view path) {
  RequireObject(j, path);
  sampling::WholeSystemSplit w;
  w.whole_domains = GetStrings(j, "whole_domains", path);
  w.whole_joules = GetDouble(j, "whole_joules", path);
  w.whole_machine = GetBool(j, "whole_machine", path);
  w.component_domains = GetStrings(j, "component_domains", path);
  w.component_joules = GetDouble(j, "component_joules", path);
  w.unsubtracted_domains = GetStrings(j, "unsubtracted_domains", path);
  w.rest_joules = GetDouble(j, "rest_joules", path);
  w.rest_mean_watts = GetDouble(j, "rest_mean_watts", path);
  w.rest_attributable_joules = GetOptionalDouble(j, "rest_attributable_joules", path);
  return w;
}

sampling::EnergyReport EnergyReportFromJsonAt(const json& j, std::string_view path) {
  RequireObject(j, path);
  sampling::EnergyReport r;
  r.name = GetString(j, "name", path);
  r.begin_s = GetDouble(j, "begin_s", path);
  r.end_s = GetDouble(j, "end_s", path);
  r.duration_s = GetDouble(j, "duration_s", path);
  const json& domains = GetArray(j, "domains", path);
  for (std::size_t i = 0; i < domains.size(); ++i) {
    r.domains.push_back(DomainEnergyFromJson(domains[i], fmt::format("{}.domains[{}]", path, i)));
  }
  r.total_joules = GetDouble(j, "total_joules", path);
  r.total_attributable_joules = GetOptionalDouble(j, "total_attributable_joules", path);
  r.mean_watts = GetDouble(j, "mean_watts", path);
  r.total_domains = GetStrings(j, "total_domains", path);
  r.warnings = GetStrings(j, "warnings", path);
  r.any_modelled = GetBool(j, "any_modelled", path);
  // Written since the BMC sources; older runs have none.
  if (const json* w = Field(j, "whole_system"); w != nullptr && !w->is_null()) {
    r.whole_system = WholeSystemSplitFromJson(*w, fmt::format("{}.whole_system", path));
  }
  // Written since gaps are recorded; older totals were complete.
  r.excluded_domains = GetStrings(j, "excluded_domains", path);
  r.partial_domains = GetStrings(j, "partial_domains", path);
  if (const json* v = Field(j, "total_complete"); v != nullptr && !v->is_null()) {
    r.total_complete = GetBool(j, "total_complete", path);
  }
  return r;
}

}  // namespace

json ToJson(const sampling::Timeline& t) {
  json domains = json::array();
  for (const auto& d : t.domains) domains.push_back(ToJson(d));
  json joules = json::array();
  for (const auto& series : t.joules) joules.push_back(Doubles(series));
  return json{{"start_unix_s", Number(t.start_unix_s)},
              {"domains", std::move(domains)},
              {"time_s", Doubles(t.time_s)},
              {"joules", std::move(joules)},
              {"gaps", GapsToJson(t.gaps)}};
}

namespace {

sampling::Timeline TimelineFromJsonAt(const json& j, std::string_view path) {
  RequireObject(j, path);
  sampling::Timeline t;
  t.start_unix_s = GetDouble(j, "start_unix_s", path);
  const json& domains = GetArray(j, "domains", path);
  for (std::size_t i = 0; i < domains.size(); ++i) {
    t.domains.push_back(DomainInfoFromJsonAt(domains[i], fmt::format("{}.domains[{}]", path, i)));
  }
  t.time_s = GetDoubles(GetArray(j, "time_s", path), fmt::format("{}.time_s", path));
  const json& joules = GetArray(j, "joules", path);
  if (joules.size() != t.domains.size()) {
    BadShape(fmt::format("{}.joules", path),
             fmt::format("has {} series for {} domains", joules.size(), t.domains.size()));
  }
  for (std::size_t d = 0; d < joules.size(); ++d) {
    std::string series_path = fmt::format("{}.joules[{}]", path, d);
    t.joules.push_back(GetDoubles(joules[d], series_path));
    if (t.joules.back().size() != t.time_s.size()) {
      BadShape(series_path, fmt::format("has {} samples but time_s has {}", t.joules.back().size(),
                                        t.time_s.size()));
    }
  }
  t.gaps = GapsFromJson(j, path);
  return t;
}

}  // namespace

sampling::Timeline TimelineFromJson(const json& j) { return TimelineFromJsonAt(j, "timeline"); }

namespace {

json ToJson(const Metric& m) {
  return json{
      {"name", m.name}, {"value", Number(m.value)}, {"unit", m.unit}, {"provenance", m.provenance}};
}

json ToJson(const WindowSample& w) {
  return json{{"begin_s", Number(w.begin_s)},
              {"end_s", Number(w.end_s)},
              {"throughput_per_s", Number(w.throughput_per_s)},
              {"watts", Number(w.watts)},
              {"latency_p50_s", Number(w.latency_p50_s)},
              {"latency_p99_s", Number(w.latency_p99_s)}};
}

json ToJson(const LoadLevelPoint& p) {
  json by_domain = json::array();
  for (const auto& [domain, watts] : p.watts_by_domain) {
    by_domain.push_back(json{{"domain", domain}, {"watts", Number(watts)}});
  }
  return json{{"load_fraction", Number(p.load_fraction)},
              {"rate_per_s", Number(p.rate_per_s)},
              {"achieved_per_s", Number(p.achieved_per_s)},
              {"watts_total", Number(p.watts_total)},
              {"watts_by_domain", std::move(by_domain)}};
}

json ToJson(const PeakProbe& p) {
  return json{{"rate_per_s", Number(p.rate_per_s)},
              {"latency_percentile_s", Number(p.latency_percentile_s)},
              {"valid", p.valid}};
}

json OptionalNumber(const std::optional<double>& v) { return v ? Number(*v) : json(nullptr); }

json ToJson(const TuneProbe& p) {
  return json{{"name", p.name},
              {"knobs", p.knobs},
              {"rung", p.rung},
              {"probe_duration_s", Number(p.probe_duration_s)},
              {"outcome", p.outcome},
              {"verdict", p.verdict},
              {"reasons", p.reasons},
              {"rate_per_s", Number(p.rate_per_s)},
              {"throughput_per_s", Number(p.throughput_per_s)},
              {"latency_s", Number(p.latency_s)},
              {"mean_watts", Number(p.mean_watts)},
              {"joules_per_unit", Number(p.joules_per_unit)},
              {"joules_per_unit_attributable", OptionalNumber(p.joules_per_unit_attributable)},
              {"energy_provenance", p.energy_provenance},
              {"accuracy_max_abs_diff", OptionalNumber(p.accuracy_max_abs_diff)},
              {"accuracy_cosine", OptionalNumber(p.accuracy_cosine)},
              {"accuracy_argmax_agreement", OptionalNumber(p.accuracy_argmax_agreement)},
              {"elapsed_s", Number(p.elapsed_s)},
              {"chosen", p.chosen},
              {"pareto", p.pareto}};
}

template <typename T, typename F>
std::vector<T> ParseArray(const json& object, std::string_view key, std::string_view path, F f) {
  std::vector<T> out;
  const json& array = GetArray(object, key, path);
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    std::string item_path = fmt::format("{}.{}[{}]", path, key, i);
    RequireObject(array[i], item_path);
    out.push_back(f(array[i], item_path));
  }
  return out;
}

std::optional<int> GetOptionalInt(const json& object, std::string_view key, std::string_view path) {
  const json* v = Field(object, key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_number_integer()) BadShape(fmt::format("{}.{}", path, key), "is not a whole number");
  return v->get<int>();
}

NodeResult NodeResultFromJsonAt(const json& j, std::string_view path) {
  RequireObject(j, path);
  NodeResult n;
  n.node_id = GetString(j, "node_id", path);
  n.hostname = GetString(j, "hostname", path);
  n.node_id_source = GetString(j, "node_id_source", path);
  n.leader_rank = GetOptionalInt(j, "leader_rank", path).value_or(0);
  n.status = GetString(j, "status", path);
  n.energy = ParseArray<sampling::EnergyReport>(j, "energy", path, EnergyReportFromJsonAt);
  n.machine_busy_cpu_s = GetOptionalDouble(j, "machine_busy_cpu_s", path);
  n.cpu_joules = GetOptionalDouble(j, "cpu_joules", path);
  n.cpu_domains = GetString(j, "cpu_domains", path);
  n.attribution = GetString(j, "attribution", path);
  n.ranks = ParseArray<RankUsage>(j, "ranks", path, [](const json& r, std::string_view at) {
    RankUsage u;
    u.rank = GetOptionalInt(r, "rank", at).value_or(0);
    u.pid = GetOptionalInt(r, "pid", at).value_or(0);
    u.status = GetString(r, "status", at);
    u.exit_code = GetOptionalInt(r, "exit_code", at);
    u.cpu_s = GetDouble(r, "cpu_s", at);
    u.cpu_share = GetOptionalDouble(r, "cpu_share", at);
    u.cpu_joules = GetOptionalDouble(r, "cpu_joules", at);
    return u;
  });
  n.sources = GetStrings(j, "sources", path);
  n.warnings = GetStrings(j, "warnings", path);
  return n;
}

}  // namespace

const sampling::EnergyReport* NodeResult::FindEnergy(std::string_view window) const {
  for (const auto& e : energy) {
    if (e.name == window) return &e;
  }
  return nullptr;
}

double NodeResult::Joules(std::string_view window) const {
  const sampling::EnergyReport* e = FindEnergy(window);
  return e != nullptr ? e->total_joules : 0;
}

nlohmann::json ToJson(const NodeResult& n) {
  json energy = json::array();
  for (const auto& e : n.energy) energy.push_back(ToJson(e));
  json ranks = json::array();
  for (const auto& r : n.ranks) {
    ranks.push_back(json{{"rank", r.rank},
                         {"pid", r.pid},
                         {"status", r.status},
                         {"exit_code", r.exit_code ? json(*r.exit_code) : json(nullptr)},
                         {"cpu_s", Number(r.cpu_s)},
                         {"cpu_share", OptionalNumber(r.cpu_share)},
                         {"cpu_joules", OptionalNumber(r.cpu_joules)}});
  }
  return json{{"node_id", n.node_id},
              {"hostname", n.hostname},
              {"node_id_source", n.node_id_source},
              {"leader_rank", n.leader_rank},
              {"status", n.status},
              {"energy", std::move(energy)},
              {"machine_busy_cpu_s", OptionalNumber(n.machine_busy_cpu_s)},
              {"cpu_joules", OptionalNumber(n.cpu_joules)},
              {"cpu_domains", n.cpu_domains},
              {"attribution", n.attribution},
              {"ranks", std::move(ranks)},
              {"sources", n.sources},
              {"warnings", n.warnings}};
}

NodeResult NodeResultFromJson(const nlohmann::json& json) {
  return NodeResultFromJsonAt(json, "node");
}

nlohmann::json TimelineGapsToJson(const std::vector<sampling::TimelineGap>& gaps) {
  return GapsToJson(gaps);
}

std::vector<sampling::TimelineGap> TimelineGapsFromJson(const nlohmann::json& array) {
  return GapsFromJson(json{{"gaps", array}}, "timeline");
}

std::string DumpJson(const nlohmann::json& json, int indent) {
  return json.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

std::string_view RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kComplete:
      return "complete";
    case RunStatus::kIncomplete:
      return "incomplete";
    case RunStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

RunStatus ParseRunStatus(std::string_view s) {
  for (RunStatus status :
       {RunStatus::kRunning, RunStatus::kComplete, RunStatus::kIncomplete, RunStatus::kFailed}) {
    if (RunStatusName(status) == s) return status;
  }
  throw InputError(
      fmt::format("run status '{}' is not one of running, complete, incomplete, failed", s));
}

const Metric* RunRecord::FindMetric(std::string_view metric_name) const {
  for (const auto& m : metrics) {
    if (m.name == metric_name) return &m;
  }
  return nullptr;
}

nlohmann::json ToJson(const sampling::EnergyReport& report) {
  json domains = json::array();
  for (const auto& d : report.domains) domains.push_back(ToJson(d));
  json j{{"name", report.name},
         {"begin_s", Number(report.begin_s)},
         {"end_s", Number(report.end_s)},
         {"duration_s", Number(report.duration_s)},
         {"domains", std::move(domains)},
         {"total_joules", Number(report.total_joules)},
         {"total_attributable_joules", nullptr},
         {"mean_watts", Number(report.mean_watts)},
         {"total_domains", report.total_domains},
         {"warnings", report.warnings},
         {"any_modelled", report.any_modelled},
         {"whole_system", nullptr},
         {"total_complete", report.total_complete},
         {"excluded_domains", report.excluded_domains},
         {"partial_domains", report.partial_domains}};
  if (report.total_attributable_joules) {
    j["total_attributable_joules"] = Number(*report.total_attributable_joules);
  }
  if (report.whole_system) j["whole_system"] = ToJson(*report.whole_system);
  return j;
}

sampling::EnergyReport EnergyReportFromJson(const nlohmann::json& json) {
  return EnergyReportFromJsonAt(json, "energy");
}

nlohmann::json ToJson(const RunRecord& r) {
  json energy = json::array();
  for (const auto& e : r.energy) energy.push_back(ToJson(e));
  json windows = json::array();
  for (const auto& w : r.windows) windows.push_back(ToJson(w));
  json histogram = json::array();
  for (const auto& [upper_s, count] : r.latency_histogram) {
    histogram.push_back(json::array({Number(upper_s), count}));
  }
  json named = json::array();
  for (const auto& h : r.histograms) {
    json buckets = json::array();
    for (const auto& [upper, count] : h.buckets)
      buckets.push_back(json::array({Number(upper), count}));
    named.push_back(json{{"name", h.name},
                         {"unit", h.unit},
                         {"provenance", h.provenance},
                         {"buckets", std::move(buckets)}});
  }
  json curve = json::array();
  for (const auto& p : r.power_curve) curve.push_back(ToJson(p));
  json probes = json::array();
  for (const auto& p : r.peak_probes) probes.push_back(ToJson(p));
  json tune = json::array();
  for (const auto& p : r.tune_probes) tune.push_back(ToJson(p));
  json metrics = json::array();
  for (const auto& m : r.metrics) metrics.push_back(ToJson(m));
  json steady{{"at_s", nullptr}, {"criterion", r.steady_state_criterion}};
  if (r.steady_state_at_s) steady["at_s"] = Number(*r.steady_state_at_s);
  json out{{"schema", kRunSchema},
           {"id", r.id},
           {"kind", r.kind},
           {"name", r.name},
           {"start_unix_s", Number(r.start_unix_s)},
           {"end_unix_s", Number(r.end_unix_s)},
           {"start_time", r.start_unix_s > 0 ? FormatIsoTime(r.start_unix_s) : ""},
           {"end_time", r.end_unix_s > 0 ? FormatIsoTime(r.end_unix_s) : ""},
           {"status", RunStatusName(r.status)},
           {"verdict", r.verdict},
           {"verdict_reasons", r.verdict_reasons},
           {"config", r.config},
           {"fingerprint", r.fingerprint},
           {"timeline", ToJson(r.timeline)},
           {"energy", std::move(energy)},
           {"windows", std::move(windows)},
           {"steady_state", std::move(steady)},
           {"latency_histogram", std::move(histogram)},
           {"histograms", std::move(named)},
           {"power_curve", std::move(curve)},
           {"peak_probes", std::move(probes)},
           {"tune_probes", std::move(tune)},
           {"metrics", std::move(metrics)},
           {"warnings", r.warnings}};
  if (!r.nodes.empty()) {
    json nodes = json::array();
    for (const auto& n : r.nodes) nodes.push_back(ToJson(n));
    out["nodes"] = std::move(nodes);
  }
  return out;
}

RunRecord RunRecordFromJson(const nlohmann::json& j) {
  constexpr std::string_view path = "run";
  RequireObject(j, path);
  std::string schema = GetString(j, "schema", path);
  if (!schema.empty() && schema != kRunSchema) {
    throw InputError(fmt::format(
        "run JSON: schema '{}' is not '{}'; it was written by another joulebench version", schema,
        kRunSchema));
  }
  RunRecord r;
  r.id = GetString(j, "id", path);
  r.kind = GetString(j, "kind", path);
  r.name = GetString(j, "name", path);
  r.start_unix_s = GetDouble(j, "start_unix_s", path);
  r.end_unix_s = GetDouble(j, "end_unix_s", path);
  std::string status = GetString(j, "status", path);
  if (!status.empty()) {
    try {
      r.status = ParseRunStatus(status);
    } catch (const InputError&) {
      BadShape("run.status",
               fmt::format("is '{}', not running, complete, incomplete or failed", status));
    }
  }
  r.verdict = GetString(j, "verdict", path);
  r.verdict_reasons = GetStrings(j, "verdict_reasons", path);
  r.config = GetObject(j, "config", path);
  r.fingerprint = GetObject(j, "fingerprint", path);
  if (const json* t = Field(j, "timeline"); t != nullptr && !t->is_null()) {
    r.timeline = TimelineFromJsonAt(*t, "run.timeline");
  }
  r.energy = ParseArray<sampling::EnergyReport>(j, "energy", path, EnergyReportFromJsonAt);
  r.windows = ParseArray<WindowSample>(j, "windows", path, [](const json& w, std::string_view p) {
    WindowSample s;
    s.begin_s = GetDouble(w, "begin_s", p);
    s.end_s = GetDouble(w, "end_s", p);
    s.throughput_per_s = GetDouble(w, "throughput_per_s", p);
    s.watts = GetDouble(w, "watts", p);
    s.latency_p50_s = GetDouble(w, "latency_p50_s", p);
    s.latency_p99_s = GetDouble(w, "latency_p99_s", p);
    return s;
  });
  const json& steady = GetObject(j, "steady_state", path);
  r.steady_state_at_s = GetOptionalDouble(steady, "at_s", "run.steady_state");
  r.steady_state_criterion = GetString(steady, "criterion", "run.steady_state");
  auto buckets_from = [](const json& histogram, std::string_view at) {
    std::vector<std::pair<double, std::uint64_t>> buckets;
    for (std::size_t i = 0; i < histogram.size(); ++i) {
      const json& bucket = histogram[i];
      if (!bucket.is_array() || bucket.size() != 2 || !bucket[0].is_number() ||
          !(bucket[1].is_number_unsigned() ||
            (bucket[1].is_number_integer() && bucket[1].get<std::int64_t>() >= 0))) {
        BadShape(fmt::format("{}[{}]", at, i), "is not [upper bound in seconds, count]");
      }
      buckets.emplace_back(bucket[0].get<double>(), bucket[1].get<std::uint64_t>());
    }
    return buckets;
  };
  r.latency_histogram =
      buckets_from(GetArray(j, "latency_histogram", path), "run.latency_histogram");
  r.histograms =
      ParseArray<NamedHistogram>(j, "histograms", path, [&](const json& h, std::string_view at) {
        NamedHistogram out;
        out.name = GetString(h, "name", at);
        out.unit = GetString(h, "unit", at);
        out.provenance = GetString(h, "provenance", at);
        out.buckets = buckets_from(GetArray(h, "buckets", at), fmt::format("{}.buckets", at));
        return out;
      });
  r.power_curve =
      ParseArray<LoadLevelPoint>(j, "power_curve", path, [](const json& p, std::string_view at) {
        LoadLevelPoint point;
        point.load_fraction = GetDouble(p, "load_fraction", at);
        point.rate_per_s = GetDouble(p, "rate_per_s", at);
        point.achieved_per_s = GetDouble(p, "achieved_per_s", at);
        point.watts_total = GetDouble(p, "watts_total", at);
        for (const json& d : GetArray(p, "watts_by_domain", at)) {
          RequireObject(d, fmt::format("{}.watts_by_domain", at));
          point.watts_by_domain.emplace_back(GetString(d, "domain", at), GetDouble(d, "watts", at));
        }
        return point;
      });
  r.peak_probes =
      ParseArray<PeakProbe>(j, "peak_probes", path, [](const json& p, std::string_view at) {
        PeakProbe probe;
        probe.rate_per_s = GetDouble(p, "rate_per_s", at);
        probe.latency_percentile_s = GetDouble(p, "latency_percentile_s", at);
        probe.valid = GetBool(p, "valid", at);
        return probe;
      });
  r.tune_probes =
      ParseArray<TuneProbe>(j, "tune_probes", path, [](const json& p, std::string_view at) {
        TuneProbe probe;
        probe.name = GetString(p, "name", at);
        probe.knobs = GetObject(p, "knobs", at);
        probe.rung = static_cast<int>(GetDouble(p, "rung", at));
        probe.probe_duration_s = GetDouble(p, "probe_duration_s", at);
        probe.outcome = GetString(p, "outcome", at);
        probe.verdict = GetString(p, "verdict", at);
        probe.reasons = GetStrings(p, "reasons", at);
        probe.rate_per_s = GetDouble(p, "rate_per_s", at);
        probe.throughput_per_s = GetDouble(p, "throughput_per_s", at);
        probe.latency_s = GetDouble(p, "latency_s", at);
        probe.mean_watts = GetDouble(p, "mean_watts", at);
        probe.joules_per_unit = GetDouble(p, "joules_per_unit", at);
        probe.joules_per_unit_attributable =
            GetOptionalDouble(p, "joules_per_unit_attributable", at);
        probe.energy_provenance = GetString(p, "energy_provenance", at);
        probe.accuracy_max_abs_diff = GetOptionalDouble(p, "accuracy_max_abs_diff", at);
        probe.accuracy_cosine = GetOptionalDouble(p, "accuracy_cosine", at);
        probe.accuracy_argmax_agreement = GetOptionalDouble(p, "accuracy_argmax_agreement", at);
        probe.elapsed_s = GetDouble(p, "elapsed_s", at);
        probe.chosen = GetBool(p, "chosen", at);
        probe.pareto = GetBool(p, "pareto", at);
        return probe;
      });
  r.metrics = ParseArray<Metric>(j, "metrics", path, [](const json& m, std::string_view at) {
    Metric metric;
    metric.name = GetString(m, "name", at);
    metric.value = GetDouble(m, "value", at);
    metric.unit = GetString(m, "unit", at);
    metric.provenance = GetString(m, "provenance", at);
    return metric;
  });
  r.warnings = GetStrings(j, "warnings", path);
  r.nodes = ParseArray<NodeResult>(j, "nodes", path, NodeResultFromJsonAt);
  return r;
}

}  // namespace joulebench::run
