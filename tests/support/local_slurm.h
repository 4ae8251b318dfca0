// A private Slurm cluster of one node on loopback for tests: munged, slurmctld and slurmd from
// Debian's packages, each with its own socket, ports, state and logs in a temp dir, started by
// the constructor and stopped by the destructor. Jobs run as the current user (root in CI).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::testing {

class LocalSlurm {
 public:
  // Starts the daemons and waits until the node is idle; `error()` says why not.
  LocalSlurm();
  ~LocalSlurm();
  LocalSlurm(const LocalSlurm&) = delete;
  LocalSlurm& operator=(const LocalSlurm&) = delete;

  // "" when the cluster is up, else what failed (with the daemons' last log lines).
  const std::string& error() const { return error_; }
  const std::string& node_name() const { return node_; }
  // Environment for Slurm's clients (SLURM_CONF) and Open MPI as root.
  std::vector<std::string> Environment() const;
  // Runs a Slurm client (srun, sbatch, squeue...) against this cluster.
  ProcessResult Run(const std::string& client, const std::vector<std::string>& args,
                    const std::vector<std::string>& env = {}) const;
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  pid_t Start(const std::string& program, const std::vector<std::string>& args,
              const std::string& log);
  std::string Logs() const;

  TempDir dir_;
  std::string node_;
  std::string error_;
  std::vector<pid_t> daemons_;
};

}  // namespace joulebench::testing
