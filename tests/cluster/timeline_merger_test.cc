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
}  // namespace joulebench::cluster
