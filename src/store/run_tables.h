// Reading and writing one run's rows. Callers hold the transaction.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "joulebench/run/run_record.h"
#include "store/process_owner.h"
#include "store/sqlite_db.h"

namespace joulebench::store {

// Inserts the runs row (header, timeline domains and start time) and returns its id.
std::int64_t InsertRunRow(Database& db, const run::RunRecord& record, run::RunStatus status,
                          const ProcessOwner* owner);
// Rewrites the run's results: every field but the timeline samples, start time and owner.
// Windows are append-only during a run: when `windows_stored` of them are already stored (and
// the record has at least as many), only the new ones are inserted, so that syncing every
// second of an hour-long run stays linear. Returns the number of windows stored.
std::size_t ReplaceResults(Database& db, std::int64_t run_id, const run::RunRecord& record,
                           std::size_t windows_stored = 0);
void SetTimelineDomains(Database& db, std::int64_t run_id,
                        const std::vector<energy::DomainInfo>& domains, double start_unix_s);
// One chunk of samples; joules[d] holds the samples of domain d, each of time_s.size().
void InsertSampleChunk(Database& db, std::int64_t run_id, std::size_t first_index,
                       std::span<const double> time_s,
                       const std::vector<std::span<const double>>& joules);
void SetStatus(Database& db, std::int64_t run_id, run::RunStatus status, double end_unix_s);
// The probes of a tune run (tune_probe_tables.cc); ReplaceResults and ReadRun call these.
void InsertTuneProbes(Database& db, std::int64_t run_id, const std::vector<run::TuneProbe>& probes);
std::vector<run::TuneProbe> ReadTuneProbes(Database& db, std::int64_t run_id);
// Replaces the run's timeline gaps (a timeline's gaps only grow, and an open one's end moves).
void ReplaceGaps(Database& db, std::int64_t run_id, const std::vector<sampling::TimelineGap>& gaps);

struct RunRow {
  std::int64_t id = 0;
  run::RunStatus stored_status = run::RunStatus::kRunning;
  run::RunStatus status = run::RunStatus::kRunning;  // effective (dead writer -> incomplete)
  ProcessOwner owner;
};
// Throws InputError when `id` is not a stored run (the message says how to list runs).
RunRow ReadRunRow(Database& db, std::int64_t id);
// The whole run. max_samples > 0: a timeline longer than that is decimated while it is read
// (every k-th sample, the last one and the samples at gap edges: energies between the kept
// samples are exact), so that a day at 10 ms never sits in memory whole.
run::RunRecord ReadRun(Database& db, std::int64_t id, std::size_t max_samples = 0);
std::size_t StoredSampleCount(Database& db, std::int64_t run_id);

// Effective status of a stored status and its owner.
run::RunStatus EffectiveStatus(run::RunStatus stored, const ProcessOwner& owner);

// Parses a user-given run id ("12"); throws InputError naming it.
std::int64_t ParseRunId(std::string_view text);

}  // namespace joulebench::store
