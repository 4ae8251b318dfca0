// The store never loses a committed measurement and never corrupts: `measure` killed with
// SIGKILL at random points (startup, idle baseline, measuring, storing), a disk that fills up
// mid-run, and a database that cannot be written. After each: the file opens, passes
// PRAGMA integrity_check, the killed run is listed incomplete (its writer is dead), and it
// holds at least the samples a second connection saw committed just before the kill.
// (infer under SIGKILL: tests/torch/infer_crash_safety_test.cc.)
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <thread>

#include "joulebench/store/run_store.h"
#include "support/background_process.h"
#include "support/fake_machine.h"
#include "support/run_cli.h"
#include "support/store_probe.h"
#include "support/temp_dir.h"

namespace joulebench::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::vector<std::string> MeasureArgs(const FakeMachine& m, const std::string& db,
                                     const std::string& baseline, const std::string& sleep_s) {
  std::vector<std::string> args = {"measure", "--interval", "10ms", "--db", db, "--quiet"};
  if (!baseline.empty()) {
    args.push_back("--baseline");
    args.push_back(baseline);
  }
  for (const auto& f : m.SourceFlags()) args.push_back(f);
  for (const std::string a : {"--", "sleep"}) args.push_back(a);
  args.push_back(sleep_s);
  return args;
}

// The seed: $JOULEBENCH_KILL_SEED to replay a failure, else a fresh one; printed either way.
std::uint32_t KillSeed() {
  if (const char* v = std::getenv("JOULEBENCH_KILL_SEED")) {
    return static_cast<std::uint32_t>(std::strtoul(v, nullptr, 10));
  }
  return std::random_device{}();
}

int Lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

// Runs `args` once to its end: how long until its run is begun in the store, and in all
// (milliseconds; whole is 0 when it failed).
std::pair<int, int> TimeOneRun(const std::string& db, const std::vector<std::string>& args,
                               const std::vector<std::string>& env) {
  const std::int64_t before = NewestRunId(db);
  const auto start = std::chrono::steady_clock::now();
  auto ms = [&] {
    return static_cast<int>(std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - start)
                                .count());
  };
  BackgroundProcess child(JOULEBENCH_BIN, args, env);
  int begun = 0;
  while (NewestRunId(db) == before && ms() < 60000) std::this_thread::sleep_for(5ms);
  begun = ms();
  const ProcessResult r = child.Finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return {begun, r.exit_code == 0 ? ms() : 0};
}

