// Several processes and signals against one database file: these use fork(), so that the
// child is a real separate process with its own SQLite connection, killed for real.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "joulebench/store/run_store.h"
#include "joulebench/store/stop_signals.h"
#include "store/sqlite_db.h"
#include "support/sample_run_record.h"
#include "support/temp_dir.h"

namespace joulebench::store {
namespace {

using run::RunRecord;
using run::RunStatus;

constexpr std::size_t kBatch = 100;

// Appends batch number `b` (kBatch samples) of a 3-domain timeline.
void AppendBatch(RunWriter& writer, std::size_t b) {
  std::vector<double> time(kBatch);
  std::vector<std::vector<double>> joules(3, std::vector<double>(kBatch));
  for (std::size_t i = 0; i < kBatch; ++i) {
    double t = 0.01 * static_cast<double>(b * kBatch + i);
    time[i] = t;
    for (std::size_t d = 0; d < 3; ++d) joules[d][i] = t * static_cast<double>(d + 1);
  }
  writer.AppendSamples(time, joules);
}

RunRecord Header(const std::string& name) {
  RunRecord header = testing::SampleRunRecord(0);
  header.name = name;
  header.metrics.clear();
  header.energy.clear();
  return header;
}

// Waits for one byte from the child (it reached the point the test wants).
void WaitForByte(int fd) {
  char c = 0;
  ASSERT_EQ(read(fd, &c, 1), 1);
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

TEST(RunStoreProcesses, TwoProcessesWritingAtOnceBothSucceed) {
  testing::TempDir dir;
  auto path = dir.path() / "runs.db";
  constexpr int kRuns = 8;
  constexpr int kBatches = 6;
  pid_t children[2];
  for (int c = 0; c < 2; ++c) {
    children[c] = fork();
    ASSERT_GE(children[c], 0);
    if (children[c] == 0) {
      int code = 0;
      try {
        RunStore store = RunStore::Open(path);
        for (int r = 0; r < kRuns; ++r) {
          RunWriter writer = store.BeginRun(Header(fmt::format("child{}-run{}", c, r)));
          for (int b = 0; b < kBatches; ++b) AppendBatch(writer, b);
          RunRecord result = Header(fmt::format("child{}-run{}", c, r));
          result.metrics = {{"throughput", 10.0 * c + r, "1/s", "measured: test"}};
          writer.Finish(result, RunStatus::kComplete);
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", c, e.what());
        code = 1;
      }
      _exit(code);
    }
  }
  EXPECT_EQ(WaitExit(children[0]), 0);
  EXPECT_EQ(WaitExit(children[1]), 0);
  RunStore store = RunStore::OpenExisting(path);
  auto runs = store.List();
  ASSERT_EQ(runs.size(), 2u * kRuns);
  for (const auto& summary : runs) {
    EXPECT_EQ(summary.status, RunStatus::kComplete) << summary.name;
    EXPECT_EQ(summary.samples, kBatches * kBatch) << summary.name;
    RunRecord r = store.Load(summary.id);
    ASSERT_EQ(r.timeline.time_s.size(), kBatches * kBatch);
    EXPECT_EQ(r.timeline.joules[2].back(), 3 * r.timeline.time_s.back());
  }
}

TEST(RunStoreProcesses, KilledWriterLeavesReadableIncompleteRunWithItsCommittedBatches) {
  testing::TempDir dir;
  auto path = dir.path() / "runs.db";
  { RunStore::Open(path).Save(testing::SampleRunRecord(50)); }  // an earlier run, kept intact
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    RunStore store = RunStore::Open(path);
    RunWriter writer = store.BeginRun(Header("killed"));
    for (std::size_t b = 0;; ++b) {
      AppendBatch(writer, b);
      if (b == 4) (void)!write(ready[1], "x", 1);
    }
  }
  close(ready[1]);
  WaitForByte(ready[0]);
  kill(child, SIGKILL);
  EXPECT_EQ(WaitExit(child), 128 + SIGKILL);
  close(ready[0]);

  RunStore store = RunStore::OpenExisting(path);
  auto runs = store.List();
  ASSERT_EQ(runs.size(), 2u);
  const RunSummary& killed = runs[0].name == "killed" ? runs[0] : runs[1];
  const RunSummary& earlier = runs[0].name == "killed" ? runs[1] : runs[0];
  EXPECT_EQ(killed.status, RunStatus::kIncomplete);
  EXPECT_GE(killed.samples, 5 * kBatch);
  EXPECT_EQ(killed.samples % kBatch, 0u);  // whole batches only
  RunRecord r = store.Load(killed.id);     // not refused as "in progress": its writer is dead
  EXPECT_EQ(r.status, RunStatus::kIncomplete);
  ASSERT_EQ(r.timeline.time_s.size(), killed.samples);
  EXPECT_DOUBLE_EQ(r.timeline.time_s.back(), 0.01 * static_cast<double>(killed.samples - 1));
  EXPECT_EQ(earlier.status, RunStatus::kComplete);
  EXPECT_EQ(store.Load(earlier.id).timeline.time_s.size(), 50u);
  Database db(path, false);
  Statement check = db.Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.Step());
  EXPECT_EQ(check.Text(0), "ok");
}

TEST(RunStoreProcesses, InterruptedRunStoresItsPartialResultAsIncomplete) {
  testing::TempDir dir;
  auto path = dir.path() / "runs.db";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    StopSignals stop;
    RunStore store = RunStore::Open(path);
    RunRecord record = Header("interrupted");
    RunWriter writer = store.BeginRun(record);
    std::size_t b = 0;
    while (!stop.requested()) {
      AppendBatch(writer, b++);
      if (b == 3) (void)!write(ready[1], "x", 1);
      usleep(1000);
    }
    record.metrics = {{"batches", static_cast<double>(b), "1", "measured: test"}};
    record.warnings = {"interrupted by signal " + std::to_string(stop.signal())};
    writer.Finish(record, RunStatus::kIncomplete);
    _exit(stop.ExitCode());
  }
  close(ready[1]);
  WaitForByte(ready[0]);
  kill(child, SIGINT);
  EXPECT_EQ(WaitExit(child), 128 + SIGINT);
  close(ready[0]);

  RunStore store = RunStore::OpenExisting(path);
  auto runs = store.List();
  ASSERT_EQ(runs.size(), 1u);
  RunRecord r = store.Load(runs[0].id);
  EXPECT_EQ(r.status, RunStatus::kIncomplete);
  EXPECT_GT(r.end_unix_s, r.start_unix_s);
  ASSERT_NE(r.FindMetric("batches"), nullptr);
  EXPECT_EQ(r.timeline.time_s.size(),
            static_cast<std::size_t>(r.FindMetric("batches")->value) * kBatch);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], "interrupted by signal 2");
}

TEST(StopSignals, SigtermIsReportedAndHandlersAreRestored) {
  struct sigaction before {};
  sigaction(SIGTERM, nullptr, &before);
  {
    StopSignals stop;
    EXPECT_FALSE(stop.requested());
    raise(SIGTERM);
    EXPECT_TRUE(stop.requested());
    EXPECT_EQ(stop.signal(), SIGTERM);
    EXPECT_EQ(stop.ExitCode(), 143);
  }
  struct sigaction after {};
  sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace joulebench::store
