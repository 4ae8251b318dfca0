// `measure --mpi` under a real Open MPI mpirun on this machine. Separate hosts are simulated:
// each rank gets a node id (--node-id) and each node its own fake powercap tree
// (--sysfs-root DIR/%n/sys), whose counters the test advances while the ranks' commands wait.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/background_process.h"
#include "support/fake_powercap.h"
#include "support/mpirun.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

#ifndef JOULEBENCH_TEST_MPI
#define JOULEBENCH_TEST_MPI 1
#endif

namespace joulebench::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
constexpr std::uint64_t kRange = 262143328850;

// Simulated nodes, each with its own powercap tree, and the ranks' commands, which write
// "started.<rank>" (holding the rank's joulebench pid) and wait for the file "go" (or for the
// test's directory to be gone: the command of a rank the test killed would wait for ever).
class SimulatedCluster {
 public:
  explicit SimulatedCluster(const std::vector<std::string>& nodes) {
    for (const auto& node : nodes) {
      powercap_.emplace(node, dir_.path() / node / "sys");
      powercap_.at(node).AddZone("intel-rapl:0", "package-0", kRange);
    }
  }

  // One app context per node: `ranks` ranks of `joulebench measure --mpi` with that node id.
  std::vector<std::string> MpirunArgs(const std::vector<std::pair<std::string, int>>& layout,
                                      const std::vector<std::string>& extra_flags,
                                      const std::string& busy_rank = "") const {
    std::vector<std::string> args = MpirunOptions();
    const std::string d = dir_.path().string();
    // Rank `busy_rank` spends CPU time before it waits: its share of its node must show it.
    const std::string script = "if [ \"$OMPI_COMM_WORLD_RANK\" = \"" + busy_rank +
                               "\" ]; then i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; fi; "
                               "echo $PPID > " +
                               d + "/started.tmp.$OMPI_COMM_WORLD_RANK && mv " + d +
                               "/started.tmp.$OMPI_COMM_WORLD_RANK " + d +
                               "/started.$OMPI_COMM_WORLD_RANK; "
                               "while [ ! -e " +
                               d + "/go ] && [ -d " + d +
                               " ]; do sleep 0.02; done";
    bool first = true;
    for (const auto& [node, ranks] : layout) {
      if (!first) args.push_back(":");
      first = false;
      std::vector<std::string> context = {"-n",           std::to_string(ranks),
                                          JOULEBENCH_BIN, "measure",
                                          "--mpi",        "--node-id",
                                          node,           "--sysfs-root",
                                          d + "/%n/sys",  "--disable",
                                          "nvml",         "--disable",
                                          "neuron",       "--disable",
                                          "model",        "--interval",
                                          "20ms",         "--db",
                                          db(),           "--quiet"};
      context.insert(context.end(), extra_flags.begin(), extra_flags.end());
      context.insert(context.end(), {"--", "sh", "-c", script});
      args.insert(args.end(), context.begin(), context.end());
    }
    return args;
  }

  std::string db() const { return (dir_.path() / "runs.db").string(); }
  FakePowercap& node(const std::string& id) { return powercap_.at(id); }

  // Waits until `ranks` commands have started; returns each rank's joulebench pid.
  std::vector<pid_t> WaitForStarted(int ranks, std::chrono::seconds limit = 60s) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::vector<pid_t> pids(static_cast<std::size_t>(ranks), 0);
    while (std::chrono::steady_clock::now() < deadline) {
      int found = 0;
      for (int r = 0; r < ranks; ++r) {
        std::ifstream in(dir_.path() / ("started." + std::to_string(r)));
        pid_t pid = 0;
        if (in >> pid) {
          pids[static_cast<std::size_t>(r)] = pid;
          ++found;
        }
      }
      if (found == ranks) return pids;
      std::this_thread::sleep_for(20ms);
    }
    return {};
  }
  void Go() const { std::ofstream(dir_.path() / "go") << "go\n"; }

 private:
  TempDir dir_;
  std::map<std::string, FakePowercap> powercap_;
};

const json* FindNode(const json& run, const std::string& id) {
  for (const auto& n : run["nodes"]) {
    if (n["node_id"] == id) return &n;
  }
  return nullptr;
}

double MeasurementJoules(const json& node) {
  for (const auto& e : node["energy"]) {
    if (e["name"] == "measurement") return e["total_joules"].get<double>();
  }
  return -1;
}

double Metric(const json& run, const std::string& name) {
  for (const auto& m : run["metrics"]) {
    if (m["name"] == name) return m["value"].get<double>();
  }
  return -1;
}

