// The run store: every run of measure / loadgen / infer / train, kept in one SQLite file so
// that runs can be listed, compared, planned with and drawn later.
//
//   auto store = joulebench::store::RunStore::Open(joulebench::store::DatabasePath(db_flag));
//   auto writer = store.BeginRun(record);            // record.kind, name, config, fingerprint
//   writer.AppendSamples(meter.Snapshot());          // each call: one transaction
//   ... writer.Sync(record) whenever something was measured ...
//   writer.Finish(record, run::RunStatus::kComplete);
//   for (auto& summary : store.List({})) ...
//   run::RunRecord r = store.Load("12");
//
// Durability: the database is in WAL mode; every writer call commits its own transaction,
// so a process killed with SIGKILL loses at most the call in flight. A run whose writer
// process is gone without finishing reads back with status "incomplete". Several processes
// may write to the same file at once (each waits for the other's transaction, up to 15 s).
//
// Schema: versioned with PRAGMA user_version and migrated forward when opened; a database
// written by a newer joulebench is refused and never altered.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/run/run_record.h"
#include "joulebench/store/run_writer.h"

namespace joulebench::store {

class Database;

// The schema version this build writes (PRAGMA user_version).
constexpr int kSchemaVersion = 6;

// The database to use: `flag` (--db PATH) when given, else $JOULEBENCH_DB, else
// $XDG_DATA_HOME/joulebench/runs.db, else ~/.local/share/joulebench/runs.db.
std::filesystem::path DatabasePath(const std::optional<std::string>& flag = std::nullopt);

// The store for a command that writes runs: DatabasePath(flag), created when missing (with
// its parent directories only for the default location; an explicit --db or $JOULEBENCH_DB
// in a missing directory is an error).
class RunStore;
RunStore OpenStore(const std::optional<std::string>& db_flag);
// The store for a command that reads or deletes runs; throws InputError when the database
// does not exist yet.
RunStore OpenExistingStore(const std::optional<std::string>& db_flag);

// True unless `no_store_flag` (--no-store) is set or $JOULEBENCH_NO_STORE is "1"/"true"/"yes".
bool StoringEnabled(bool no_store_flag);

// `runs list --since`: a UTC date "2026-11-29", a UTC time "2026-11-29T09:30[:00][Z]", or a
// duration back from `now_unix_s` ("24h", "7d"). Returns seconds since the epoch; throws
// InputError naming --since.
double ParseSince(std::string_view text, double now_unix_s);

// One line of `runs list`.
struct RunSummary {
  std::string id;
  std::string kind;
  std::string name;
  double start_unix_s = 0;
  double end_unix_s = 0;                             // 0 while running or when the writer died
  run::RunStatus status = run::RunStatus::kRunning;  // effective: a dead writer's run is incomplete
  std::string verdict;
  std::string workload;                   // config["workload"] or config["command"] when present
  std::size_t samples = 0;                // timeline samples stored
  std::optional<run::Metric> throughput;  // metric "throughput" when stored
  std::optional<double> mean_watts;       // of the "measurement" window (else the last window)
};

struct LoadOptions {
  bool allow_running = false;  // load a run still being written by a live process
  // 0: every sample. Else a longer timeline is decimated while it is read to about this many
  // samples (every k-th, the last one and those at gap edges; the joules are cumulative, so
  // the energy between kept samples is exact): a report of a day at 10 ms then reads its
  // 8.64 M samples in chunks and never holds them all.
  std::size_t max_timeline_samples = 0;
};

struct ListFilter {
  std::optional<std::string> kind;     // only runs of this kind
  std::optional<double> since_unix_s;  // only runs that started at or after this time
};

// Not thread-safe: use a store and its writers from one thread.
class RunStore {
 public:
  // Opens the database at `path`, creating it (and, when `create_parent_dirs`, its parent
  // directories) if it does not exist. Throws EnvironmentError when the directory is missing
  // or not writable, the file is not a SQLite database, is not a joulebench database, or
  // comes from a newer joulebench; the file is never changed in those cases.
  static RunStore Open(const std::filesystem::path& path, bool create_parent_dirs = false);
  // Opens an existing database for reading and management; throws InputError when the file
  // does not exist ("no runs stored yet").
  static RunStore OpenExisting(const std::filesystem::path& path);

  ~RunStore();
  RunStore(RunStore&&) noexcept;
  RunStore& operator=(RunStore&&) noexcept;

  const std::filesystem::path& path() const;
  int schema_version() const;

  // Starts a run: stores the record's header (kind, name, start time, config, fingerprint,
  // timeline domains and anything already in it) with status "running" and this process as
  // its owner, and returns the writer that continues it. record.id is ignored (assigned).
  RunWriter BeginRun(const run::RunRecord& record);
  // Stores a finished record in one transaction; returns its id.
  std::string Save(const run::RunRecord& record);

  // Newest first.
  std::vector<RunSummary> List(const ListFilter& filter = {});
  // Throws InputError for an id that is not a number or not stored. A run still being
  // written by a live process is refused (InputError) unless allow_running.
  run::RunRecord Load(std::string_view id, bool allow_running = false);
  run::RunRecord Load(std::string_view id, const LoadOptions& options);
  // Timeline samples stored for run `id` (InputError when it is not a stored run).
  std::size_t SampleCount(std::string_view id);
  // True when `id` is a well-formed id of a stored run (in any status).
  bool Contains(std::string_view id);
  // Deletes runs (all or none). Unknown ids and runs in progress are refused (InputError)
  // before anything is deleted.
  void Delete(const std::vector<std::string>& ids);

 private:
  explicit RunStore(std::shared_ptr<Database> db);
  std::shared_ptr<Database> db_;
};

}  // namespace joulebench::store
