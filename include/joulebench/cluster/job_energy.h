// The energy of a multi-node run, put together from what its nodes measured: the job's
// windows are the sums of the nodes' windows (each node's total already avoids double
// counting inside the node, and nodes never overlap), and each rank gets a modelled share of
// its node's CPU energy by its CPU time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "joulebench/run/node_result.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::cluster {

// "<node>/<domain>": how a node's domain is named in the job's windows and timeline.
std::string NodeDomainName(std::string_view node_id, std::string_view domain);

// The job's window `window` ("measurement", "baseline"): every node's domains renamed with
// NodeDomainName, total = sum of the nodes' totals, attributable total when every node has
// one. The times (begin, end, duration) are those of the first node that has the window
// (rank 0's node: windows are aligned across nodes). A node without the window is named in
// the warnings.
sampling::EnergyReport SumNodeEnergy(std::string_view window,
                                     const std::vector<run::NodeResult>& nodes);

// The CPU part of a node's report, as the per-process model of `loadgen --server-pid`
// takes it: the packages (RAPL) or the model's CPU, else cores and uncore (they lie inside a
// package: never both).
struct CpuEnergy {
  double joules = 0;
  std::string domains;  // "rapl/package-0 + rapl/package-1"; empty when there is none
  bool modelled = false;
};
CpuEnergy CpuDomainEnergy(const sampling::EnergyReport& report);

// Fills node.cpu_joules, cpu_domains and attribution from its "measurement" window, and each
// rank's cpu_share = cpu_s / node busy CPU time and cpu_joules = CPU energy x share. Ranks
// keep no share when the node's busy time or its CPU energy is unknown.
void AttributeNodeCpu(run::NodeResult& node);

}  // namespace joulebench::cluster
