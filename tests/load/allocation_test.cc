// The issuing and completion paths allocate nothing per query: the number of heap
// allocations of a run does not grow with the number of queries.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "joulebench/load/builtin_suts.h"
#include "joulebench/load/loadgen.h"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace joulebench::load {
namespace {

std::uint64_t AllocationsOfServerRun(double qps, std::uint64_t* queries) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  TestSettings s;
  s.server_target_qps = qps;
  s.min_duration_ms = 300;
  s.min_query_count = 10;
  s.window_ms = 100;
  s.wait_for_steady_state = false;
  s.server_target_latency_ns = 2'000'000'000;
  const std::uint64_t before = g_allocations.load();
  const ScenarioResult r = RunScenario(sut, qsl, s);
  const std::uint64_t during = g_allocations.load() - before;
  *queries = r.measured_query_count;
  return during;
}

TEST(AllocationTest, ServerRunAllocationsDoNotGrowWithTheQueryCount) {
  std::uint64_t few = 0;
  std::uint64_t many = 0;
  const std::uint64_t a_few = AllocationsOfServerRun(1000, &few);
  const std::uint64_t a_many = AllocationsOfServerRun(100000, &many);
  ASSERT_GT(many, 20 * few);  // ~30000 vs ~300 queries
  // Same duration, 100x the queries: the same handful of allocations (buffers, one
  // histogram set per completing thread, the window list, the result).
  EXPECT_LE(a_many, a_few + 8) << "few=" << a_few << " many=" << a_many;
  EXPECT_LT(a_many, 200u);
}

}  // namespace
}  // namespace joulebench::load
