#include "joulebench/store/run_store.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <system_error>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/units.h"
#include "store/process_owner.h"
#include "store/run_tables.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

namespace joulebench::store {
namespace {

namespace fs = std::filesystem;

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

// A timeline saved in one go is split into chunks of this many samples (~64 KiB of time
// stamps), so that reading part of a long run never needs one huge blob.
constexpr std::size_t kSaveChunkSamples = 8192;

void CheckLocation(const fs::path& path, bool create_parent_dirs) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw InputError(fmt::format("database {} is a directory; give the path of a file, e.g. {}",
                                 path.string(), (path / "runs.db").string()));
  }
  fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (!fs::exists(parent, ec)) {
    if (!create_parent_dirs) {
      throw EnvironmentError(
          fmt::format("database {}: directory {} does not exist; create it or pass another --db",
                      path.string(), parent.string()));
    }
    fs::create_directories(parent, ec);
    if (ec) {
      throw EnvironmentError(fmt::format(
          "database {}: cannot create directory {} ({}); set JOULEBENCH_DB or pass --db",
          path.string(), parent.string(), ec.message()));
    }
  }
  if (!fs::is_directory(parent, ec)) {
    throw EnvironmentError(fmt::format("database {}: {} is not a directory; pass another --db",
                                       path.string(), parent.string()));
  }
  // SQLite in WAL mode creates the -wal and -shm files next to the database, so the directory
  // must be writable even when the file already exists.
  if (access(parent.c_str(), W_OK | X_OK) != 0) {
    throw EnvironmentError(fmt::format(
        "database {}: directory {} is not writable; fix its permissions or pass another --db",
        path.string(), parent.string()));
  }
  if (fs::exists(path, ec) && access(path.c_str(), R_OK | W_OK) != 0) {
    throw EnvironmentError(fmt::format(
        "database {}: the file is not readable and writable by this user; fix its permissions "
        "or pass another --db",
        path.string()));
  }
}

