#include "joulebench/store/run_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "joulebench/error.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "support/sample_run_record.h"
#include "support/temp_dir.h"

namespace joulebench::store {
namespace {

using run::RunRecord;
using run::RunStatus;
using testing::ReadFile;
using testing::SampleRunRecord;
using testing::TempDir;

std::string Message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Raw SQL on the file, as another tool would: for setting up old or foreign databases.
void RawSql(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

TEST(RunStore, SavedRunComesBackWithEveryField) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  RunRecord original = SampleRunRecord(20000);  // more than one chunk of samples
  std::string id = store.Save(original);
  RunRecord back = store.Load(id);
  original.id = id;
  testing::ExpectSameRunRecord(original, back);
}

TEST(RunStore, SavedRunSurvivesReopening) {
  TempDir dir;
  std::string id;
  RunRecord original = SampleRunRecord(300);
  {
    RunStore store = RunStore::Open(dir.path() / "runs.db");
    id = store.Save(original);
  }
  RunStore store = RunStore::OpenExisting(dir.path() / "runs.db");
  original.id = id;
  testing::ExpectSameRunRecord(original, store.Load(id));
}

TEST(RunStore, NaNValuesSurvive) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  RunRecord r = SampleRunRecord(10);
  r.metrics[0].value = std::nan("");
  r.windows[0].watts = std::nan("");
  r.timeline.joules[1][3] = std::nan("");
  RunRecord back = store.Load(store.Save(r));
  EXPECT_TRUE(std::isnan(back.metrics[0].value));
  EXPECT_TRUE(std::isnan(back.windows[0].watts));
  EXPECT_TRUE(std::isnan(back.timeline.joules[1][3]));
  EXPECT_EQ(back.timeline.joules[1][4], r.timeline.joules[1][4]);
}

TEST(RunWriter, IncrementalRunComesBackWithEveryField) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  RunRecord full = SampleRunRecord(1000);
  RunRecord header = full;
  header.timeline.time_s.clear();
  for (auto& series : header.timeline.joules) series.clear();
  header.energy.clear();
  header.metrics.clear();
  RunWriter writer = store.BeginRun(header);
  // Batches of 100 samples, then the results, then the rest through Finish.
  for (std::size_t first = 0; first < 700; first += 100) {
    std::vector<std::vector<double>> joules;
    for (const auto& series : full.timeline.joules) {
      joules.emplace_back(series.begin() + first, series.begin() + first + 100);
    }
    writer.AppendSamples(std::span(full.timeline.time_s).subspan(first, 100), joules);
  }
  EXPECT_EQ(writer.samples_stored(), 700u);
  RunRecord partial = full;
  partial.metrics.resize(1);
  writer.Sync(partial);
  writer.Finish(full, RunStatus::kComplete);
  RunRecord back = store.Load(writer.id());
  full.id = writer.id();
  full.status = RunStatus::kComplete;
  testing::ExpectSameRunRecord(full, back);
}

TEST(RunWriter, TimelineSnapshotsAppendOnlyNewSamples) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  RunRecord full = SampleRunRecord(90);
  RunRecord header;
  header.kind = "measure";
  RunWriter writer = store.BeginRun(header);  // no domains yet: taken from the first snapshot
  sampling::Timeline snapshot = full.timeline;
  snapshot.time_s.resize(40);
  for (auto& s : snapshot.joules) s.resize(40);
  writer.AppendSamples(snapshot);
  writer.AppendSamples(snapshot);  // nothing new
  writer.AppendSamples(full.timeline);
  writer.Finish(RunStatus::kComplete);
  RunRecord back = store.Load(writer.id());
  ASSERT_EQ(back.timeline.time_s, full.timeline.time_s);
  EXPECT_EQ(back.timeline.joules, full.timeline.joules);
  ASSERT_EQ(back.timeline.domains.size(), 3u);
  EXPECT_EQ(back.timeline.domains[2].name, "model/network");
}

