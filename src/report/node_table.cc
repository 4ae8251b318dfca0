#include "joulebench/report/node_table.h"

#include <fmt/format.h>

#include <algorithm>

#include "joulebench/units.h"

namespace joulebench::report {
namespace {

std::string Ranks(const run::NodeResult& node) {
  std::string out;
  for (const auto& r : node.ranks) out += (out.empty() ? "" : ",") + std::to_string(r.rank);
  return out;
}

}  // namespace

std::string FormatNodeTable(const run::RunRecord& record) {
  if (record.nodes.empty()) return "";
  std::size_t ranks = 0;
  for (const auto& n : record.nodes) ranks += n.ranks.size();
  std::string out = fmt::format(
      "nodes: {} node(s), {} rank(s); one meter per node (its lowest rank samples it), the job's "
      "energy is the sum of the nodes\n",
      record.nodes.size(), ranks);
  std::size_t id_width = 4;
  std::size_t host_width = 4;
  std::size_t ranks_width = 5;
  for (const auto& n : record.nodes) {
    id_width = std::max(id_width, n.node_id.size());
    host_width = std::max(host_width, n.hostname.size());
    ranks_width = std::max(ranks_width, Ranks(n).size());
  }
  out += fmt::format("  {:<{}}  {:<{}}  {:<{}}  {:<9}  {:>12}  {:>11}  {:>12}\n", "node", id_width,
                     "host", host_width, "ranks", ranks_width, "status", "energy", "mean power",
                     "CPU energy");
  double sum = 0;
  for (const auto& n : record.nodes) {
    const sampling::EnergyReport* m = n.FindEnergy("measurement");
    const std::string joules = m ? FormatJoules(m->total_joules) : "-";
    const std::string watts = m ? FormatWatts(m->mean_watts) : "-";
    const std::string cpu = n.cpu_joules ? FormatJoules(*n.cpu_joules) : "-";
    if (m) sum += m->total_joules;
    out += fmt::format("  {:<{}}  {:<{}}  {:<{}}  {:<9}  {:>12}  {:>11}  {:>12}\n", n.node_id,
                       id_width, n.hostname, host_width, Ranks(n), ranks_width, n.status, joules,
                       watts, cpu);
  }
  out += fmt::format("  {:<{}}  {:>12}\n", "sum of the nodes",
                     id_width + host_width + ranks_width + 9 + 6 + 9, FormatJoules(sum));
  bool any_rank_line = false;
  for (const auto& n : record.nodes) {
    for (const auto& r : n.ranks) {
      if (!any_rank_line) {
        out += "ranks (CPU time of each rank's work in the measurement window):\n";
        any_rank_line = true;
      }
      std::string line = fmt::format("  rank {} on {}: {:.3g} CPU-s", r.rank, n.node_id, r.cpu_s);
      if (r.cpu_share) {
        line += fmt::format(" = {:.1f} % of the node's busy CPU time", *r.cpu_share * 100);
      }
      if (r.cpu_joules)
        line += fmt::format(" -> {} of its CPU energy", FormatJoules(*r.cpu_joules));
      if (r.exit_code) line += fmt::format("; exit code {}", *r.exit_code);
      if (r.status != "complete") line += fmt::format(" [{}]", r.status);
      out += line + "\n";
    }
  }
  for (const auto& n : record.nodes) {
    if (!n.attribution.empty() && n.machine_busy_cpu_s) {
      out += fmt::format("  node {}: {}\n", n.node_id, n.attribution);
    }
    for (const auto& w : n.warnings) out += fmt::format("  node {}: warning: {}\n", n.node_id, w);
  }
  return out;
}

}  // namespace joulebench::report
