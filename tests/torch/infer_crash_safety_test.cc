// `infer` (the tiny LayoutLM on libtorch) killed with SIGKILL at random points: while libtorch
// starts, during the idle baseline, while it measures, and while it stores. After each kill
// the database opens, passes PRAGMA integrity_check, the killed run is listed incomplete, and
// it holds at least the samples a second connection saw committed just before the kill.
// (`measure` under SIGKILL, a full disk and a read-only database:
// tests/integration/crash_safety_test.cc.)
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "joulebench/store/run_store.h"
#include "support/background_process.h"
#include "support/fake_machine.h"
#include "support/kill_campaign.h"
#include "support/run_cli.h"
#include "support/store_probe.h"

namespace joulebench::testing {
namespace {

TEST(InferCrashSafety, KilledAtRandomPointsLeavesAnIntactStoreAndItsCommittedSamples) {
  FakeMachine m;
  StoringOn storing;
  std::vector<std::string> args = {"infer",
                                   "--model",
                                   "layoutlm-tiny",
                                   "--seq-len",
                                   "16",
                                   "--batch",
                                   "2",
                                   "--duration",
                                   "400ms",
                                   "--no-steady-state",
                                   "--window",
                                   "100ms",
                                   "--min-queries",
                                   "5",
                                   "--gemm-duration",
                                   "0s",
                                   "--samples",
                                   "8",
                                   "--baseline",
                                   "150ms",
                                   "--db",
                                   m.db(),
                                   "--quiet"};
  for (const auto& f : m.SourceFlags()) args.push_back(f);
  const std::vector<std::string> env = {"JOULEBENCH_FLUSH_INTERVAL=100ms"};
  const std::uint32_t seed = KillSeed();
  RecordProperty("kill_seed", std::to_string(seed));
  constexpr int kKills = 12;
  const KillCampaignResult k = KillAtRandomPoints(m.db(), args, env, kKills, seed);
  EXPECT_GE(k.kills, kKills);
  EXPECT_GE(k.killed_begun, kKills / 4);
}

}  // namespace
}  // namespace joulebench::testing
