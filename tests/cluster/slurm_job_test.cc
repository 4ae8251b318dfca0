#include "joulebench/cluster/slurm_job.h"

#include <gtest/gtest.h>

#include <map>

#include "joulebench/error.h"

namespace joulebench::cluster {
namespace {

using Strings = std::vector<std::string>;

EnvironmentLookup Env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ExpandHostlist, RangesKeepTheLowerBoundsZeroPadding) {
  EXPECT_EQ(ExpandHostlist("node[01-03,07]"), (Strings{"node01", "node02", "node03", "node07"}));
  EXPECT_EQ(ExpandHostlist("n[8-11]"), (Strings{"n8", "n9", "n10", "n11"}));
  EXPECT_EQ(ExpandHostlist("n[098-101]"), (Strings{"n098", "n099", "n100", "n101"}));
}

TEST(ExpandHostlist, TopLevelCommasSeparateHostsAndGroupsMultiply) {
  EXPECT_EQ(ExpandHostlist("gpu5,node[1-2],login"), (Strings{"gpu5", "node1", "node2", "login"}));
  EXPECT_EQ(ExpandHostlist("r[1-2]n[1-2]"), (Strings{"r1n1", "r1n2", "r2n1", "r2n2"}));
  EXPECT_EQ(ExpandHostlist("rack[1-2]-ib"), (Strings{"rack1-ib", "rack2-ib"}));
  EXPECT_EQ(ExpandHostlist("single"), (Strings{"single"}));
  EXPECT_TRUE(ExpandHostlist("").empty());
}

TEST(ExpandHostlist, MalformedListsNameTheList) {
  for (const std::string bad :
       {"node[1-3", "node1-3]", "node[3-1]", "node[a-b]", "n[[1]]", "node[1-]"}) {
    try {
      ExpandHostlist(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(ExpandHostlist, RefusesListsThatNameMillionsOfHosts) {
  EXPECT_THROW(ExpandHostlist("n[0-99999999]"), InputError);
  EXPECT_THROW(ExpandHostlist("a[0-9999]b[0-9999]"), InputError);
}

TEST(ExpandTasksPerNode, RepeatCountsExpand) {
  EXPECT_EQ(ExpandTasksPerNode("2(x3),1"), (std::vector<int>{2, 2, 2, 1}));
  EXPECT_EQ(ExpandTasksPerNode("4"), (std::vector<int>{4}));
  EXPECT_EQ(ExpandTasksPerNode("1,16(x2)"), (std::vector<int>{1, 16, 16}));
  for (const std::string bad : {"2(x)", "2(3)", "x", "2(x0)", "", "2,,1"}) {
    EXPECT_THROW(ExpandTasksPerNode(bad), InputError) << bad;
  }
}

TEST(SlurmJobFromEnvironment, OutsideSlurmThereIsNoJob) {
  EXPECT_FALSE(SlurmJobFromEnvironment(Env({{"SLURM_NTASKS", "4"}})).has_value());
}

TEST(SlurmJobFromEnvironment, ReadsTheJobNodesAndTaskLayout) {
  const auto job = SlurmJobFromEnvironment(Env({{"SLURM_JOB_ID", "4242"},
                                                {"SLURM_JOB_NAME", "bert"},
                                                {"SLURM_JOB_NODELIST", "node[01-03,07]"},
                                                {"SLURM_TASKS_PER_NODE", "2(x3),1"},
                                                {"SLURM_NTASKS", "7"},
                                                {"SLURM_JOB_NUM_NODES", "4"},
                                                {"SLURM_JOB_PARTITION", "gpu"},
                                                {"SLURM_CLUSTER_NAME", "hpc1"}}));
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->job_id, "4242");
  EXPECT_EQ(job->job_name, "bert");
  EXPECT_EQ(job->nodes, (Strings{"node01", "node02", "node03", "node07"}));
  EXPECT_EQ(job->tasks_per_node, (std::vector<int>{2, 2, 2, 1}));
  EXPECT_EQ(job->ntasks, 7);
  EXPECT_EQ(job->nnodes, 4);
  EXPECT_EQ(job->partition, "gpu");
  EXPECT_TRUE(job->warnings.empty());
  const auto j = ToJson(*job);
  EXPECT_EQ(j["job_id"], "4242");
  EXPECT_EQ(j["nodes"].size(), 4u);
  EXPECT_EQ(j["tasks_per_node_spec"], "2(x3),1");
  EXPECT_EQ(j["cluster_name"], "hpc1");
}

TEST(SlurmJobFromEnvironment, AStepsTaskLayoutWinsOverTheJobs) {
  const auto job = SlurmJobFromEnvironment(Env({{"SLURM_JOB_ID", "9"},
                                                {"SLURM_JOB_NODELIST", "n[1-2]"},
                                                {"SLURM_TASKS_PER_NODE", "4(x2)"},
                                                {"SLURM_STEP_TASKS_PER_NODE", "1(x2)"},
                                                {"SLURM_STEP_ID", "0"}}));
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->tasks_per_node, (std::vector<int>{1, 1}));
  EXPECT_EQ(job->step_id, "0");
}

TEST(SlurmJobFromEnvironment, TasksPerNodeFromNtasksPerNodeCoverEveryNode) {
  const auto job = SlurmJobFromEnvironment(Env(
      {{"SLURM_JOB_ID", "9"}, {"SLURM_JOB_NODELIST", "n[1-3]"}, {"SLURM_NTASKS_PER_NODE", "8"}}));
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->tasks_per_node, (std::vector<int>{8, 8, 8}));
}

TEST(SlurmJobFromEnvironment, MalformedVariablesBecomeWarningsNotFailures) {
  const auto job = SlurmJobFromEnvironment(Env({{"SLURM_JOB_ID", "9"},
                                                {"SLURM_JOB_NODELIST", "n[1-"},
                                                {"SLURM_TASKS_PER_NODE", "two"},
                                                {"SLURM_NTASKS", "many"}}));
  ASSERT_TRUE(job.has_value());
  EXPECT_TRUE(job->nodes.empty());
  EXPECT_TRUE(job->tasks_per_node.empty());
  EXPECT_FALSE(job->ntasks.has_value());
  ASSERT_EQ(job->warnings.size(), 3u);
  EXPECT_NE(job->warnings[0].find("SLURM_JOB_NODELIST"), std::string::npos) << job->warnings[0];
}

TEST(SlurmJobFromEnvironment, DisagreeingNodeCountsAreReported) {
  const auto job = SlurmJobFromEnvironment(Env({{"SLURM_JOB_ID", "9"},
                                                {"SLURM_JOB_NODELIST", "n[1-3]"},
                                                {"SLURM_TASKS_PER_NODE", "2(x2)"}}));
  ASSERT_TRUE(job.has_value());
  ASSERT_EQ(job->warnings.size(), 1u);
  EXPECT_NE(job->warnings[0].find("cover 2 node(s)"), std::string::npos) << job->warnings[0];
}

}  // namespace
}  // namespace joulebench::cluster