TEST(RunWriter, WindowsGrowBySyncAndAShorterListReplacesThem) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  RunRecord r = SampleRunRecord(0);
  r.windows.clear();
  RunWriter writer = store.BeginRun(r);
  for (int w = 0; w < 30; ++w) {
    r.windows.push_back({1.0 * w, 1.0 * w + 1, 10.0 + w, 20.0, 0.01, 0.02});
    writer.Sync(r);
  }
  RunRecord back = store.Load(writer.id(), /*allow_running=*/true);
  ASSERT_EQ(back.windows.size(), 30u);
  EXPECT_EQ(back.windows[29].throughput_per_s, 39.0);
  EXPECT_EQ(back.windows[0].throughput_per_s, 10.0);
  r.windows.resize(2);  // e.g. a run that re-windows its result at the end
  writer.Finish(r, RunStatus::kComplete);
  back = store.Load(writer.id());
  ASSERT_EQ(back.windows.size(), 2u);
  EXPECT_EQ(back.windows[1].throughput_per_s, 11.0);
}

TEST(RunWriter, RejectsSamplesOfTheWrongShape) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  RunWriter writer = store.BeginRun(SampleRunRecord(0));
  std::vector<double> time{0.0, 0.1};
  EXPECT_THROW(writer.AppendSamples(time, {{1.0, 2.0}}), InputError);  // 1 series, 3 domains
  EXPECT_THROW(writer.AppendSamples(time, {{1.0}, {1.0, 2.0}, {1.0, 2.0}}), InputError);
  EXPECT_EQ(writer.samples_stored(), 0u);
}

TEST(RunWriter, RunInProgressIsListedAsRunningAndRefusedByLoadAndDelete) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  RunWriter writer = store.BeginRun(SampleRunRecord(10));
  auto runs = store.List();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::kRunning);
  EXPECT_EQ(runs[0].samples, 10u);
  std::string load_error = Message([&] { store.Load(writer.id()); });
  EXPECT_NE(load_error.find("still in progress"), std::string::npos) << load_error;
  EXPECT_THROW(store.Delete({writer.id()}), InputError);
  EXPECT_EQ(store.Load(writer.id(), /*allow_running=*/true).timeline.time_s.size(), 10u);
  writer.Finish(RunStatus::kComplete);
  EXPECT_EQ(store.Load(writer.id()).status, RunStatus::kComplete);
}

TEST(RunWriter, WriterDroppedWithoutFinishLeavesAnIncompleteRun) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  std::string id;
  {
    RunWriter writer = store.BeginRun(SampleRunRecord(5));
    id = writer.id();
  }
  RunRecord back = store.Load(id);
  EXPECT_EQ(back.status, RunStatus::kIncomplete);
  EXPECT_GT(back.end_unix_s, 0);
}

TEST(RunStore, ListFiltersByKindAndStartTimeNewestFirst) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  RunRecord a = SampleRunRecord(1);
  a.kind = "infer";
  a.start_unix_s = 1000;
  RunRecord b = SampleRunRecord(1);
  b.kind = "train";
  b.start_unix_s = 2000;
  RunRecord c = SampleRunRecord(1);
  c.kind = "infer";
  c.start_unix_s = 3000;
  std::string ida = store.Save(a), idb = store.Save(b), idc = store.Save(c);
  auto all = store.List();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, idc);
  EXPECT_EQ(all[2].id, ida);
  auto infer = store.List({.kind = "infer"});
  ASSERT_EQ(infer.size(), 2u);
  EXPECT_EQ(infer[1].id, ida);
  auto recent = store.List({.since_unix_s = 1500.0});
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[1].id, idb);
  ASSERT_TRUE(all[0].throughput.has_value());
  EXPECT_EQ(all[0].throughput->value, 52.5);
  ASSERT_TRUE(all[0].mean_watts.has_value());
  EXPECT_EQ(*all[0].mean_watts, 65.7);  // of the "measurement" report, not the baseline
  EXPECT_EQ(all[0].workload, "layoutlm-base");
}

TEST(RunStore, ListNeverShowsTheBaselinesPowerAsTheRuns) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  // A run that ended before its measurement (e.g. a tune run with no VALID configuration):
  // only its idle baseline was reported.
  RunRecord r = SampleRunRecord(1);
  ASSERT_EQ(r.energy.size(), 2u);
  ASSERT_EQ(r.energy[0].name, "baseline");
  r.energy.resize(1);
  store.Save(r);
  const auto all = store.List();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_FALSE(all[0].mean_watts.has_value()) << *all[0].mean_watts;
}

