// Flags of the commands that run across the ranks of an MPI job (measure, train): --mpi,
// --node-id, --mpi-timeout; and running a command's work with one clear line per rank on
// error.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "joulebench/cluster/mpi_job.h"
#include "joulebench/cluster/node_identity.h"

namespace joulebench::cli {

struct MpiFlags {
  bool mpi = false;
  std::string node_id;
  std::string timeout = "60s";
};

void AddMpiFlags(CLI::App& app, MpiFlags& flags);

struct MpiSetup {
  cluster::NodeIdentity node;
  std::chrono::milliseconds timeout{60000};
};
// Checks --node-id / JOULEBENCH_NODE_ID and --mpi-timeout (1s to 24h), and that no
// --metrics-listen (`metrics_listen`) comes with --mpi. InputError otherwise.
MpiSetup ResolveMpiFlags(const MpiFlags& flags, const std::string& metrics_listen);

// Runs `work` on this rank. A joulebench error prints one line naming the rank and ends the
// whole job (MPI_Abort with the error's exit code), so that no rank waits for one that gave
// up; the other ranks' figures are lost only when rank 0 is the one that failed.
int RunOnMpiJob(cluster::MpiJob& job, const std::function<int()>& work);

}  // namespace joulebench::cli