// Switching a file to WAL takes an exclusive lock without SQLite's busy handler, so a
// process opening the store while another one does gets SQLITE_BUSY at once: retry for as
// long as the busy timeout would have waited.
void SwitchToWal(Database& db, const fs::path& path) {
  const auto deadline = std::chrono::steady_clock::now() + Database::kBusyTimeout;
  for (;;) {
    Statement s = db.Prepare("PRAGMA journal_mode = WAL");
    const int rc = s.TryStep();
    if (rc == SQLITE_ROW && s.Text(0) == "wal") return;
    if ((rc & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (rc != SQLITE_ROW && (rc & 0xff) != SQLITE_DONE) db.Fail(rc, "switching to WAL");
    throw EnvironmentError(fmt::format(
        "database {}: cannot switch to write-ahead logging (the file system may not support "
        "shared memory, e.g. some network file systems); pass a --db on a local disk",
        path.string()));
  }
}

std::shared_ptr<Database> OpenDatabase(const fs::path& path, bool create_parent_dirs) {
  CheckLocation(path, create_parent_dirs);
  auto db = std::make_shared<Database>(path, /*create=*/true);
  // Read-only checks first: nothing below may change a file we are going to refuse. One read
  // transaction, so that another process creating the schema meanwhile is seen all or nothing.
  db->Exec("BEGIN");
  int application_id = 0;
  int version = 0;
  std::int64_t tables = 0;
  try {
    application_id = ApplicationId(*db);
    version = UserVersion(*db);
    Statement s = db->Prepare("SELECT count(*) FROM sqlite_master");
    if (s.Step()) tables = s.Int(0);
  } catch (...) {
    sqlite3_exec(db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  db->Exec("COMMIT");
  if (version > kSchemaVersion) {
    throw EnvironmentError(fmt::format(
        "database {} has schema version {}, written by a newer joulebench (this one knows up "
        "to {}); use that joulebench or pass another --db. The file was not changed",
        path.string(), version, kSchemaVersion));
  }
  if (application_id != kApplicationId && (version != 0 || tables != 0)) {
    throw EnvironmentError(fmt::format(
        "database {} is an SQLite database of another program, not a joulebench store; it was "
        "left untouched - pass another --db",
        path.string()));
  }
  SwitchToWal(*db, path);
  // In WAL mode NORMAL loses no committed transaction when the process dies; only a power
  // loss may drop the last ones (https://www.sqlite.org/pragma.html#pragma_synchronous).
  db->Exec("PRAGMA synchronous = NORMAL");
  db->Exec("PRAGMA foreign_keys = ON");
  if (version < kSchemaVersion) MigrateTo(*db, kSchemaVersion);
  return db;
}

double NowUnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string InProgressMessage(std::int64_t id, const ProcessOwner& owner) {
  return fmt::format(
      "run {} is still in progress (written by process {}); wait until it finishes, or stop it "
      "with Ctrl-C to store it as incomplete",
      id, owner.pid);
}

std::string WorkloadOf(const nlohmann::json& config) {
  for (const char* key : {"workload", "model", "command"}) {
    auto it = config.find(key);
    if (it == config.end()) continue;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_array()) {
      std::string joined;
      for (const auto& part : *it) {
        if (!joined.empty()) joined += ' ';
        joined += part.is_string() ? part.get<std::string>() : run::DumpJson(part);
      }
      return joined;
    }
  }
  return "";
}

}  // namespace

fs::path DatabasePath(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return fs::path(*flag);
  if (const char* v = Env("JOULEBENCH_DB")) return fs::path(v);
  if (const char* v = Env("XDG_DATA_HOME")) return fs::path(v) / "joulebench" / "runs.db";
  if (const char* v = Env("HOME"))
    return fs::path(v) / ".local" / "share" / "joulebench" / "runs.db";
  throw EnvironmentError(
      "cannot tell where to keep runs: neither HOME nor XDG_DATA_HOME is set; pass --db PATH or "
      "set JOULEBENCH_DB");
}

bool StoringEnabled(bool no_store_flag) {
  if (no_store_flag) return false;
  if (const char* v = Env("JOULEBENCH_NO_STORE")) {
    std::string value(v);
    std::transform(value.begin(), value.end(), value.begin(), ::tolower);
    if (value == "1" || value == "true" || value == "yes") return false;
  }
  return true;
}

double ParseSince(std::string_view text, double now_unix_s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::string s(text);
  char tail[8] = {0};
  int fields = std::sscanf(s.c_str(), "%4d-%2d-%2d%*[T ]%2d:%2d:%2d%7s", &year, &month, &day, &hour,
                           &minute, &second, tail);
  bool date_only = fields == 3 && s.size() == 10;
  bool time_ok = fields >= 5 && (tail[0] == '\0' || std::string_view(tail) == "Z");
  if (fields == 5) {
    // "2026-11-29T09:30" or "...T09:30Z": no seconds field.
    std::string rest = s.substr(std::min<std::size_t>(16, s.size()));
    time_ok = rest.empty() || rest == "Z";
  }
  if ((date_only || time_ok) && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 &&
      minute < 60 && second < 61) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return static_cast<double>(timegm(&tm));
  }
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0])) &&
      s.find('-') == std::string::npos) {
    return now_unix_s - std::chrono::duration<double>(ParseDuration(text, "--since")).count();
  }
  throw InputError(fmt::format(
      "--since: '{}' is neither a UTC date (2026-11-29), a UTC time (2026-11-29T09:30:00Z) nor a "
      "duration back from now (24h, 7d)",
      text));
}

RunStore OpenStore(const std::optional<std::string>& db_flag) {
  bool is_default = !(db_flag && !db_flag->empty()) && Env("JOULEBENCH_DB") == nullptr;
  return RunStore::Open(DatabasePath(db_flag), is_default);
}

RunStore OpenExistingStore(const std::optional<std::string>& db_flag) {
  return RunStore::OpenExisting(DatabasePath(db_flag));
}

RunStore::RunStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}
RunStore::~RunStore() = default;
RunStore::RunStore(RunStore&&) noexcept = default;
RunStore& RunStore::operator=(RunStore&&) noexcept = default;