TEST(RunStore, DeleteRemovesAllOrNothing) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  std::string a = store.Save(SampleRunRecord(3));
  std::string b = store.Save(SampleRunRecord(3));
  EXPECT_THROW(store.Delete({a, "999"}), InputError);
  EXPECT_EQ(store.List().size(), 2u);
  store.Delete({a});
  auto left = store.List();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, b);
  EXPECT_THROW(store.Load(a), InputError);
}

TEST(RunStore, UnknownAndMalformedIdsAreInputErrors) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  std::string unknown = Message([&] { store.Load("42"); });
  EXPECT_NE(unknown.find("run 42 is not stored"), std::string::npos) << unknown;
  EXPECT_THROW(store.Load("42"), InputError);
  EXPECT_THROW(store.Load("abc"), InputError);
  EXPECT_THROW(store.Load("-1"), InputError);
  EXPECT_THROW(store.Load("12x"), InputError);
}

TEST(RunStoreMigration, VersionOneDatabaseIsMigratedAndKeepsItsRuns) {
  TempDir dir;
  auto path = dir.path() / "old.db";
  {
    Database db(path, true);
    MigrateTo(db, 1);
  }
  // A run as a version-1 joulebench stored it: two chunks of 2 samples for one domain.
  double t[] = {0.0, 0.5, 1.0, 1.5};
  double j[] = {0.0, 10.0, 20.0, 30.0};
  auto hex = [](const double* v, int n) {
    std::string out;
    auto* bytes = reinterpret_cast<const unsigned char*>(v);
    for (int i = 0; i < n * 8; ++i) out += fmt::format("{:02X}", bytes[i]);
    return out;
  };
  RawSql(path,
         fmt::format(
             "INSERT INTO runs (id, kind, name, start_unix_s, end_unix_s, status, config, "
             "timeline_domains) VALUES (7, 'measure', 'old run', 100.0, NULL, 'running', "
             "'{{\"command\":[\"sleep\",\"1\"]}}', "
             "'[{{\"name\":\"rapl/package-0\",\"component\":\"cpu-package\"}}]');"
             "INSERT INTO sample_chunks VALUES (7, 0, 2, X'{}', X'{}');"
             "INSERT INTO sample_chunks VALUES (7, 2, 2, X'{}', X'{}');"
             "INSERT INTO metrics VALUES (7, 0, 'energy', 30.0, 'J', 'measured: powercap RAPL');",
             hex(t, 2), hex(j, 2), hex(t + 2, 2), hex(j + 2, 2)));
  RunStore store = RunStore::Open(path);
  EXPECT_EQ(store.schema_version(), kSchemaVersion);
  RunRecord back = store.Load("7");
  EXPECT_EQ(back.name, "old run");
  // Version 1 kept no owner, so a run it left "running" cannot be alive: incomplete.
  EXPECT_EQ(back.status, RunStatus::kIncomplete);
  EXPECT_EQ(back.timeline.time_s, std::vector<double>(t, t + 4));
  EXPECT_EQ(back.timeline.joules.at(0), std::vector<double>(j, j + 4));
  ASSERT_EQ(back.metrics.size(), 1u);
  EXPECT_EQ(back.metrics[0].value, 30.0);
  EXPECT_TRUE(back.peak_probes.empty());
  // And the migrated database takes new runs with version-2 fields.
  RunRecord fresh = SampleRunRecord(2);
  EXPECT_EQ(store.Load(store.Save(fresh)).peak_probes.size(), fresh.peak_probes.size());
}

TEST(RunStoreMigration, NewerDatabaseIsRefusedAndLeftUnchanged) {
  TempDir dir;
  auto path = dir.path() / "new.db";
  { RunStore::Open(path).Save(SampleRunRecord(3)); }
  const int newer = kSchemaVersion + 1;
  RawSql(path, fmt::format("PRAGMA user_version = {}", newer));
  std::string before = ReadFile(path);
  std::string error = Message([&] { RunStore::Open(path); });
  EXPECT_NE(error.find(fmt::format("schema version {}", newer)), std::string::npos) << error;
  EXPECT_NE(error.find("newer joulebench"), std::string::npos) << error;
  EXPECT_THROW(RunStore::Open(path), EnvironmentError);
  EXPECT_EQ(ReadFile(path), before);
}

