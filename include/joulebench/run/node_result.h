// The per-node breakdown of a multi-node run (`measure --mpi`, `train --mpi`): one meter per
// node, read by the node's leader rank, and the CPU time of every rank on the node. The run's
// own energy is the sum of its nodes (docs/cluster.md).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/sampling/meter.h"

namespace joulebench::run {

// One rank (a process mpirun or srun started) and the CPU time its work used.
struct RankUsage {
  int rank = 0;
  int pid = 0;
  // "complete"; "running" while the run goes on (a partial record); "lost": its final report
  // never came (the rank, or the node under it, died or stopped answering).
  std::string status = "complete";
  std::optional<int> exit_code;  // of the rank's command (measure), once it ended
  // CPU seconds of the rank's work in the measurement window: its command and the command's
  // children (measure, from wait4), or the rank's own process (train).
  double cpu_s = 0;
  // cpu_s over the node's busy CPU time in the window (0..1), and the node's CPU energy times
  // that share: a model (CPU time is not energy), labelled by NodeResult::attribution. Absent
  // when the node's busy CPU time or CPU energy is unknown.
  std::optional<double> cpu_share;
  std::optional<double> cpu_joules;
};

// One node: what its meter measured and the ranks it ran.
struct NodeResult {
  std::string node_id;         // what ranks were grouped by (host name, or an override)
  std::string hostname;        // the leader's host name
  std::string node_id_source;  // "hostname", "JOULEBENCH_NODE_ID" or "--node-id"
  int leader_rank = 0;         // the lowest rank on the node: the one that samples it
  // "complete"; "running" while the run goes on; "partial": the node's final report never
  // came (its leader was lost), so `energy` holds the last progress report it sent.
  std::string status = "complete";
  // The node's energy windows ("baseline", "measurement") with its own domain names.
  std::vector<sampling::EnergyReport> energy;
  // Busy CPU time of the whole node in the measurement window (/proc/stat: every field but
  // idle and iowait); absent when /proc/stat could not be read.
  std::optional<double> machine_busy_cpu_s;
  // Energy of the node's CPU domains in the measurement (packages, else cores and uncore, or
  // the model's CPU) and their names; absent when the node has no CPU domain.
  std::optional<double> cpu_joules;
  std::string cpu_domains;
  std::string attribution;           // provenance of every RankUsage::cpu_joules of this node
  std::vector<RankUsage> ranks;      // the ranks on this node, in rank order
  std::vector<std::string> sources;  // what the leader's probe found, one line per source
  std::vector<std::string> warnings;

  const sampling::EnergyReport* FindEnergy(std::string_view name) const;
  // Total joules of the named window; 0 when the node has none.
  double Joules(std::string_view window = "measurement") const;
};

nlohmann::json ToJson(const NodeResult& node);
NodeResult NodeResultFromJson(const nlohmann::json& json);  // throws InputError on bad shape

}  // namespace joulebench::run
