#include "joulebench/cluster/timeline_merger.h"

#include <gtest/gtest.h>

namespace joulebench::cluster {
namespace {

std::vector<energy::DomainInfo> Domains(std::vector<std::string> names) {
  std::vector<energy::DomainInfo> out;
  for (auto& n : names) out.push_back({.name = n});
  return out;
}

TEST(TimelineMerger, OtherNodesAreInterpolatedAtTheFirstNodesInstants) {
  TimelineMerger m;
  m.AddNode("a", Domains({"rapl/package-0"}), 1000.0);
  m.AddNode("b", Domains({"rapl/package-0", "nvml/gpu0"}), 1000.5);
  m.Append("a", {0, 1, 2}, {{0, 10, 20}});
  // b's clock: its samples at unix 1000.5, 1001.5, 1002.5.
  m.Append("b", {0, 1, 2}, {{0, 4, 8}, {0, 100, 200}});
  const auto& t = m.Merge(false);
  ASSERT_EQ(t.time_s.size(), 3u);
  EXPECT_DOUBLE_EQ(t.start_unix_s, 1000.0);
  ASSERT_EQ(t.domains.size(), 3u);
  EXPECT_EQ(t.domains[1].name, "b/rapl/package-0");
  EXPECT_EQ(t.joules[0], (std::vector<double>{0, 10, 20}));
  // Before b's first sample its energy is 0; then halfway between its samples.
  EXPECT_EQ(t.joules[1], (std::vector<double>{0, 2, 6}));
  EXPECT_EQ(t.joules[2], (std::vector<double>{0, 50, 150}));
}

TEST(TimelineMerger, WaitsForEveryNodeSoThatMergedSamplesNeverChange) {
  TimelineMerger m;
  m.AddNode("a", Domains({"x"}), 0);
  m.AddNode("b", Domains({"x"}), 0);
  m.Append("a", {0, 1, 2, 3}, {{0, 1, 2, 3}});
  m.Append("b", {0, 1}, {{0, 5}});
  EXPECT_EQ(m.Merge(false).time_s.size(), 2u);
  m.Append("b", {2.5}, {{7.5}});
  const auto& t = m.Merge(false);
  ASSERT_EQ(t.time_s.size(), 3u);
  EXPECT_DOUBLE_EQ(t.joules[1][2], 5 + (7.5 - 5) * (1.0 / 1.5));  // 1/1.5 of the way
  // At the end, a node's last value holds.
  const auto& final_t = m.Merge(true);
  ASSERT_EQ(final_t.time_s.size(), 4u);
  EXPECT_DOUBLE_EQ(final_t.joules[1][3], 7.5);
}

TEST(TimelineMerger, AClosedNodeNoLongerHoldsTheOthersBack) {
  TimelineMerger m;
  m.AddNode("a", Domains({"x"}), 0);
  m.AddNode("lost", Domains({"x"}), 0);
  m.Append("a", {0, 1, 2}, {{0, 1, 2}});
  m.Append("lost", {0, 0.5}, {{0, 9}});
  EXPECT_EQ(m.Merge(false).time_s.size(), 1u);
  m.CloseNode("lost");
  const auto& t = m.Merge(false);
  ASSERT_EQ(t.time_s.size(), 3u);
  EXPECT_EQ(t.joules[1], (std::vector<double>{0, 9, 9}));
}

}  // namespace
TEST(TimelineMerger, NodesGapsAreKeptRenamedOnTheAxisAndAnOpenOnesEndMoves) {
  TimelineMerger m;
  m.AddNode("a", Domains({"rapl/package-0"}), 1000.0);
  m.AddNode("b", Domains({"nvml/gpu0"}), 1002.0);
  m.Append("a", {0, 1, 2, 3, 4}, {{0, 1, 2, 3, 4}});
  m.Append("b", {0, 1}, {{0, 50}});
  sampling::TimelineGap open{.domain = "nvml/gpu0",
                             .begin_s = 1,
                             .end_s = 1,
                             .reason = "read failed: Unknown Error",
                             .open = true};
  m.SetGaps("b", {open});
  auto t = m.Merge(true);
  ASSERT_EQ(t.gaps.size(), 1u);
  EXPECT_EQ(t.gaps[0].domain, "b/nvml/gpu0");
  EXPECT_DOUBLE_EQ(t.gaps[0].begin_s, 3);  // b's 1 s is the axis's 3 s
  EXPECT_TRUE(t.gaps[0].open);
  // The next batch brings the gap closed, with its end: it replaces the open one.
  sampling::TimelineGap closed = open;
  closed.end_s = 1.8;
  closed.open = false;
  m.SetGaps("b", {closed});
  t = m.Merge(true);
  ASSERT_EQ(t.gaps.size(), 1u);
  EXPECT_DOUBLE_EQ(t.gaps[0].end_s, 3.8);
  EXPECT_FALSE(t.gaps[0].open);
  EXPECT_EQ(t.gaps[0].reason, "read failed: Unknown Error");
}

}  // namespace joulebench::cluster