TEST(RunStore, CorruptFileIsRefusedAndLeftUnchanged) {
  TempDir dir;
  std::string garbage(8192, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919) % 251);
  auto path = dir.Write("runs.db", garbage);
  std::string error = Message([&] { RunStore::Open(path); });
  EXPECT_NE(error.find("not a readable SQLite database"), std::string::npos) << error;
  EXPECT_THROW(RunStore::Open(path), EnvironmentError);
  EXPECT_EQ(ReadFile(path), garbage);
}

TEST(RunStore, OtherProgramsDatabaseIsRefusedAndLeftUnchanged) {
  TempDir dir;
  auto path = dir.path() / "other.db";
  RawSql(path, "CREATE TABLE photos (id INTEGER PRIMARY KEY, file TEXT)");
  std::string before = ReadFile(path);
  std::string error = Message([&] { RunStore::Open(path); });
  EXPECT_NE(error.find("another program"), std::string::npos) << error;
  EXPECT_EQ(ReadFile(path), before);
}

TEST(RunStore, MissingDirectoryIsRefusedWithoutCreatingIt) {
  TempDir dir;
  auto path = dir.path() / "nowhere" / "runs.db";
  std::string error = Message([&] { RunStore::Open(path); });
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "nowhere"));
  // The default location is created on demand.
  RunStore store = RunStore::Open(path, /*create_parent_dirs=*/true);
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(RunStore, UnwritableDirectoryIsRefused) {
  TempDir dir;
  std::filesystem::path path;
  if (geteuid() == 0) {
    // root ignores mode bits; /proc accepts no new files for anyone.
    path = "/proc/joulebench-test-runs.db";
  } else {
    std::filesystem::create_directory(dir.path() / "ro");
    std::filesystem::permissions(
        dir.path() / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    path = dir.path() / "ro" / "runs.db";
  }
  EXPECT_THROW(RunStore::Open(path), EnvironmentError);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(RunStore, OpenExistingRefusesAMissingFile) {
  TempDir dir;
  std::string error = Message([&] { RunStore::OpenExisting(dir.path() / "none.db"); });
  EXPECT_NE(error.find("no runs stored there yet"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "none.db"));
}

TEST(DatabasePath, FlagThenEnvironmentThenXdgThenHome) {
  const char* saved_db = std::getenv("JOULEBENCH_DB");
  const char* saved_xdg = std::getenv("XDG_DATA_HOME");
  std::string keep_db = saved_db ? saved_db : "", keep_xdg = saved_xdg ? saved_xdg : "";
  setenv("JOULEBENCH_DB", "/env/runs.db", 1);
  setenv("XDG_DATA_HOME", "/xdg", 1);
  EXPECT_EQ(DatabasePath(std::string("/flag.db")), "/flag.db");
  EXPECT_EQ(DatabasePath(), "/env/runs.db");
  unsetenv("JOULEBENCH_DB");
  EXPECT_EQ(DatabasePath(), "/xdg/joulebench/runs.db");
  unsetenv("XDG_DATA_HOME");
  EXPECT_EQ(DatabasePath(),
            std::filesystem::path(std::getenv("HOME")) / ".local/share/joulebench/runs.db");
  if (saved_db) setenv("JOULEBENCH_DB", keep_db.c_str(), 1);
  if (saved_xdg) setenv("XDG_DATA_HOME", keep_xdg.c_str(), 1);
}

TEST(StoringEnabled, FlagAndEnvironmentTurnItOff) {
  const char* saved = std::getenv("JOULEBENCH_NO_STORE");
  std::string keep = saved ? saved : "";
  unsetenv("JOULEBENCH_NO_STORE");
  EXPECT_TRUE(StoringEnabled(false));
  EXPECT_FALSE(StoringEnabled(true));
  setenv("JOULEBENCH_NO_STORE", "1", 1);
  EXPECT_FALSE(StoringEnabled(false));
  setenv("JOULEBENCH_NO_STORE", "0", 1);
  EXPECT_TRUE(StoringEnabled(false));
  if (saved) {
    setenv("JOULEBENCH_NO_STORE", keep.c_str(), 1);
  } else {
    unsetenv("JOULEBENCH_NO_STORE");
  }
}

}  // namespace
}  // namespace joulebench::store
