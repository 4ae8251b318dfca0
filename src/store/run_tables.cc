#include "store/run_tables.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "joulebench/error.h"
#include "joulebench/run/run_record.h"

namespace joulebench::store {
namespace {

using nlohmann::json;

// Blobs hold IEEE-754 doubles in the machine's order; every platform joulebench builds on is
// little-endian, and the blob format says so.
static_assert(std::endian::native == std::endian::little,
              "sample blobs are little-endian float64; add byte swapping for this platform");

double NanIfNull(const Statement& s, int column) {
  return s.IsNull(column) ? std::numeric_limits<double>::quiet_NaN() : s.Double(column);
}

// SQLite stores NaN as NULL; infinities survive. Bind NaN explicitly as NULL.
void BindNumber(Statement& s, int index, double value) {
  if (std::isnan(value)) {
    s.BindNull(index);
  } else {
    s.Bind(index, value);
  }
}

json ParseJsonColumn(const Statement& s, int column, std::string_view what, std::int64_t id) {
  try {
    return json::parse(s.Text(column));
  } catch (const json::exception& e) {
    throw RuntimeError(fmt::format("run {}: stored {} is not valid JSON ({})", id, what, e.what()));
  }
}

std::vector<std::string> Strings(const json& j) {
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const auto& v : j) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

json HistogramJson(const run::RunRecord& r) {
  json h = json::array();
  for (const auto& [upper_s, count] : r.latency_histogram) {
    h.push_back(json::array({std::isfinite(upper_s) ? json(upper_s) : json(nullptr), count}));
  }
  return h;
}

json NamedHistogramsJson(const run::RunRecord& r) {
  json out = json::array();
  for (const auto& h : r.histograms) {
    json buckets = json::array();
    for (const auto& [upper, count] : h.buckets) {
      buckets.push_back(json::array({std::isfinite(upper) ? json(upper) : json(nullptr), count}));
    }
    out.push_back(json{{"name", h.name},
                       {"unit", h.unit},
                       {"provenance", h.provenance},
                       {"buckets", std::move(buckets)}});
  }
  return out;
}

json DomainsJson(const std::vector<energy::DomainInfo>& domains) {
  json out = json::array();
  for (const auto& d : domains) out.push_back(run::ToJson(d));
  return out;
}

std::span<const std::byte> Bytes(std::span<const double> values) { return std::as_bytes(values); }

}  // namespace

std::int64_t ParseRunId(std::string_view text) {
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) {
    throw InputError(fmt::format(
        "run id '{}' is not a run id (a positive number); see 'joulebench runs list'", text));
  }
  return id;
}

run::RunStatus EffectiveStatus(run::RunStatus stored, const ProcessOwner& owner) {
  if (stored == run::RunStatus::kRunning && !IsAlive(owner)) return run::RunStatus::kIncomplete;
  return stored;
}