TEST(CrashSafety, MeasureKilledAtRandomPointsLeavesAnIntactStoreAndItsCommittedSamples) {
  FakeMachine m;
  StoringOn storing;
  const std::uint32_t seed = KillSeed();
  std::printf("kill seed %u (replay with JOULEBENCH_KILL_SEED=%u)\n", seed, seed);
  RecordProperty("kill_seed", std::to_string(seed));
  std::mt19937 rng(seed);
  // A run: startup, 150 ms of idle baseline, 0.4 s of measuring, storing. Samples are
  // committed every 100 ms, so that kills land between and inside commits. One whole run
  // first: the kills are spread over its length, however fast this machine starts a process.
  const std::vector<std::string> env = {"JOULEBENCH_FLUSH_INTERVAL=100ms"};
  const auto args = MeasureArgs(m, m.db(), "150ms", "0.4");
  const auto [begun_ms, whole_ms] = TimeOneRun(m.db(), args, env);
  ASSERT_GT(whole_ms, 0);
  std::printf("a whole run takes %d ms, its run is begun in the store after %d ms\n", whole_ms,
              begun_ms);
  // Three kills in four land after the run has begun in the store, the others anywhere.
  std::uniform_int_distribution<int> anywhere_ms(0, whole_ms);
  std::uniform_int_distribution<int> begun_delay_ms(begun_ms, whole_ms);
  constexpr int kKills = 40;
  int kills = 0;
  int completed = 0;
  int killed_begun = 0;  // killed runs that had begun in the store (and read incomplete)
  std::int64_t last_id = NewestRunId(m.db());
  for (int attempt = 0; kills < kKills && attempt < 4 * kKills; ++attempt) {
    const int delay = attempt % 4 == 0 ? anywhere_ms(rng) : begun_delay_ms(rng);
    BackgroundProcess child(JOULEBENCH_BIN, args, env);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    // What a second connection sees committed just before the kill.
    const std::int64_t newest = NewestRunId(m.db());
    const std::size_t committed = newest > last_id ? CommittedSamples(m.db(), newest) : 0;
    child.Signal(SIGKILL);
    const ProcessResult r = child.Finish();
    const std::string context = "attempt " + std::to_string(attempt) + ", killed after " +
                                std::to_string(delay) + " ms, seed " + std::to_string(seed);
    ASSERT_EQ(IntegrityCheck(m.db()), "ok") << context;
    const auto runs = store::RunStore::OpenExisting(m.db()).List();
    for (const auto& run : runs) {
      ASSERT_NE(run.status, run::RunStatus::kRunning) << "run " << run.id << ", " << context;
    }
    const std::int64_t id = NewestRunId(m.db());
    if (r.exit_code != 128 + SIGKILL) {
      // It ended before the kill: then it is complete.
      ASSERT_EQ(r.exit_code, 0) << r.err << context;
      ASSERT_EQ(runs.front().status, run::RunStatus::kComplete) << context;
      ++completed;
      last_id = id;
      continue;
    }
    ++kills;
    if (id > last_id) {
      // The killed run began: it reads incomplete (or complete, when the kill came after it
      // was stored in full), with every sample committed before.
      ASSERT_EQ(std::to_string(id), runs.front().id);
      EXPECT_NE(runs.front().status, run::RunStatus::kFailed) << context;
      EXPECT_GE(runs.front().samples, committed) << context;
      if (newest == id) EXPECT_GE(CommittedSamples(m.db(), id), committed) << context;
      killed_begun += runs.front().status == run::RunStatus::kIncomplete;
    }
    last_id = id;
  }
  std::printf("%d kills (%d of runs begun in the store), %d runs ended before their kill\n",
              kills, killed_begun, completed);
  EXPECT_GE(kills, kKills);
  EXPECT_GE(killed_begun, kKills / 4);
  // The command-line listing says the same: no run stays "running" after its writer died.
  const ProcessResult list = RunJoulebench({"runs", "list", "--json", "--db", m.db()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  int incomplete = 0;
  for (const auto& run : json::parse(list.out)) {
    EXPECT_NE(run.at("status"), "running");
    incomplete += run.at("status") == "incomplete";
  }
  EXPECT_EQ(incomplete, killed_begun);
}

// The disk fills up mid-run: the file-size limit of the running process is lowered to what its
// write-ahead log holds now (prlimit), so its next commit fails with EFBIG.
TEST(CrashSafety, DiskFullMidRunGivesOneLineKeepsCommittedSamplesAndStillPrintsTheMeasurement) {
  FakeMachine m;
  StoringOn storing;
  const std::vector<std::string> env = {"JOULEBENCH_FLUSH_INTERVAL=100ms"};
  // A first run creates the database, so that the one under test only appends.
  ASSERT_EQ(RunJoulebench(MeasureArgs(m, m.db(), "", "0.05"), env).exit_code, 0);
  BackgroundProcess child(JOULEBENCH_BIN, MeasureArgs(m, m.db(), "", "2.5"), env);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::size_t committed = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (NewestRunId(m.db()) >= 2) committed = CommittedSamples(m.db(), 2);
    if (committed >= 30) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(committed, 30u) << "the run never committed samples";
  struct stat wal {};
  ASSERT_EQ(stat((m.db() + "-wal").c_str(), &wal), 0);
  const rlimit limit{static_cast<rlim_t>(wal.st_size), RLIM_INFINITY};
  ASSERT_EQ(prlimit(child.pid(), RLIMIT_FSIZE, &limit, nullptr), 0) << std::strerror(errno);
  const ProcessResult r = child.Finish();

  EXPECT_EQ(r.exit_code, 3) << r.err;
  // The measurement is on the terminal, complete.
  EXPECT_NE(r.out.find("command exited with code 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total"), std::string::npos) << r.out;
  // One line, in the form of every error: what failed, why (the system's words), what is kept.
  ASSERT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("joulebench: error: run 2 is stored only in part in ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  std::smatch kept;
  ASSERT_TRUE(std::regex_search(r.err, kept, std::regex("its ([0-9]+) samples? committed before")))
      << r.err;
  // Nothing committed is lost: the file is intact and holds what the run says it kept.
  ASSERT_EQ(IntegrityCheck(m.db()), "ok");
  const std::size_t stored = CommittedSamples(m.db(), 2);
  EXPECT_GE(stored, committed);
  EXPECT_EQ(stored, std::stoul(kept[1].str()));
  const auto runs = store::RunStore::OpenExisting(m.db()).List();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].status, run::RunStatus::kIncomplete);
  EXPECT_EQ(runs[1].status, run::RunStatus::kComplete);
}

// A tmpfs of 1 MiB: the disk really fills up (ENOSPC), while the run goes on. Needs the right
// to mount (root in CI); skipped with the reason elsewhere.
TEST(CrashSafety, FullFileSystemMidRunGivesOneLineAndKeepsCommittedSamples) {
  FakeMachine m;
  StoringOn storing;
  const std::filesystem::path mnt = m.dir.path() / "small-disk";
  std::filesystem::create_directories(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "); the RLIMIT_FSIZE test covers a full disk";
  }
  struct Unmount {
    std::filesystem::path path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const std::string db = (mnt / "runs.db").string();
  const std::vector<std::string> env = {"JOULEBENCH_FLUSH_INTERVAL=100ms"};
  BackgroundProcess child(JOULEBENCH_BIN, MeasureArgs(m, db, "", "2.5"), env);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::size_t committed = 0;
  while (std::chrono::steady_clock::now() < deadline && committed < 30) {
    committed = CommittedSamples(db);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(committed, 30u);
  {
    // Fill what is left of the disk.
    std::ofstream filler(mnt / "filler", std::ios::binary);
    const std::string block(4096, 'x');
    while (filler.write(block.data(), block.size())) {
    }
  }
  const ProcessResult r = child.Finish();
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.out.find("total"), std::string::npos) << r.out;
  ASSERT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("is stored only in part"), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("No space left on device") != std::string::npos ||
              r.err.find("full") != std::string::npos)
      << r.err;
  std::filesystem::remove(mnt / "filler");
  ASSERT_EQ(IntegrityCheck(db), "ok");
  EXPECT_GE(CommittedSamples(db), committed);
  EXPECT_EQ(store::RunStore::OpenExisting(db).List().at(0).status, run::RunStatus::kIncomplete);
}

// A database that cannot be written is refused before anything is measured, with one line,
// and the file is left byte for byte as it was. (root ignores mode bits: there the file lies
// on a read-only tmpfs.)
TEST(CrashSafety, ReadOnlyDatabaseIsRefusedWithOneLineAndLeftUntouched) {
  FakeMachine m;
  StoringOn storing;
  std::filesystem::path db = m.db();
  std::optional<std::filesystem::path> mounted;
  if (geteuid() == 0) {
    const std::filesystem::path mnt = m.dir.path() / "ro-disk";
    std::filesystem::create_directories(mnt);
    if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m") != 0) {
      GTEST_SKIP() << "root ignores file modes and cannot mount a read-only tmpfs here ("
                   << std::strerror(errno) << ")";
    }
    mounted = mnt;
    db = mnt / "runs.db";
  }
  struct Unmount {
    std::optional<std::filesystem::path> path;
    ~Unmount() {
      if (path) umount2(path->c_str(), MNT_DETACH);
    }
  } unmount{mounted};
  ASSERT_EQ(RunJoulebench(MeasureArgs(m, db.string(), "", "0.05")).exit_code, 0);
  const std::string before = ReadFile(db);
  if (mounted) {
    ASSERT_EQ(mount(nullptr, mounted->c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0)
        << std::strerror(errno);
  } else {
    std::filesystem::permissions(db, std::filesystem::perms::owner_read);
  }
  const ProcessResult r = RunJoulebench(MeasureArgs(m, db.string(), "", "0.05"));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  ASSERT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("joulebench: error: database " + db.string(), 0), 0u) << r.err;
  EXPECT_NE(r.err.find("pass another --db"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(db), before);
  // (SQLite cannot open a WAL database on a read-only mount without its -shm file.)
  if (!mounted) EXPECT_EQ(IntegrityCheck(db), "ok");
}

}  // namespace
}  // namespace joulebench::testing
