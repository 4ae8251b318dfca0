// `train --mpi` under a real Open MPI mpirun on this machine, with simulated nodes (a node id
// per rank and a fake powercap tree per node), and `plan train` from the stored run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/fake_powercap.h"
#include "support/mpirun.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

#ifndef JOULEBENCH_TEST_MPI
#define JOULEBENCH_TEST_MPI 1
#endif

namespace joulebench::testing {
namespace {

using nlohmann::json;

const json* FindMetric(const json& run, const std::string& name) {
  for (const auto& m : run.at("metrics")) {
    if (m.at("name") == name) return &m;
  }
  return nullptr;
}

#if JOULEBENCH_TEST_MPI

TEST(MpiTrain, DataParallelReplicasStayIdenticalAndTheRunMeasuresItsScaling) {
  ASSERT_NE(FindInPath("mpirun"), "")
      << "mpirun not found: scripts/install-deps.sh installs openmpi-bin";
  TempDir dir;
  for (const std::string node : {"node-a", "node-b"}) {
    FakePowercap(dir.path() / node / "sys").AddZone("intel-rapl:0", "package-0", 262143328850);
  }
  const std::string db = (dir.path() / "runs.db").string();
  std::vector<std::string> args = MpirunOptions();
  bool first = true;
  // Ranks 0 and 1 on node-a (one meter, rank 0's), rank 2 on node-b.
  for (const auto& [node, ranks] : {std::pair{"node-a", "2"}, std::pair{"node-b", "1"}}) {
    if (!first) args.push_back(":");
    first = false;
    args.insert(args.end(), {"-n",
                             ranks,
                             JOULEBENCH_BIN,
                             "train",
                             "--mpi",
                             "--node-id",
                             node,
                             "--sysfs-root",
                             (dir.path() / "%n" / "sys").string(),
                             "--disable",
                             "nvml",
                             "--disable",
                             "neuron",
                             "--disable",
                             "model",
                             "--model",
                             "bert-tiny",
                             "--seq-len",
                             "16",
                             "--batch",
                             "2",
                             "--steps",
                             "5",
                             "--sequences",
                             "1M",
                             "--db",
                             db,
                             "--quiet",
                             "--json"});
  }
  Mpirun mpirun(args, MpirunEnvironment());
  const ProcessResult r = mpirun.Finish();
  ASSERT_FALSE(mpirun.killed()) << "mpirun hung\n" << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json run = json::parse(r.out);

  EXPECT_EQ(run.at("kind"), "train");
  EXPECT_EQ(run.at("status"), "complete") << run.at("warnings").dump();
  ASSERT_EQ(run.at("nodes").size(), 2u);
  EXPECT_EQ(run.at("nodes")[0].at("ranks").size(), 2u);
  EXPECT_EQ(FindMetric(run, "ranks")->at("value"), 3);
  // Gradients summed every step keep the replicas identical although each trains on its own
  // documents.
  ASSERT_NE(FindMetric(run, "replica_weight_difference"), nullptr);
  EXPECT_EQ(FindMetric(run, "replica_weight_difference")->at("value").get<double>(), 0.0);
  EXPECT_EQ(run.at("config").at("workload").at("data_parallel").at("ranks"), 3);
  // Throughput counts every rank; per node, and against the first node alone.
  const double per_s = FindMetric(run, "sequences_per_s")->at("value").get<double>();
  // No steady state in 5 steps: steps 2 to 5 are measured, 2 sequences on each of 3 ranks.
  EXPECT_EQ(FindMetric(run, "measured_sequences")->at("value").get<double>(), 4 * 2 * 3);
  EXPECT_NEAR(FindMetric(run, "sequences_per_s_per_node")->at("value").get<double>(), per_s / 2,
              per_s * 1e-12);
  const json* reference = FindMetric(run, "reference_sequences_per_s");
  const json* efficiency = FindMetric(run, "scaling_efficiency");
  ASSERT_TRUE(reference != nullptr && efficiency != nullptr);
  EXPECT_NEAR(efficiency->at("value").get<double>(),
              per_s / (2 * reference->at("value").get<double>()), 1e-9);
  // Every rank's CPU time is in the node breakdown.
  for (const auto& node : run.at("nodes")) {
    for (const auto& rank : node.at("ranks")) EXPECT_GT(rank.at("cpu_s").get<double>(), 0);
  }

  // plan train takes the stored run's measured efficiency, with its provenance.
  const ProcessResult list = RunJoulebench({"runs", "list", "--db", db, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const json runs = json::parse(list.out);
  ASSERT_EQ(runs.size(), 1u);
  const std::string id =
      runs[0].at("id").is_string() ? runs[0].at("id").get<std::string>() : runs[0].at("id").dump();
  const ProcessResult plan = RunJoulebench(
      {"plan", "train", "--db", db, "--sequences", "1M", "--instances", "4", "--from-run", id,
       "--candidate", "name=x,throughput=100/s,power=100W,price=1/h", "--candidate",
       "name=y,throughput=50/s,power=80W,price=0.5/h", "--json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  const json p = json::parse(plan.out);
  const json& used = p.at("request").at("scaling_efficiency");
  EXPECT_NEAR(used.at("value").get<double>(), std::min(1.0, efficiency->at("value").get<double>()),
              1e-12);
  EXPECT_NE(used.at("provenance").get<std::string>().find("stored run " + id), std::string::npos)
      << used.dump();
  EXPECT_NE(used.at("provenance").get<std::string>().find("scaling_efficiency"), std::string::npos);

  // A candidate from the run is one node: the first node's throughput alone, and the run's
  // efficiency replaces the default 1.0.
  const ProcessResult from_candidate =
      RunJoulebench({"plan", "train", "--db", db, "--sequences", "1M", "--instances", "2",
                     "--candidate", "run=" + id + ",name=cluster,power=100W,price=1/h",
                     "--candidate", "name=y,throughput=50/s,power=80W,price=0.5/h", "--json"});
  ASSERT_EQ(from_candidate.exit_code, 0) << from_candidate.err;
  const json c = json::parse(from_candidate.out);
  EXPECT_NEAR(c.at("request").at("scaling_efficiency").at("value").get<double>(),
              std::min(1.0, efficiency->at("value").get<double>()), 1e-12);
  const json& cluster = c.at("candidates")[0];
  ASSERT_EQ(cluster.at("name"), "cluster");
  EXPECT_EQ(cluster.at("inputs").at("sequences_per_s").at("value").get<double>(),
            reference->at("value").get<double>());
  EXPECT_NE(cluster.at("inputs")
                .at("sequences_per_s")
                .at("provenance")
                .get<std::string>()
                .find("reference_sequences_per_s"),
            std::string::npos);
}

TEST(MpiTrain, PlanFromARunWithoutMeasuredScalingSaysWhy) {
  TempDir dir;
  const std::string file = (dir.path() / "one.json").string();
  const ProcessResult train =
      RunJoulebench({"train", "--model", "bert-tiny", "--seq-len", "16", "--batch", "2", "--steps",
                     "2", "--gemm-duration", "0s", "--json"});
  ASSERT_EQ(train.exit_code, 0) << train.err;
  dir.Write("one.json", train.out);
  const ProcessResult plan =
      RunJoulebench({"plan", "train", "--sequences", "1M", "--instances", "4", "--from-run", file,
                     "--candidate", "name=x,throughput=100/s,power=100W,price=1/h", "--candidate",
                     "name=y,throughput=50/s,power=80W,price=0.5/h"});
  EXPECT_EQ(plan.exit_code, 2);
  EXPECT_NE(plan.err.find("--from-run: run"), std::string::npos) << plan.err;
  EXPECT_NE(plan.err.find("measured no scaling efficiency"), std::string::npos) << plan.err;
}

#endif

}  // namespace
}  // namespace joulebench::testing
