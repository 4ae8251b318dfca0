#include "cluster/job/messages.h"

namespace joulebench::cluster {

nlohmann::json ClusterConfigJson(const MpiJob& job, const std::optional<SlurmJob>& slurm) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& ranks : job.nodes()) {
    const RankInfo& leader = job.ranks()[static_cast<std::size_t>(ranks.front())];
    nodes.push_back(nlohmann::json{{"node_id", leader.node_id},
                                   {"hostname", leader.hostname},
                                   {"ranks", ranks},
                                   {"leader_rank", ranks.front()}});
  }
  nlohmann::json cluster = {
      {"launcher", "mpi"},
      {"mpi_library", job.library_version()},
      {"ranks", job.size()},
      {"node_count", job.nodes().size()},
      {"nodes", std::move(nodes)},
      {"node_id_source", job.ranks().empty() ? "" : job.ranks().front().node_id_source},
      {"timeout_s", std::chrono::duration<double>(job.timeout()).count()},
  };
  if (slurm) cluster["slurm"] = ToJson(*slurm);
  return cluster;
}

}  // namespace joulebench::cluster
