#include "sampling/timeline_store.h"

#include <gtest/gtest.h>

namespace joulebench::sampling {
namespace {

TEST(TimelineStore, KeepsSamplesAcrossChunks) {
  TimelineStore store(2, 4);
  for (int i = 0; i < 10; ++i) {
    const double row[2] = {i * 1.0, i * 10.0};
    store.Append(i * 0.1, row);
  }
  EXPECT_EQ(store.size(), 10U);
  EXPECT_EQ(store.chunk_count(), 3U);
  EXPECT_DOUBLE_EQ(store.time_s(9), 0.9);
  EXPECT_DOUBLE_EQ(store.joules(5, 0), 5.0);
  EXPECT_DOUBLE_EQ(store.joules(7, 1), 70.0);
}

TEST(TimelineStore, InterpolatesBetweenSamplesAndClampsAtTheEnds) {
  TimelineStore store(1, 4);
  const double a[1] = {0};
  const double b[1] = {10};
  const double c[1] = {30};
  store.Append(1.0, a);
  store.Append(2.0, b);
  store.Append(3.0, c);
  EXPECT_DOUBLE_EQ(store.JoulesAt(0, 1.5), 5.0);
  EXPECT_DOUBLE_EQ(store.JoulesAt(0, 2.25), 15.0);
  EXPECT_DOUBLE_EQ(store.JoulesAt(0, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(store.JoulesAt(0, 9.0), 30.0);
  EXPECT_EQ(store.LastAtOrBefore(2.0), 1U);
  EXPECT_EQ(store.LastAtOrBefore(0.5), store.size());
}

}  // namespace
}  // namespace joulebench::sampling
