// Eight joulebench processes write runs to one database at once, each committing often (every
// window and every 50 ms of samples): every run is stored complete with all its windows and
// samples, and no process meets "database is locked".
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "joulebench/store/run_store.h"
#include "support/background_process.h"
#include "support/fake_machine.h"
#include "support/run_cli.h"
#include "support/store_probe.h"

namespace joulebench::testing {
namespace {

using json = nlohmann::json;

TEST(ConcurrentWriters, EightProcessesStoreEveryRunWithoutLockErrors) {
  FakeMachine m;
  StoringOn storing;
  constexpr int kProcesses = 8;
  // The first of them creates the database and its schema while the others open it.
  const std::vector<std::string> env = {"JOULEBENCH_FLUSH_INTERVAL=50ms"};
  std::vector<std::unique_ptr<BackgroundProcess>> children;
  for (int i = 0; i < kProcesses; ++i) {
    std::vector<std::string> args = {"loadgen",    "--sut",      "sleep:workers=2,service=1ms",
                                     "--scenario", "server",     "--rate",
                                     "200/s",      "--duration", "1500ms",
                                     "--window",   "50ms",       "--no-steady-state",
                                     "--interval", "10ms",       "--quiet",
                                     "--json",     "--name",     "writer " + std::to_string(i),
                                     "--db",       m.db()};
    // Eight at once on a small machine: latency is not what this test is about.
    for (const std::string a : {"--latency-bound", "10s"}) args.push_back(a);
    for (const auto& f : m.SourceFlags()) args.push_back(f);
    children.push_back(std::make_unique<BackgroundProcess>(JOULEBENCH_BIN, args, env));
  }
  std::set<std::string> ids;
  std::vector<json> printed;
  for (auto& child : children) {
    const ProcessResult r = child->Finish();
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out.substr(0, 2000);
    EXPECT_EQ(r.err.find("locked"), std::string::npos) << r.err;
    const std::string id = StoredRunId(r.err);
    EXPECT_FALSE(id.empty()) << r.err;
    ids.insert(id);
    printed.push_back(json::parse(r.out));
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kProcesses));
  ASSERT_EQ(IntegrityCheck(m.db()), "ok");

  auto store = store::RunStore::OpenExisting(m.db());
  const auto runs = store.List();
  ASSERT_EQ(runs.size(), static_cast<std::size_t>(kProcesses));
  for (const auto& summary : runs) {
    EXPECT_EQ(summary.status, run::RunStatus::kComplete) << summary.id;
    EXPECT_TRUE(ids.contains(summary.id));
    const run::RunRecord stored = store.Load(summary.id);
    // Compared with what the process printed, by name: every window and sample reached the file.
    const json* mine = nullptr;
    for (const auto& p : printed) {
      if (p.at("name") == stored.name) mine = &p;
    }
    ASSERT_NE(mine, nullptr) << stored.name;
    EXPECT_EQ(stored.windows.size(), mine->at("windows").size()) << stored.name;
    EXPECT_GE(stored.windows.size(), 20u) << stored.name;
    // 1.5 s at 10 ms: every sample up to the end of the last window reached the file.
    EXPECT_GE(stored.timeline.time_s.size(), 100u) << stored.name;
    EXPECT_GE(stored.timeline.time_s.back() - stored.timeline.time_s.front(), 1.4) << stored.name;
  }
}

}  // namespace
}  // namespace joulebench::testing
