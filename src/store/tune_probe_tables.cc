// The tune_probes table (schema version 5): one row per probe of a `tune` run.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "joulebench/error.h"
#include "joulebench/run/run_record.h"
#include "store/run_tables.h"

namespace joulebench::store {
namespace {

using nlohmann::json;

void BindNumber(Statement& s, int index, double value) {
  if (std::isnan(value)) {
    s.BindNull(index);
  } else {
    s.Bind(index, value);
  }
}

void BindOptional(Statement& s, int index, const std::optional<double>& value) {
  if (value) {
    BindNumber(s, index, *value);
  } else {
    s.BindNull(index);
  }
}

double NanIfNull(const Statement& s, int column) {
  return s.IsNull(column) ? std::numeric_limits<double>::quiet_NaN() : s.Double(column);
}

json ParseJson(const Statement& s, int column, std::int64_t run_id) {
  try {
    return json::parse(s.Text(column));
  } catch (const json::exception& e) {
    throw RuntimeError(
        fmt::format("run {}: a stored tune probe is not valid JSON ({})", run_id, e.what()));
  }
}

}  // namespace

void InsertTuneProbes(Database& db, std::int64_t run_id,
                      const std::vector<run::TuneProbe>& probes) {
  if (probes.empty()) return;
  Statement s = db.Prepare(
      "INSERT INTO tune_probes (run_id, seq, name, knobs, rung, probe_duration_s, outcome, "
      "verdict, reasons, rate_per_s, throughput_per_s, latency_s, mean_watts, joules_per_unit, "
      "joules_per_unit_attributable, energy_provenance, accuracy_max_abs_diff, accuracy_cosine, "
      "accuracy_argmax_agreement, elapsed_s, chosen, pareto) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
      "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)");
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const run::TuneProbe& p = probes[i];
    s.Bind(1, run_id).Bind(2, static_cast<std::int64_t>(i)).Bind(3, std::string_view(p.name));
    s.Bind(4, run::DumpJson(p.knobs)).Bind(5, std::int64_t{p.rung});
    BindNumber(s, 6, p.probe_duration_s);
    s.Bind(7, std::string_view(p.outcome)).Bind(8, std::string_view(p.verdict));
    s.Bind(9, run::DumpJson(json(p.reasons)));
    BindNumber(s, 10, p.rate_per_s);
    BindNumber(s, 11, p.throughput_per_s);
    BindNumber(s, 12, p.latency_s);
    BindNumber(s, 13, p.mean_watts);
    BindNumber(s, 14, p.joules_per_unit);
    BindOptional(s, 15, p.joules_per_unit_attributable);
    s.Bind(16, std::string_view(p.energy_provenance));
    BindOptional(s, 17, p.accuracy_max_abs_diff);
    BindOptional(s, 18, p.accuracy_cosine);
    BindOptional(s, 19, p.accuracy_argmax_agreement);
    BindNumber(s, 20, p.elapsed_s);
    s.Bind(21, std::int64_t{p.chosen ? 1 : 0}).Bind(22, std::int64_t{p.pareto ? 1 : 0});
    s.Run();
  }
}

std::vector<run::TuneProbe> ReadTuneProbes(Database& db, std::int64_t run_id) {
  Statement s = db.Prepare(
      "SELECT name, knobs, rung, probe_duration_s, outcome, verdict, reasons, rate_per_s, "
      "throughput_per_s, latency_s, mean_watts, joules_per_unit, joules_per_unit_attributable, "
      "energy_provenance, accuracy_max_abs_diff, accuracy_cosine, accuracy_argmax_agreement, "
      "elapsed_s, chosen, pareto FROM tune_probes WHERE run_id = ?1 ORDER BY seq");
  s.Bind(1, run_id);
  std::vector<run::TuneProbe> probes;
  while (s.Step()) {
    run::TuneProbe p;
    p.name = s.Text(0);
    p.knobs = ParseJson(s, 1, run_id);
    p.rung = static_cast<int>(s.Int(2));
    p.probe_duration_s = NanIfNull(s, 3);
    p.outcome = s.Text(4);
    p.verdict = s.Text(5);
    for (const auto& reason : ParseJson(s, 6, run_id)) {
      if (reason.is_string()) p.reasons.push_back(reason.get<std::string>());
    }
    p.rate_per_s = NanIfNull(s, 7);
    p.throughput_per_s = NanIfNull(s, 8);
    p.latency_s = NanIfNull(s, 9);
    p.mean_watts = NanIfNull(s, 10);
    p.joules_per_unit = NanIfNull(s, 11);
    p.joules_per_unit_attributable = s.OptionalDouble(12);
    p.energy_provenance = s.Text(13);
    p.accuracy_max_abs_diff = s.OptionalDouble(14);
    p.accuracy_cosine = s.OptionalDouble(15);
    p.accuracy_argmax_agreement = s.OptionalDouble(16);
    p.elapsed_s = NanIfNull(s, 17);
    p.chosen = s.Int(18) != 0;
    p.pareto = s.Int(19) != 0;
    probes.push_back(std::move(p));
  }
  return probes;
}

}  // namespace joulebench::store
