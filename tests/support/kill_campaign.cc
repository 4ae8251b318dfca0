#include "support/kill_campaign.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "joulebench/store/run_store.h"
#include "support/background_process.h"
#include "support/store_probe.h"

namespace joulebench::testing {
namespace {

using namespace std::chrono_literals;

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Waits until a run newer than `last_id` is in the store (or a minute passed).
void WaitForNewRun(const std::string& db, std::int64_t last_id) {
  const auto start = std::chrono::steady_clock::now();
  while (NewestRunId(db) == last_id && std::chrono::steady_clock::now() - start < 60s) {
    std::this_thread::sleep_for(2ms);
  }
}

}  // namespace

std::uint32_t KillSeed() {
  if (const char* v = std::getenv("JOULEBENCH_KILL_SEED")) {
    return static_cast<std::uint32_t>(std::strtoul(v, nullptr, 10));
  }
  return std::random_device{}();
}

KillCampaignResult KillAtRandomPoints(const std::string& db, const std::vector<std::string>& args,
                                      const std::vector<std::string>& env, int kills,
                                      std::uint32_t seed) {
  KillCampaignResult out;
  // One whole run first: it must complete, and it gives the lengths of the phases.
  std::int64_t last_id = NewestRunId(db);
  const auto start = std::chrono::steady_clock::now();
  BackgroundProcess first(JOULEBENCH_BIN, args, env);
  WaitForNewRun(db, last_id);
  const double begun_ms = MsSince(start);
  const ProcessResult whole = first.Finish();
  const double whole_ms = MsSince(start);
  EXPECT_EQ(whole.exit_code, 0) << whole.err;
  if (whole.exit_code != 0) return out;
  std::printf(
      "kill seed %u (replay with JOULEBENCH_KILL_SEED=%u); a whole run takes %.0f ms, "
      "its run is begun in the store after %.0f ms\n",
      seed, seed, whole_ms, begun_ms);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> anywhere_ms(0, whole_ms);
  std::uniform_real_distribution<double> after_begin_ms(0, std::max(1.0, whole_ms - begun_ms));
  last_id = NewestRunId(db);
  for (int attempt = 0; out.kills < kills && attempt < 4 * kills; ++attempt) {
    const bool anywhere = attempt % 4 == 0;
    const double delay = anywhere ? anywhere_ms(rng) : after_begin_ms(rng);
    BackgroundProcess child(JOULEBENCH_BIN, args, env);
    if (!anywhere) WaitForNewRun(db, last_id);
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay));
    // What a second connection sees committed just before the kill.
    const std::int64_t newest = NewestRunId(db);
    const std::size_t committed = newest > last_id ? CommittedSamples(db, newest) : 0;
    child.Signal(SIGKILL);
    const ProcessResult r = child.Finish();
    const std::string context = "attempt " + std::to_string(attempt) + ", killed " +
                                std::to_string(static_cast<int>(delay)) + " ms after " +
                                (anywhere ? "its start" : "its run began") + ", seed " +
                                std::to_string(seed);
    EXPECT_EQ(IntegrityCheck(db), "ok") << context;
    const auto runs = store::RunStore::OpenExisting(db).List();
    for (const auto& run : runs) {
      EXPECT_NE(run.status, run::RunStatus::kRunning) << "run " << run.id << ", " << context;
    }
    const std::int64_t id = NewestRunId(db);
    if (r.exit_code != 128 + SIGKILL) {
      // It ended before the kill: then it is complete.
      EXPECT_EQ(r.exit_code, 0) << r.err << context;
      if (!runs.empty()) EXPECT_EQ(runs.front().status, run::RunStatus::kComplete) << context;
      ++out.completed;
      last_id = id;
      continue;
    }
    ++out.kills;
    if (id > last_id && !runs.empty()) {
      // The killed run began: it reads incomplete (or complete, when the kill came after it
      // was stored in full), with every sample committed before.
      EXPECT_EQ(std::to_string(id), runs.front().id) << context;
      EXPECT_NE(runs.front().status, run::RunStatus::kFailed) << context;
      EXPECT_GE(runs.front().samples, committed) << context;
      if (newest == id) EXPECT_GE(CommittedSamples(db, id), committed) << context;
      out.killed_begun += runs.front().status == run::RunStatus::kIncomplete;
    }
    last_id = id;
  }
  std::printf("%d kills (%d of runs begun in the store), %d runs ended before their kill\n",
              out.kills, out.killed_begun, out.completed);
  return out;
}

}  // namespace joulebench::testing