RunStore RunStore::Open(const fs::path& path, bool create_parent_dirs) {
  return RunStore(OpenDatabase(path, create_parent_dirs));
}

RunStore RunStore::OpenExisting(const fs::path& path) {
  std::error_code ec;
  fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (!fs::is_directory(parent, ec)) {
    throw EnvironmentError(
        fmt::format("database {}: directory {} does not exist; check --db / JOULEBENCH_DB",
                    path.string(), parent.string()));
  }
  if (!fs::exists(path, ec)) {
    throw InputError(fmt::format(
        "database {} does not exist: no runs stored there yet (runs are stored by measure, "
        "loadgen, infer and train; --db or JOULEBENCH_DB choose another file)",
        path.string()));
  }
  return RunStore(OpenDatabase(path, false));
}

const fs::path& RunStore::path() const { return db_->path(); }

int RunStore::schema_version() const { return UserVersion(*db_); }

RunWriter RunStore::BeginRun(const run::RunRecord& record) {
  ProcessOwner owner = CurrentProcessOwner();
  run::RunRecord header = record;
  if (header.start_unix_s == 0) header.start_unix_s = NowUnixSeconds();
  std::int64_t id = 0;
  {
    Transaction tx(*db_);
    id = InsertRunRow(*db_, header, run::RunStatus::kRunning, &owner);
    tx.Commit();
  }
  RunWriter writer(db_, id, header.timeline.domains, 0);
  if (!header.timeline.time_s.empty()) writer.AppendSamples(header.timeline);
  return writer;
}

std::string RunStore::Save(const run::RunRecord& record) {
  const auto& t = record.timeline;
  if (t.joules.size() != t.domains.size()) {
    throw InputError(fmt::format("run timeline has {} series for {} domains", t.joules.size(),
                                 t.domains.size()));
  }
  for (const auto& series : t.joules) {
    if (series.size() != t.time_s.size()) {
      throw InputError("run timeline: a domain's series and time_s differ in length");
    }
  }
  Transaction tx(*db_);
  std::int64_t id = InsertRunRow(*db_, record, record.status, nullptr);
  for (std::size_t first = 0; first < t.time_s.size(); first += kSaveChunkSamples) {
    std::size_t count = std::min(kSaveChunkSamples, t.time_s.size() - first);
    std::vector<std::span<const double>> joules;
    for (const auto& series : t.joules) joules.emplace_back(series.data() + first, count);
    InsertSampleChunk(*db_, id, first, std::span<const double>(t.time_s.data() + first, count),
                      joules);
  }
  if (!t.gaps.empty()) ReplaceGaps(*db_, id, t.gaps);
  SetStatus(*db_, id, record.status, record.end_unix_s);
  tx.Commit();
  return std::to_string(id);
}

