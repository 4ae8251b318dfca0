#include "store/schema.h"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace joulebench::store {
namespace {

// Version 1: runs, timeline chunks, energy reports, windows, metrics, power curve.
// A timeline chunk holds `sample_count` samples: time_s as little-endian float64, joules as
// float64 domain-major (all samples of domain 0, then domain 1, ...), domains in the order of
// runs.timeline_domains. One row per writer call keeps an hour at 10 ms to a few MB of rows.
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  start_unix_s REAL NOT NULL,
  end_unix_s REAL,
  status TEXT NOT NULL,
  verdict TEXT NOT NULL DEFAULT '',
  verdict_reasons TEXT NOT NULL DEFAULT '[]',
  config TEXT NOT NULL DEFAULT '{}',
  fingerprint TEXT NOT NULL DEFAULT '{}',
  steady_state_at_s REAL,
  steady_state_criterion TEXT NOT NULL DEFAULT '',
  warnings TEXT NOT NULL DEFAULT '[]',
  latency_histogram TEXT NOT NULL DEFAULT '[]',
  timeline_start_unix_s REAL NOT NULL DEFAULT 0,
  timeline_domains TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE sample_chunks (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  first_index INTEGER NOT NULL,
  sample_count INTEGER NOT NULL,
  time_s BLOB NOT NULL,
  joules BLOB NOT NULL,
  PRIMARY KEY (run_id, first_index)
) WITHOUT ROWID;
CREATE TABLE energy_reports (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  report TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE windows (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  begin_s REAL, end_s REAL, throughput_per_s REAL, watts REAL,
  latency_p50_s REAL, latency_p99_s REAL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL,
  unit TEXT NOT NULL,
  provenance TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE power_curve (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  load_fraction REAL, rate_per_s REAL, achieved_per_s REAL, watts_total REAL,
  watts_by_domain TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql";

// Version 2: the writer's process (pid, boot id, start time) so that a run whose process died
// reads as incomplete; the peak search's probes; an index for `runs list --since`.
// Runs stored by version 1 have no owner: if one still says "running" it is shown incomplete.
constexpr std::string_view kMigration2 = R"sql(
ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
ALTER TABLE runs ADD COLUMN owner_boot_id TEXT;
ALTER TABLE runs ADD COLUMN owner_start_ticks INTEGER;
CREATE TABLE peak_probes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  rate_per_s REAL, latency_percentile_s REAL, valid INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE INDEX runs_by_start ON runs(start_unix_s);
)sql";

// Version 3: named histograms other than the query latency (token latencies of streamed
// replies), as JSON like latency_histogram.
constexpr std::string_view kMigration3 = R"sql(
ALTER TABLE runs ADD COLUMN histograms TEXT NOT NULL DEFAULT '[]';
)sql";

// Version 4: the per-node breakdown of multi-node runs (--mpi), one row per node holding the
// node's document as in a run's JSON "nodes" (docs/json-schema.md).
constexpr std::string_view kMigration4 = R"sql(
CREATE TABLE run_nodes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  node_id TEXT NOT NULL,
  status TEXT NOT NULL,
  node TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql";

// Version 5: the configurations a `tune` run measured, one row per probe (a configuration at
// one rung), with its energy per unit of work and, for int8 / bf16, its agreement with fp32.
constexpr std::string_view kMigration5 = R"sql(
CREATE TABLE tune_probes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  knobs TEXT NOT NULL DEFAULT '{}',
  rung INTEGER NOT NULL,
  probe_duration_s REAL,
  outcome TEXT NOT NULL,
  verdict TEXT NOT NULL DEFAULT '',
  reasons TEXT NOT NULL DEFAULT '[]',
  rate_per_s REAL, throughput_per_s REAL, latency_s REAL, mean_watts REAL,
  joules_per_unit REAL, joules_per_unit_attributable REAL,
  energy_provenance TEXT NOT NULL DEFAULT '',
  accuracy_max_abs_diff REAL, accuracy_cosine REAL, accuracy_argmax_agreement REAL,
  elapsed_s REAL,
  chosen INTEGER NOT NULL DEFAULT 0,
  pareto INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql";

// Version 6: gaps in a run's timeline, one row per gap of one domain: a span without a
// measurement of that domain (failed reads, a counter fault, a lost sensor). bridged: its
// counter measured the energy across it; lost: the domain never came back; open: the gap had
// not ended when it was stored (its end is the latest sample then).
constexpr std::string_view kMigration6 = R"sql(
CREATE TABLE timeline_gaps (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  domain TEXT NOT NULL,
  begin_s REAL, end_s REAL,
  reason TEXT NOT NULL DEFAULT '',
  bridged INTEGER NOT NULL DEFAULT 0,
  lost INTEGER NOT NULL DEFAULT 0,
  open INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql";

constexpr std::array<std::string_view, 6> kMigrations = {kMigration1, kMigration2, kMigration3,
                                                         kMigration4, kMigration5, kMigration6};

int PragmaInt(Database& db, std::string_view pragma) {
  Statement s = db.Prepare(fmt::format("PRAGMA {}", pragma));
  return s.Step() ? static_cast<int>(s.Int(0)) : 0;
}

}  // namespace

int UserVersion(Database& db) { return PragmaInt(db, "user_version"); }
int ApplicationId(Database& db) { return PragmaInt(db, "application_id"); }

void MigrateTo(Database& db, int target) {
  Transaction tx(db);
  int version = UserVersion(db);
  for (int v = version; v < target; ++v) db.Exec(kMigrations.at(static_cast<std::size_t>(v)));
  if (version < target) {
    db.Exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
    db.Exec(fmt::format("PRAGMA user_version = {}", target));
  }
  tx.Commit();
}

}  // namespace joulebench::store
