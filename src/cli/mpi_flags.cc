#include "cli/mpi_flags.h"

#include <fmt/format.h>

#include <cstdio>

#include "joulebench/error.h"
#include "joulebench/units.h"

namespace joulebench::cli {

void AddMpiFlags(CLI::App& app, MpiFlags& flags) {
  app.add_flag("--mpi", flags.mpi,
               "Run on every rank of an MPI job (mpirun or srun): one meter per node, the job "
               "stored as one run by rank 0 (docs/cluster.md)");
  app.add_option("--node-id", flags.node_id,
                 "With --mpi: this rank's node instead of the host name (env "
                 "JOULEBENCH_NODE_ID); ranks with the same node id share one meter");
  app.add_option("--mpi-timeout", flags.timeout,
                 "With --mpi: a rank silent this long is taken as lost (default 60s)");
}

MpiSetup ResolveMpiFlags(const MpiFlags& flags, const std::string& metrics_listen) {
  if (!metrics_listen.empty()) {
    // The nodes' energy reaches rank 0 only at the end of the job, and every rank of a node
    // would try to listen on the same address.
    throw InputError(
        "--metrics-listen does not work with --mpi yet: the nodes' energy reaches rank 0 only "
        "at the end of the job; run `joulebench export` on each node for live metrics");
  }
  MpiSetup setup;
  setup.node = cluster::ResolveNodeIdentity(flags.node_id);
  const auto timeout = ParseDuration(flags.timeout, "--mpi-timeout");
  if (timeout < std::chrono::seconds(1) || timeout > std::chrono::hours(24)) {
    throw InputError(
        fmt::format("--mpi-timeout '{}' is out of range; use 1s to 24h", flags.timeout));
  }
  setup.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  return setup;
}

int RunOnMpiJob(cluster::MpiJob& job, const std::function<int()>& work) {
  int code = 0;
  std::string message;
  try {
    return work();
  } catch (const InputError& e) {
    code = 2;
    message = e.what();
  } catch (const EnvironmentError& e) {
    code = 3;
    message = e.what();
  } catch (const Error& e) {
    code = 1;
    message = e.what();
  }
  // RankLostError already names the rank.
  if (message.rfind("rank ", 0) == 0) {
    std::fprintf(stderr, "joulebench: error: %s\n", message.c_str());
  } else {
    std::fprintf(stderr, "joulebench: error: rank %d: %s\n", job.rank(), message.c_str());
  }
  std::fflush(stderr);
  job.Abandon(code);
  return code;
}

}  // namespace joulebench::cli