std::vector<RunSummary> RunStore::List(const ListFilter& filter) {
  std::string sql =
      "SELECT r.id, r.kind, r.name, r.start_unix_s, r.end_unix_s, r.status, r.verdict, "
      "r.config, r.owner_pid, r.owner_boot_id, r.owner_start_ticks, "
      "(SELECT COALESCE(SUM(sample_count), 0) FROM sample_chunks c WHERE c.run_id = r.id), "
      "(SELECT value FROM metrics m WHERE m.run_id = r.id AND m.name = 'throughput' "
      " ORDER BY seq LIMIT 1), "
      "(SELECT unit FROM metrics m WHERE m.run_id = r.id AND m.name = 'throughput' "
      " ORDER BY seq LIMIT 1), "
      "(SELECT provenance FROM metrics m WHERE m.run_id = r.id AND m.name = 'throughput' "
      " ORDER BY seq LIMIT 1), "
      "(SELECT json_extract(report, '$.mean_watts') FROM energy_reports e WHERE e.run_id = r.id "
      " AND e.name NOT IN ('baseline', 'default configuration') "
      " ORDER BY (e.name = 'measurement') DESC, seq DESC LIMIT 1) "
      "FROM runs r WHERE (?1 IS NULL OR r.kind = ?1) AND (?2 IS NULL OR r.start_unix_s >= ?2) "
      "ORDER BY r.start_unix_s DESC, r.id DESC";
  Statement s = db_->Prepare(sql);
  if (filter.kind) s.Bind(1, std::string_view(*filter.kind));
  if (filter.since_unix_s) s.Bind(2, *filter.since_unix_s);
  std::vector<RunSummary> out;
  while (s.Step()) {
    RunSummary r;
    r.id = std::to_string(s.Int(0));
    r.kind = s.Text(1);
    r.name = s.Text(2);
    r.start_unix_s = s.IsNull(3) ? 0 : s.Double(3);
    r.end_unix_s = s.IsNull(4) ? 0 : s.Double(4);
    try {
      r.status = run::ParseRunStatus(s.Text(5));
    } catch (const InputError&) {
      r.status = run::RunStatus::kIncomplete;
    }
    ProcessOwner owner{s.IsNull(8) ? 0 : s.Int(8), s.Text(9), s.IsNull(10) ? 0 : s.Int(10)};
    r.status = EffectiveStatus(r.status, owner);
    r.verdict = s.Text(6);
    try {
      r.workload = WorkloadOf(nlohmann::json::parse(s.Text(7)));
    } catch (const nlohmann::json::exception&) {
    }
    r.samples = static_cast<std::size_t>(s.Int(11));
    if (!s.IsNull(12))
      r.throughput = run::Metric{"throughput", s.Double(12), s.Text(13), s.Text(14)};
    r.mean_watts = s.OptionalDouble(15);
    out.push_back(std::move(r));
  }
  return out;
}

run::RunRecord RunStore::Load(std::string_view id_text, bool allow_running) {
  return Load(id_text, LoadOptions{.allow_running = allow_running});
}

run::RunRecord RunStore::Load(std::string_view id_text, const LoadOptions& options) {
  const bool allow_running = options.allow_running;
  std::int64_t id = ParseRunId(id_text);
  // One read transaction: a snapshot even while the run's writer commits more samples.
  db_->Exec("BEGIN");
  try {
    RunRow row = ReadRunRow(*db_, id);
    if (row.status == run::RunStatus::kRunning && !allow_running) {
      throw InputError(InProgressMessage(id, row.owner));
    }
    run::RunRecord record = ReadRun(*db_, id, options.max_timeline_samples);
    db_->Exec("COMMIT");
    return record;
  } catch (...) {
    db_->Exec("ROLLBACK");
    throw;
  }
}

std::size_t RunStore::SampleCount(std::string_view id_text) {
  const std::int64_t id = ParseRunId(id_text);
  ReadRunRow(*db_, id);  // InputError for a run that is not stored
  return StoredSampleCount(*db_, id);
}

bool RunStore::Contains(std::string_view id_text) {
  std::int64_t id = 0;
  try {
    id = ParseRunId(id_text);
  } catch (const InputError&) {
    return false;
  }
  Statement s = db_->Prepare("SELECT 1 FROM runs WHERE id = ?1");
  s.Bind(1, id);
  return s.Step();
}

void RunStore::Delete(const std::vector<std::string>& ids) {
  std::vector<std::int64_t> parsed;
  for (const auto& text : ids) parsed.push_back(ParseRunId(text));
  Transaction tx(*db_);
  for (std::int64_t id : parsed) {
    RunRow row = ReadRunRow(*db_, id);
    if (row.status == run::RunStatus::kRunning) throw InputError(InProgressMessage(id, row.owner));
  }
  for (std::int64_t id : parsed) {
    for (std::string_view table :
         {"sample_chunks", "energy_reports", "windows", "metrics", "power_curve", "peak_probes",
          "run_nodes", "tune_probes", "timeline_gaps"}) {
      db_->Prepare(fmt::format("DELETE FROM {} WHERE run_id = ?1", table)).Bind(1, id).Run();
    }
    db_->Prepare("DELETE FROM runs WHERE id = ?1").Bind(1, id).Run();
  }
  tx.Commit();
}

}  // namespace joulebench::store
