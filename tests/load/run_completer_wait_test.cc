// How the issuer waits for completions: asleep until the completion that reaches its target
// or its deadline, without waking for the completions in between (an issuer that woke often
// would preempt a SUT that uses every core).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "load/run_completer.h"

namespace joulebench::load {
namespace {

constexpr std::int64_t kMs = 1'000'000;

long VoluntarySwitchesOfThisThread() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nvcsw;
}

// Completes queries 0..count-1 one at a time, `gap` apart, from its own thread.
class TrickleCompleter {
 public:
  TrickleCompleter(RunCompleter& completer, QueryId count, std::chrono::microseconds gap)
      : thread_([&completer, count, gap] {
          for (QueryId id = 0; id < count; ++id) {
            std::this_thread::sleep_for(gap);
            const QueryResponse r{id, true};
            completer.Complete(std::span<const QueryResponse>(&r, 1));
          }
        }) {}
  ~TrickleCompleter() { thread_.join(); }

 private:
  std::thread thread_;
};

void ScheduleAll(RunCompleter& completer, QueryId count) {
  for (QueryId id = 0; id < count; ++id) ASSERT_TRUE(completer.Schedule(id, SteadyNowNs(), true));
}

TEST(RunCompleterWait, GivesUpAtTheDeadlineWithWhatHasCompleted) {
  RunCompleter completer(16, SteadyNowNs());
  ScheduleAll(completer, 4);
  const QueryResponse r{0, true};
  completer.Complete(std::span<const QueryResponse>(&r, 1));
  const std::int64_t deadline_ns = SteadyNowNs() + 20 * kMs;
  EXPECT_EQ(completer.WaitForCompletedUntil(4, deadline_ns), 1u);
  EXPECT_GE(SteadyNowNs(), deadline_ns);
}

TEST(RunCompleterWait, SleepsThroughCompletionsShortOfTheTarget) {
  constexpr QueryId kCount = 40;
  RunCompleter completer(64, SteadyNowNs());
  ScheduleAll(completer, kCount);
  const long switches_before = VoluntarySwitchesOfThisThread();
  std::uint64_t completed = 0;
  {
    TrickleCompleter trickle(completer, kCount, std::chrono::milliseconds(2));
    // A deadline far away: only the 40th completion may end the wait.
    completed = completer.WaitForCompletedUntil(kCount, SteadyNowNs() + 60'000 * kMs);
  }
  EXPECT_EQ(completed, kCount);
  // One sleep, perhaps a spurious wake-up or two; polling every millisecond, or waking at each
  // completion, would switch out about 40 to 80 times in these 80 ms.
  EXPECT_LE(VoluntarySwitchesOfThisThread() - switches_before, 5);
}

TEST(RunCompleterWait, UnboundedWaitReturnsOnceTheTargetCompletes) {
  constexpr QueryId kCount = 10;
  RunCompleter completer(16, SteadyNowNs());
  ScheduleAll(completer, kCount);
  TrickleCompleter trickle(completer, kCount, std::chrono::microseconds(500));
  completer.WaitForCompleted(6);
  EXPECT_GE(completer.completed(), 6u);
  completer.WaitForCompleted(kCount);
  EXPECT_EQ(completer.completed(), kCount);
}

}  // namespace
}  // namespace joulebench::load
