// `infer` (the tiny LayoutLM on libtorch) killed with SIGKILL at random points: while libtorch
// starts, during the idle baseline, while it measures, and while it stores. After each kill
// the database opens, passes PRAGMA integrity_check, the killed run is listed incomplete, and
// it holds at least the samples a second connection saw committed just before the kill.
// (`measure` under SIGKILL, a full disk and a read-only database:
// tests/integration/crash_safety_test.cc.)
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "joulebench/store/run_store.h"
#include "support/background_process.h"
#include "support/fake_machine.h"
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
  // One whole run first: it must complete, and its length spreads the kills over all phases;
  // three kills in four land after its run has begun in the store.
  const auto start = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  };
  BackgroundProcess first(JOULEBENCH_BIN, args, env);
  while (NewestRunId(m.db()) == 0 && elapsed_ms() < 120000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double begun_ms = elapsed_ms();
  const ProcessResult whole = first.Finish();
  const double whole_ms = elapsed_ms();
  ASSERT_EQ(whole.exit_code, 0) << whole.err;

  std::uint32_t seed = std::random_device{}();
  if (const char* v = std::getenv("JOULEBENCH_KILL_SEED")) seed = std::strtoul(v, nullptr, 10);
  std::printf(
      "kill seed %u (replay with JOULEBENCH_KILL_SEED=%u); a whole run takes %.0f ms, begun in "
      "the store after %.0f ms\n",
      seed, seed, whole_ms, begun_ms);
  RecordProperty("kill_seed", std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> anywhere_ms(0, whole_ms);
  std::uniform_real_distribution<double> begun_delay_ms(begun_ms, whole_ms);
  constexpr int kKills = 12;
  int kills = 0;
  int killed_begun = 0;
  std::int64_t last_id = NewestRunId(m.db());
  for (int attempt = 0; kills < kKills && attempt < 3 * kKills; ++attempt) {
    const double delay = attempt % 4 == 0 ? anywhere_ms(rng) : begun_delay_ms(rng);
    BackgroundProcess child(JOULEBENCH_BIN, args, env);
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay));
    const std::int64_t newest = NewestRunId(m.db());
    const std::size_t committed = newest > last_id ? CommittedSamples(m.db(), newest) : 0;
    child.Signal(SIGKILL);
    const ProcessResult r = child.Finish();
    const std::string context = "attempt " + std::to_string(attempt) + ", killed after " +
                                std::to_string(static_cast<int>(delay)) + " ms, seed " +
                                std::to_string(seed);
    ASSERT_EQ(IntegrityCheck(m.db()), "ok") << context;
    const auto runs = store::RunStore::OpenExisting(m.db()).List();
    for (const auto& run : runs) {
      ASSERT_NE(run.status, run::RunStatus::kRunning) << "run " << run.id << ", " << context;
    }
    const std::int64_t id = NewestRunId(m.db());
    if (r.exit_code != 128 + SIGKILL) {
      ASSERT_EQ(r.exit_code, 0) << r.err << context;
      last_id = id;
      continue;
    }
    ++kills;
    if (id > last_id) {
      // Incomplete, or complete when the kill came after the run was stored in full.
      EXPECT_NE(runs.front().status, run::RunStatus::kFailed) << context;
      EXPECT_GE(runs.front().samples, committed) << context;
      killed_begun += runs.front().status == run::RunStatus::kIncomplete;
    }
    last_id = id;
  }
  std::printf("%d kills (%d of runs begun in the store)\n", kills, killed_begun);
  EXPECT_GE(kills, kKills);
  EXPECT_GE(killed_begun, kKills / 4);
}

}  // namespace
}  // namespace joulebench::testing
