// A multi-node run launched the Slurm way, on a private one-node Slurm cluster on loopback:
// sbatch runs a batch script whose srun starts joulebench on every task through Open MPI's
// PMIx (no mpirun), as docs/cluster.md's example does.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/fake_powercap.h"
#include "support/local_slurm.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

#ifndef JOULEBENCH_TEST_MPI
#define JOULEBENCH_TEST_MPI 1
#endif

namespace joulebench::testing {
namespace {

using nlohmann::json;

#if JOULEBENCH_TEST_MPI

TEST(SlurmRun, ASbatchJobStartedBySrunRecordsSlurmsViewOfTheJob) {
  LocalSlurm slurm;
  ASSERT_EQ(slurm.error(), "");
  const auto& d = slurm.dir();
  for (const std::string node : {"node-0", "node-1"}) {
    FakePowercap(d / node / "sys").AddZone("intel-rapl:0", "package-0", 262143328850);
  }
  const std::string db = (d / "runs.db").string();
  // Tasks 0 and 1 simulate node-0, task 2 node-1.
  {
    std::ofstream script(d / "job.sh");
    script << "#!/bin/sh\n"
           << "#SBATCH --job-name=jb-test\n#SBATCH --ntasks=3\n#SBATCH --overcommit\n"
           << "#SBATCH --output=" << (d / "job.out").string() << "\n"
           << "#SBATCH --error=" << (d / "job.err").string() << "\n"
           << "srun --mpi=pmix sh -c 'exec " << JOULEBENCH_BIN
           << " measure --mpi --node-id node-$((SLURM_PROCID / 2)) --sysfs-root " << d.string()
           << "/%n/sys --disable nvml --disable neuron --disable model --db " << db
           << " --quiet --json -- sleep 0.2'\n";
  }
  const ProcessResult r = slurm.Run("sbatch", {"--wait", (d / "job.sh").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << ReadFile(d / "job.err");
  const json run = json::parse(ReadFile(d / "job.out"));

  EXPECT_EQ(run.at("status"), "complete");
  const json& slurm_job = run.at("config").at("cluster").at("slurm");
  EXPECT_FALSE(slurm_job.at("job_id").get<std::string>().empty());
  EXPECT_EQ(slurm_job.at("job_name"), "jb-test");
  EXPECT_EQ(slurm_job.at("nodes"), json::array({slurm.node_name()}));
  EXPECT_EQ(slurm_job.at("tasks_per_node"), json::array({3}));
  EXPECT_EQ(slurm_job.at("ntasks"), 3);
  EXPECT_EQ(slurm_job.at("cluster_name"), "jbtest");
  ASSERT_EQ(run.at("nodes").size(), 2u);
  EXPECT_EQ(run.at("nodes")[0].at("node_id"), "node-0");
  EXPECT_EQ(run.at("nodes")[0].at("ranks").size(), 2u);
  EXPECT_EQ(run.at("nodes")[1].at("ranks")[0].at("rank"), 2);
}

#endif

}  // namespace
}  // namespace joulebench::testing
