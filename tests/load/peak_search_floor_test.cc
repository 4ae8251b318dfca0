// The peak search's floor (PeakSearchSettings::min_qps): when the start rate misses the bound,
// the rate shrinks no further than the floor, since each step at a low rate lasts
// min_query_count / rate.
#include <gtest/gtest.h>

#include "joulebench/load/builtin_suts.h"
#include "joulebench/load/loadgen.h"

namespace joulebench::load {
namespace {

TEST(ServerPeakSearchFloor, StopsShrinkingAtTheFloorWhenNoRateMeetsTheBound) {
  // 20 ms per query can never meet a 5 ms bound, whatever the rate.
  SleepSut sut({.workers = 1, .service_ns = 20'000'000});
  SyntheticSampleLibrary qsl;
  TestSettings s;
  s.min_duration_ms = 100;
  s.min_query_count = 5;
  s.window_ms = 50;
  s.wait_for_steady_state = false;
  s.server_target_latency_ns = 5'000'000;
  PeakSearchSettings search;
  search.start_qps = 40;
  search.growth_factor = 2;
  search.min_qps = 9;  // 40 and 20 are tried; 10 is above the floor too; 5 is not
  const ServerPeakResult r = FindServerPeak(sut, qsl, s, search);
  EXPECT_FALSE(r.found);
  ASSERT_EQ(r.probes.size(), 3u);
  EXPECT_DOUBLE_EQ(r.probes.back().rate_per_s, 10);
  EXPECT_NE(r.stopped_because.find("no rate down to 10/s met the bound"), std::string::npos)
      << r.stopped_because;
}

TEST(ServerPeakSearchFloor, NoFloorByDefault) { EXPECT_EQ(PeakSearchSettings{}.min_qps, 0); }

}  // namespace
}  // namespace joulebench::load
