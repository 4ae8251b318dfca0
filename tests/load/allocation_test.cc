// The issuing and completion paths allocate nothing per query: the number of heap
// allocations of a run does not grow with the number of queries.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "joulebench/load/builtin_suts.h"
#include "joulebench/load/loadgen.h"
#include "support/counting_allocations.h"

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
  const std::uint64_t before = joulebench::testing::Allocations();
  const ScenarioResult r = RunScenario(sut, qsl, s);
  const std::uint64_t during = joulebench::testing::Allocations() - before;
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