json OnlyStoredRun(const std::string& db) {
  const ProcessResult list = RunJoulebench({"runs", "list", "--db", db, "--json"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  const json runs = json::parse(list.out);
  EXPECT_EQ(runs.size(), 1u) << list.out;
  if (runs.empty()) return json::object();
  const std::string id = runs[0].contains("id") ? runs[0]["id"].dump() : "1";
  const ProcessResult show = RunJoulebench(
      {"runs", "show", runs[0]["id"].is_string() ? runs[0]["id"].get<std::string>() : id, "--db",
       db, "--json"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  return json::parse(show.out);
}

#if JOULEBENCH_TEST_MPI

TEST(MpiMeasure, JobTotalIsTheSumOfTheNodesAndASharedNodeCountsOnce) {
  ASSERT_NE(FindInPath("mpirun"), "")
      << "mpirun not found: scripts/install-deps.sh installs openmpi-bin";
  SimulatedCluster cluster({"node-a", "node-b"});
  auto env = MpirunEnvironment();
  env.insert(env.end(),
             {"SLURM_JOB_ID=4242", "SLURM_JOB_NODELIST=node-[a-b]x", "SLURM_TASKS_PER_NODE=2,1"});
  // Ranks 0 and 1 on node-a, rank 2 on node-b; rank 1 burns CPU.
  Mpirun mpirun(cluster.MpirunArgs({{"node-a", 2}, {"node-b", 1}}, {"--json"}, "1"), env);
  const auto pids = cluster.WaitForStarted(3);
  ASSERT_EQ(pids.size(), 3u) << "the ranks did not start";
  cluster.node("node-a").AddEnergy("intel-rapl:0", 50.0);
  cluster.node("node-b").AddEnergy("intel-rapl:0", 30.0);
  cluster.Go();
  const ProcessResult r = mpirun.Finish();
  ASSERT_FALSE(mpirun.killed()) << "mpirun hung\n" << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json run = json::parse(r.out);

  EXPECT_EQ(run["status"], "complete");
  ASSERT_EQ(run["nodes"].size(), 2u);
  const json* a = FindNode(run, "node-a");
  const json* b = FindNode(run, "node-b");
  ASSERT_TRUE(a && b) << run["nodes"].dump();
  // Two ranks on node-a, one meter: its 50 J once, not twice.
  EXPECT_EQ((*a)["ranks"].size(), 2u);
  EXPECT_EQ((*a)["leader_rank"], 0);
  EXPECT_NEAR(MeasurementJoules(*a), 50.0, 1e-6);
  EXPECT_NEAR(MeasurementJoules(*b), 30.0, 1e-6);
  EXPECT_NEAR(Metric(run, "energy"), MeasurementJoules(*a) + MeasurementJoules(*b), 1e-9);
  EXPECT_NEAR(Metric(run, "energy"), 80.0, 1e-6);
  EXPECT_EQ(Metric(run, "ranks"), 3);
  // The job's timeline holds each node's domain once, named by node.
  std::vector<std::string> domains;
  for (const auto& d : run["timeline"]["domains"]) domains.push_back(d["name"]);
  EXPECT_EQ(domains, (std::vector<std::string>{"node-a/rapl/package-0", "node-b/rapl/package-0"}));

  // Per-rank CPU: the busy rank 1 used more CPU than rank 0 and got the larger share.
  const json& rank0 = (*a)["ranks"][0];
  const json& rank1 = (*a)["ranks"][1];
  ASSERT_EQ(rank1["rank"], 1);
  EXPECT_GT(rank1["cpu_s"].get<double>(), 0.05);
  EXPECT_GT(rank1["cpu_s"].get<double>(), rank0["cpu_s"].get<double>());
  ASSERT_TRUE(rank1["cpu_share"].is_number()) << a->dump();
  EXPECT_NEAR(rank1["cpu_joules"].get<double>(),
              (*a)["cpu_joules"].get<double>() * rank1["cpu_share"].get<double>(), 1e-9);

  // Slurm's view of the job is recorded; its malformed node list only as a warning.
  const json& slurm = run["config"]["cluster"]["slurm"];
  EXPECT_EQ(slurm["job_id"], "4242");
  EXPECT_EQ(slurm["tasks_per_node"], json::array({2, 1}));
  EXPECT_EQ(slurm["warnings"].size(), 1u) << slurm.dump();

  // Stored as one run, as printed.
  const json stored = OnlyStoredRun(cluster.db());
  EXPECT_EQ(stored["status"], "complete");
  EXPECT_EQ(stored["nodes"].size(), 2u);
  EXPECT_NEAR(Metric(stored, "energy"), 80.0, 1e-6);
  EXPECT_EQ(stored["timeline"]["domains"].size(), 2u);
  EXPECT_GT(stored["timeline"]["time_s"].size(), 2u);
}

TEST(MpiMeasure, AKilledRankLeavesTheRunStoredIncompleteWithWhatTheOthersMeasured) {
  ASSERT_NE(FindInPath("mpirun"), "")
      << "mpirun not found: scripts/install-deps.sh installs openmpi-bin";
  SimulatedCluster cluster({"node-a", "node-b"});
  Mpirun mpirun(cluster.MpirunArgs({{"node-a", 2}, {"node-b", 1}}, {"--mpi-timeout", "20s"}),
                MpirunEnvironment());
  const auto pids = cluster.WaitForStarted(3);
  ASSERT_EQ(pids.size(), 3u) << "the ranks did not start";
  cluster.node("node-a").AddEnergy("intel-rapl:0", 50.0);
  cluster.node("node-b").AddEnergy("intel-rapl:0", 30.0);
  // node-b's leader reports about once a second: let its 30 J reach rank 0 first.
  std::this_thread::sleep_for(2500ms);
  ASSERT_EQ(kill(pids[2], SIGKILL), 0);
  const ProcessResult r = mpirun.Finish();
  ASSERT_FALSE(mpirun.killed()) << "mpirun hung after a rank died\n" << r.err;
  EXPECT_NE(r.exit_code, 0);

  const json stored = OnlyStoredRun(cluster.db());
  EXPECT_EQ(stored["status"], "incomplete") << stored["warnings"].dump();
  ASSERT_EQ(stored["nodes"].size(), 2u);
  const json* a = FindNode(stored, "node-a");
  const json* b = FindNode(stored, "node-b");
  ASSERT_TRUE(a && b);
  EXPECT_NEAR(MeasurementJoules(*a), 50.0, 1e-6);
  // node-b's leader died: its energy is that of its last report.
  EXPECT_NE((*b)["status"], "complete");
  EXPECT_NEAR(MeasurementJoules(*b), 30.0, 1e-6);
  EXPECT_EQ((*b)["ranks"][0]["status"], "lost");
  EXPECT_NEAR(Metric(stored, "energy"), 80.0, 1e-6);
}

TEST(MpiMeasure, ANodesSensorGapReachesTheJobsTimelineAndStoreUnderTheNodesName) {
  ASSERT_NE(FindInPath("mpirun"), "")
      << "mpirun not found: scripts/install-deps.sh installs openmpi-bin";
  SimulatedCluster cluster({"node-a", "node-b"});
  Mpirun mpirun(cluster.MpirunArgs({{"node-a", 1}, {"node-b", 1}}, {"--json"}),
                MpirunEnvironment());
  ASSERT_EQ(cluster.WaitForStarted(2).size(), 2u) << "the ranks did not start";
  const std::uint64_t before = cluster.node("node-b").Energy("intel-rapl:0");
  cluster.node("node-b").SetRawEnergyContents("intel-rapl:0", "garbage\n");
  std::this_thread::sleep_for(300ms);  // about 15 failed reads at 20 ms
  cluster.node("node-b").SetEnergy("intel-rapl:0", before + 2'000'000);
  std::this_thread::sleep_for(200ms);
  cluster.Go();
  const ProcessResult r = mpirun.Finish();
  ASSERT_FALSE(mpirun.killed()) << "mpirun hung\n" << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto gaps_of = [](const json& run) {
    std::vector<std::string> domains;
    for (const auto& g : run["timeline"]["gaps"]) domains.push_back(g["domain"]);
    return domains;
  };
  const json printed = json::parse(r.out);
  const auto gaps = gaps_of(printed);
  ASSERT_FALSE(gaps.empty()) << printed["timeline"].dump().substr(0, 2000);
  for (const auto& d : gaps) EXPECT_EQ(d, "node-b/rapl/package-0");
  EXPECT_EQ(gaps_of(OnlyStoredRun(cluster.db())), gaps);
}

TEST(MpiMeasure, MetricsListenWithMpiIsRefusedInOneLine) {
  const ProcessResult r = RunJoulebench(
      {"measure", "--mpi", "--metrics-listen", "127.0.0.1:0", "--no-store", "--", "true"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--metrics-listen does not work with --mpi"), std::string::npos) << r.err;
}

#else

TEST(MpiMeasure, WithoutMpiTheFlagSaysSoInOneLine) {
  TempDir dir;
  const ProcessResult r = RunJoulebench({"measure", "--mpi", "--no-store", "--", "true"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("--mpi: this joulebench was built without MPI"), std::string::npos) << r.err;
}

#endif

TEST(MpiMeasure, NodeIdWithoutMpiIsAnInputError) {
  const ProcessResult r = RunJoulebench({"measure", "--node-id", "a", "--no-store", "--", "true"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--node-id applies to multi-node runs only"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace joulebench::testing