std::int64_t InsertRunRow(Database& db, const run::RunRecord& r, run::RunStatus status,
                          const ProcessOwner* owner) {
  Statement s = db.Prepare(
      "INSERT INTO runs (kind, name, start_unix_s, status, timeline_start_unix_s, "
      "timeline_domains, owner_pid, owner_boot_id, owner_start_ticks) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  s.Bind(1, std::string_view(r.kind)).Bind(2, std::string_view(r.name));
  BindNumber(s, 3, r.start_unix_s);
  s.Bind(4, run::RunStatusName(status));
  BindNumber(s, 5, r.timeline.start_unix_s);
  s.Bind(6, run::DumpJson(DomainsJson(r.timeline.domains)));
  if (owner != nullptr) {
    s.Bind(7, owner->pid).Bind(8, std::string_view(owner->boot_id)).Bind(9, owner->start_ticks);
  }
  s.Run();
  std::int64_t id = db.LastInsertRowId();
  ReplaceResults(db, id, r);
  return id;
}

void SetTimelineDomains(Database& db, std::int64_t run_id,
                        const std::vector<energy::DomainInfo>& domains, double start_unix_s) {
  Statement s =
      db.Prepare("UPDATE runs SET timeline_domains = ?1, timeline_start_unix_s = ?2 WHERE id = ?3");
  s.Bind(1, run::DumpJson(DomainsJson(domains)));
  BindNumber(s, 2, start_unix_s);
  s.Bind(3, run_id);
  s.Run();
}

std::size_t ReplaceResults(Database& db, std::int64_t id, const run::RunRecord& r,
                           std::size_t windows_stored) {
  bool append_windows = windows_stored > 0 && windows_stored <= r.windows.size();
  {
    Statement s = db.Prepare(
        "UPDATE runs SET name = ?1, verdict = ?2, verdict_reasons = ?3, config = ?4, "
        "fingerprint = ?5, steady_state_at_s = ?6, steady_state_criterion = ?7, warnings = ?8, "
        "latency_histogram = ?9, kind = ?10, histograms = ?12 WHERE id = ?11");
    s.Bind(1, std::string_view(r.name)).Bind(2, std::string_view(r.verdict));
    s.Bind(3, run::DumpJson(json(r.verdict_reasons)))
        .Bind(4, run::DumpJson(r.config))
        .Bind(5, run::DumpJson(r.fingerprint));
    if (r.steady_state_at_s && !std::isnan(*r.steady_state_at_s)) {
      s.Bind(6, *r.steady_state_at_s);
    }
    s.Bind(7, std::string_view(r.steady_state_criterion)).Bind(8, run::DumpJson(json(r.warnings)));
    s.Bind(9, run::DumpJson(HistogramJson(r))).Bind(10, std::string_view(r.kind)).Bind(11, id);
    s.Bind(12, run::DumpJson(NamedHistogramsJson(r)));
    s.Run();
  }
  for (std::string_view table : {"energy_reports", "windows", "metrics", "power_curve",
                                 "peak_probes", "run_nodes", "tune_probes"}) {
    if (table == "windows" && append_windows) continue;
    db.Prepare(fmt::format("DELETE FROM {} WHERE run_id = ?1", table)).Bind(1, id).Run();
  }
  {
    Statement s = db.Prepare(
        "INSERT INTO energy_reports (run_id, seq, name, report) VALUES (?1, ?2, ?3, ?4)");
    for (std::size_t i = 0; i < r.energy.size(); ++i) {
      s.Bind(1, id)
          .Bind(2, static_cast<std::int64_t>(i))
          .Bind(3, std::string_view(r.energy[i].name));
      s.Bind(4, run::DumpJson(run::ToJson(r.energy[i])));
      s.Run();
    }
  }
  {
    Statement s = db.Prepare(
        "INSERT INTO windows (run_id, seq, begin_s, end_s, throughput_per_s, watts, "
        "latency_p50_s, latency_p99_s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    for (std::size_t i = append_windows ? windows_stored : 0; i < r.windows.size(); ++i) {
      const auto& w = r.windows[i];
      s.Bind(1, id).Bind(2, static_cast<std::int64_t>(i));
      BindNumber(s, 3, w.begin_s);
      BindNumber(s, 4, w.end_s);
      BindNumber(s, 5, w.throughput_per_s);
      BindNumber(s, 6, w.watts);
      BindNumber(s, 7, w.latency_p50_s);
      BindNumber(s, 8, w.latency_p99_s);
      s.Run();
    }
  }
  {
    Statement s = db.Prepare(
        "INSERT INTO metrics (run_id, seq, name, value, unit, provenance) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    for (std::size_t i = 0; i < r.metrics.size(); ++i) {
      const auto& m = r.metrics[i];
      s.Bind(1, id).Bind(2, static_cast<std::int64_t>(i)).Bind(3, std::string_view(m.name));
      BindNumber(s, 4, m.value);
      s.Bind(5, std::string_view(m.unit)).Bind(6, std::string_view(m.provenance));
      s.Run();
    }
  }
  {
    Statement s = db.Prepare(
        "INSERT INTO power_curve (run_id, seq, load_fraction, rate_per_s, achieved_per_s, "
        "watts_total, watts_by_domain) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    for (std::size_t i = 0; i < r.power_curve.size(); ++i) {
      const auto& p = r.power_curve[i];
      json by_domain = json::array();
      for (const auto& [domain, watts] : p.watts_by_domain) {
        by_domain.push_back(json::array({domain, std::isfinite(watts) ? json(watts) : json()}));
      }
      s.Bind(1, id).Bind(2, static_cast<std::int64_t>(i));
      BindNumber(s, 3, p.load_fraction);
      BindNumber(s, 4, p.rate_per_s);
      BindNumber(s, 5, p.achieved_per_s);
      BindNumber(s, 6, p.watts_total);
      s.Bind(7, run::DumpJson(by_domain));
      s.Run();
    }
  }
  {
    Statement s = db.Prepare(
        "INSERT INTO peak_probes (run_id, seq, rate_per_s, latency_percentile_s, valid) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    for (std::size_t i = 0; i < r.peak_probes.size(); ++i) {
      const auto& p = r.peak_probes[i];
      s.Bind(1, id).Bind(2, static_cast<std::int64_t>(i));
      BindNumber(s, 3, p.rate_per_s);
      BindNumber(s, 4, p.latency_percentile_s);
      s.Bind(5, std::int64_t{p.valid ? 1 : 0});
      s.Run();
    }
  }
  {
    Statement s = db.Prepare(
        "INSERT INTO run_nodes (run_id, seq, node_id, status, node) VALUES (?1, ?2, ?3, ?4, ?5)");
    for (std::size_t i = 0; i < r.nodes.size(); ++i) {
      s.Bind(1, id).Bind(2, static_cast<std::int64_t>(i));
      s.Bind(3, std::string_view(r.nodes[i].node_id)).Bind(4, std::string_view(r.nodes[i].status));
      s.Bind(5, run::DumpJson(run::ToJson(r.nodes[i])));
      s.Run();
    }
  }
  InsertTuneProbes(db, id, r.tune_probes);
  return r.windows.size();
}

void InsertSampleChunk(Database& db, std::int64_t run_id, std::size_t first_index,
                       std::span<const double> time_s,
                       const std::vector<std::span<const double>>& joules) {
  std::vector<double> packed;
  packed.reserve(time_s.size() * joules.size());
  for (const auto& series : joules) packed.insert(packed.end(), series.begin(), series.end());
  Statement s = db.Prepare(
      "INSERT INTO sample_chunks (run_id, first_index, sample_count, time_s, joules) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  s.Bind(1, run_id).Bind(2, static_cast<std::int64_t>(first_index));
  s.Bind(3, static_cast<std::int64_t>(time_s.size()));
  s.BindBlob(4, Bytes(time_s)).BindBlob(5, Bytes(packed));
  s.Run();
}

void SetStatus(Database& db, std::int64_t run_id, run::RunStatus status, double end_unix_s) {
  Statement s = db.Prepare("UPDATE runs SET status = ?1, end_unix_s = ?2 WHERE id = ?3");
  s.Bind(1, run::RunStatusName(status));
  BindNumber(s, 2, end_unix_s);
  s.Bind(3, run_id);
  s.Run();
}

void ReplaceGaps(Database& db, std::int64_t run_id,
                 const std::vector<sampling::TimelineGap>& gaps) {
  db.Prepare("DELETE FROM timeline_gaps WHERE run_id = ?1").Bind(1, run_id).Run();
  Statement s = db.Prepare(
      "INSERT INTO timeline_gaps (run_id, seq, domain, begin_s, end_s, reason, bridged, lost, "
      "open) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    const auto& g = gaps[i];
    s.Bind(1, run_id).Bind(2, static_cast<std::int64_t>(i)).Bind(3, std::string_view(g.domain));
    BindNumber(s, 4, g.begin_s);
    BindNumber(s, 5, g.end_s);
    s.Bind(6, std::string_view(g.reason));
    s.Bind(7, std::int64_t{g.bridged ? 1 : 0})
        .Bind(8, std::int64_t{g.lost ? 1 : 0})
        .Bind(9, std::int64_t{g.open ? 1 : 0});
    s.Run();
  }
}

std::size_t StoredSampleCount(Database& db, std::int64_t run_id) {
  Statement s =
      db.Prepare("SELECT COALESCE(SUM(sample_count), 0) FROM sample_chunks WHERE run_id = ?1");
  s.Bind(1, run_id);
  return s.Step() ? static_cast<std::size_t>(s.Int(0)) : 0;
}

RunRow ReadRunRow(Database& db, std::int64_t id) {
  Statement s = db.Prepare(
      "SELECT status, owner_pid, owner_boot_id, owner_start_ticks FROM runs WHERE id = ?1");
  s.Bind(1, id);
  if (!s.Step()) {
    throw InputError(
        fmt::format("run {} is not stored in {}; see 'joulebench runs list' for the stored runs",
                    id, db.path().string()));
  }
  RunRow row;
  row.id = id;
  try {
    row.stored_status = run::ParseRunStatus(s.Text(0));
  } catch (const InputError&) {
    row.stored_status = run::RunStatus::kIncomplete;
  }
  row.owner.pid = s.IsNull(1) ? 0 : s.Int(1);
  row.owner.boot_id = s.Text(2);
  row.owner.start_ticks = s.IsNull(3) ? 0 : s.Int(3);
  row.status = EffectiveStatus(row.stored_status, row.owner);
  return row;
}

run::RunRecord ReadRun(Database& db, std::int64_t id, std::size_t max_samples) {
  RunRow row = ReadRunRow(db, id);
  run::RunRecord r;
  r.id = std::to_string(id);
  r.status = row.status;
  {
    Statement s = db.Prepare(
        "SELECT kind, name, start_unix_s, end_unix_s, verdict, verdict_reasons, config, "
        "fingerprint, steady_state_at_s, steady_state_criterion, warnings, latency_histogram, "
        "timeline_start_unix_s, timeline_domains, histograms FROM runs WHERE id = ?1");
    s.Bind(1, id);
    s.Step();
    r.kind = s.Text(0);
    r.name = s.Text(1);
    r.start_unix_s = NanIfNull(s, 2);
    r.end_unix_s = s.IsNull(3) ? 0 : s.Double(3);
    r.verdict = s.Text(4);
    r.verdict_reasons = Strings(ParseJsonColumn(s, 5, "verdict reasons", id));
    r.config = ParseJsonColumn(s, 6, "configuration", id);
    r.fingerprint = ParseJsonColumn(s, 7, "fingerprint", id);
    r.steady_state_at_s = s.OptionalDouble(8);
    r.steady_state_criterion = s.Text(9);
    r.warnings = Strings(ParseJsonColumn(s, 10, "warnings", id));
    json histogram = ParseJsonColumn(s, 11, "latency histogram", id);
    for (const auto& bucket : histogram) {
      if (bucket.is_array() && bucket.size() == 2 && bucket[1].is_number()) {
        double upper = bucket[0].is_number() ? bucket[0].get<double>()
                                             : std::numeric_limits<double>::infinity();
        r.latency_histogram.emplace_back(upper, bucket[1].get<std::uint64_t>());
      }
    }
    r.timeline.start_unix_s = NanIfNull(s, 12);
    for (const auto& d : ParseJsonColumn(s, 13, "timeline domains", id)) {
      r.timeline.domains.push_back(run::DomainInfoFromJson(d));
    }
    for (const auto& h : ParseJsonColumn(s, 14, "histograms", id)) {
      if (!h.is_object()) continue;
      run::NamedHistogram named;
      named.name = h.value("name", "");
      named.unit = h.value("unit", "s");
      named.provenance = h.value("provenance", "");
      for (const auto& bucket : h.value("buckets", json::array())) {
        if (bucket.is_array() && bucket.size() == 2 && bucket[1].is_number()) {
          double upper = bucket[0].is_number() ? bucket[0].get<double>()
                                               : std::numeric_limits<double>::infinity();
          named.buckets.emplace_back(upper, bucket[1].get<std::uint64_t>());
        }
      }
      r.histograms.push_back(std::move(named));
    }
  }
  {
    Statement s = db.Prepare(
        "SELECT domain, begin_s, end_s, reason, bridged, lost, open FROM timeline_gaps "
        "WHERE run_id = ?1 ORDER BY seq");
    s.Bind(1, id);
    while (s.Step()) {
      sampling::TimelineGap g;
      g.domain = s.Text(0);
      g.begin_s = NanIfNull(s, 1);
      g.end_s = NanIfNull(s, 2);
      g.reason = s.Text(3);
      g.bridged = s.Int(4) != 0;
      g.lost = s.Int(5) != 0;
      g.open = s.Int(6) != 0;
      r.timeline.gaps.push_back(std::move(g));
    }
  }
  {
    std::size_t domain_count = r.timeline.domains.size();
    r.timeline.joules.assign(domain_count, {});
    std::size_t total = StoredSampleCount(db, id);
    // Decimation keeps every step-th sample, the last one and the samples at gap edges: the
    // energy between kept samples stays exact (the joules are cumulative).
    const std::size_t step =
        max_samples > 0 && total > max_samples ? (total + max_samples - 1) / max_samples : 1;
    std::vector<double> edges;
    if (step > 1) {
      for (const auto& g : r.timeline.gaps) {
        edges.push_back(g.begin_s);
        edges.push_back(g.end_s);
      }
      std::sort(edges.begin(), edges.end());
    }
    const std::size_t kept = total / step + 1 + edges.size();
    r.timeline.time_s.reserve(kept);
    for (auto& series : r.timeline.joules) series.reserve(kept);
    Statement s = db.Prepare(
        "SELECT sample_count, time_s, joules FROM sample_chunks WHERE run_id = ?1 "
        "ORDER BY first_index");
    s.Bind(1, id);
    std::size_t index = 0;
    while (s.Step()) {
      auto count = static_cast<std::size_t>(s.Int(0));
      auto times = s.Blob(1);
      auto joules = s.Blob(2);
      if (times.size() != count * sizeof(double) ||
          joules.size() != count * domain_count * sizeof(double)) {
        throw RuntimeError(fmt::format(
            "run {}: a stored chunk of samples has the wrong size; the database is damaged", id));
      }
      if (step == 1) {
        std::size_t old = r.timeline.time_s.size();
        r.timeline.time_s.resize(old + count);
        std::memcpy(r.timeline.time_s.data() + old, times.data(), times.size());
        for (std::size_t d = 0; d < domain_count; ++d) {
          auto& series = r.timeline.joules[d];
          series.resize(old + count);
          std::memcpy(series.data() + old, joules.data() + d * count * sizeof(double),
                      count * sizeof(double));
        }
        index += count;
        continue;
      }
      for (std::size_t i = 0; i < count; ++i, ++index) {
        double t = 0;
        std::memcpy(&t, times.data() + i * sizeof(double), sizeof(double));
        if (index % step != 0 && index + 1 != total &&
            !std::binary_search(edges.begin(), edges.end(), t)) {
          continue;
        }
        r.timeline.time_s.push_back(t);
        for (std::size_t d = 0; d < domain_count; ++d) {
          double j = 0;
          std::memcpy(&j, joules.data() + (d * count + i) * sizeof(double), sizeof(double));
          r.timeline.joules[d].push_back(j);
        }
      }
    }
  }
  {
    Statement s = db.Prepare("SELECT report FROM energy_reports WHERE run_id = ?1 ORDER BY seq");
    s.Bind(1, id);
    while (s.Step()) {
      r.energy.push_back(run::EnergyReportFromJson(ParseJsonColumn(s, 0, "energy report", id)));
    }
  }
  {
    Statement s = db.Prepare(
        "SELECT begin_s, end_s, throughput_per_s, watts, latency_p50_s, latency_p99_s "
        "FROM windows WHERE run_id = ?1 ORDER BY seq");
    s.Bind(1, id);
    while (s.Step()) {
      r.windows.push_back({NanIfNull(s, 0), NanIfNull(s, 1), NanIfNull(s, 2), NanIfNull(s, 3),
                           NanIfNull(s, 4), NanIfNull(s, 5)});
    }
  }
  {
    Statement s = db.Prepare(
        "SELECT name, value, unit, provenance FROM metrics WHERE run_id = ?1 ORDER BY seq");
    s.Bind(1, id);
    while (s.Step()) r.metrics.push_back({s.Text(0), NanIfNull(s, 1), s.Text(2), s.Text(3)});
  }
  {
    Statement s = db.Prepare(
        "SELECT load_fraction, rate_per_s, achieved_per_s, watts_total, watts_by_domain "
        "FROM power_curve WHERE run_id = ?1 ORDER BY seq");
    s.Bind(1, id);
    while (s.Step()) {
      run::LoadLevelPoint p{NanIfNull(s, 0), NanIfNull(s, 1), NanIfNull(s, 2), NanIfNull(s, 3), {}};
      for (const auto& pair : ParseJsonColumn(s, 4, "power curve", id)) {
        if (pair.is_array() && pair.size() == 2 && pair[0].is_string()) {
          p.watts_by_domain.emplace_back(pair[0].get<std::string>(),
                                         pair[1].is_number()
                                             ? pair[1].get<double>()
                                             : std::numeric_limits<double>::quiet_NaN());
        }
      }
      r.power_curve.push_back(std::move(p));
    }
  }
  {
    Statement s = db.Prepare(
        "SELECT rate_per_s, latency_percentile_s, valid FROM peak_probes WHERE run_id = ?1 "
        "ORDER BY seq");
    s.Bind(1, id);
    while (s.Step()) r.peak_probes.push_back({NanIfNull(s, 0), NanIfNull(s, 1), s.Int(2) != 0});
  }
  {
    Statement s = db.Prepare("SELECT node FROM run_nodes WHERE run_id = ?1 ORDER BY seq");
    s.Bind(1, id);
    while (s.Step()) {
      r.nodes.push_back(run::NodeResultFromJson(ParseJsonColumn(s, 0, "node", id)));
    }
  }
  r.tune_probes = ReadTuneProbes(db, id);
  return r;
}

}  // namespace joulebench::store
