#include "joulebench/report/node_table.h"

#include <gtest/gtest.h>

#include "support/sample_run_record.h"

namespace joulebench::report {
namespace {

TEST(NodeTable, OneLinePerNodeTheirSumAndEachRanksShare) {
  const run::RunRecord r = testing::SampleRunRecord(10);
  const std::string table = FormatNodeTable(r);
  EXPECT_NE(table.find("nodes: 2 node(s), 3 rank(s)"), std::string::npos) << table;
  EXPECT_NE(table.find("node07"), std::string::npos);
  EXPECT_NE(table.find("0,1"), std::string::npos) << table;
  EXPECT_NE(table.find("partial"), std::string::npos);
  EXPECT_NE(table.find("sum of the nodes"), std::string::npos);
  EXPECT_NE(table.find("rank 0 on node07: 7.12 CPU-s = 50.0 % of the node's busy CPU time"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("rank 2 on node08: 0.25 CPU-s [lost]"), std::string::npos) << table;
  EXPECT_NE(table.find("node node07: modelled: CPU-time share"), std::string::npos) << table;
}

TEST(NodeTable, ARunOnOneMachineHasNone) {
  run::RunRecord r = testing::SampleRunRecord(10);
  r.nodes.clear();
  EXPECT_EQ(FormatNodeTable(r), "");
}

}  // namespace
}  // namespace joulebench::report
