// A timeline that drops its oldest chunks (MeterOptions::keep): memory stays bounded, sample
// indices stay absolute, and every query is clamped to the samples still held.
#include <gtest/gtest.h>

#include "sampling/timeline_store.h"

namespace joulebench::sampling {
namespace {

TimelineStore TwentySamples() {
  TimelineStore store(1, 4);  // 4 samples per chunk
  for (int i = 0; i < 20; ++i) {
    const double joules[1] = {i * 10.0};
    store.Append(i * 1.0, joules);
  }
  return store;
}

TEST(TimelineRetention, DropBeforeFreesOnlyChunksWhollyOlderThanTheTime) {
  TimelineStore store = TwentySamples();
  store.DropBefore(10.0);  // chunks [0,3] and [4,7] go; [8,11] holds 10 and 11
  EXPECT_EQ(store.first(), 8U);
  EXPECT_EQ(store.size(), 20U);
  EXPECT_EQ(store.chunk_count(), 3U);
  EXPECT_DOUBLE_EQ(store.time_s(8), 8.0);
  EXPECT_DOUBLE_EQ(store.joules(19, 0), 190.0);
}

TEST(TimelineRetention, QueriesBeforeTheOldestHeldSampleAreClampedToIt) {
  TimelineStore store = TwentySamples();
  store.DropBefore(10.0);
  EXPECT_EQ(store.LastAtOrBefore(3.0), store.size());
  EXPECT_EQ(store.LastAtOrBefore(8.5), 8U);
  EXPECT_DOUBLE_EQ(store.JoulesAt(0, 3.0), 80.0);
  EXPECT_DOUBLE_EQ(store.JoulesAt(0, 12.5), 125.0);
}

TEST(TimelineRetention, TheNewestChunkIsNeverDropped) {
  TimelineStore store = TwentySamples();
  store.DropBefore(1000.0);
  EXPECT_EQ(store.first(), 16U);
  EXPECT_DOUBLE_EQ(store.time_s(19), 19.0);
  const double joules[1] = {200.0};
  store.Append(20.0, joules);  // a new chunk after a drop
  EXPECT_EQ(store.size(), 21U);
  EXPECT_DOUBLE_EQ(store.JoulesAt(0, 19.5), 195.0);
}

}  // namespace
}  // namespace joulebench::sampling
