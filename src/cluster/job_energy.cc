#include "joulebench/cluster/job_energy.h"

#include <fmt/format.h>

#include <algorithm>

namespace joulebench::cluster {

std::string NodeDomainName(std::string_view node_id, std::string_view domain) {
  return fmt::format("{}/{}", node_id, domain);
}

sampling::EnergyReport SumNodeEnergy(std::string_view window,
                                     const std::vector<run::NodeResult>& nodes) {
  sampling::EnergyReport job;
  job.name = std::string(window);
  bool timed = false;
  bool all_attributable = true;
  double attributable = 0;
  for (const auto& node : nodes) {
    const sampling::EnergyReport* report = node.FindEnergy(window);
    if (report == nullptr) {
      job.warnings.push_back(fmt::format(
          "node {} reported no '{}' window; the job's total leaves it out", node.node_id, window));
      job.total_complete = false;
      all_attributable = false;
      continue;
    }
    if (!timed) {
      job.begin_s = report->begin_s;
      job.end_s = report->end_s;
      job.duration_s = report->duration_s;
      timed = true;
    }
    for (sampling::DomainEnergy d : report->domains) {
      d.domain.name = NodeDomainName(node.node_id, d.domain.name);
      if (!d.domain.parent.empty()) d.domain.parent = NodeDomainName(node.node_id, d.domain.parent);
      for (auto& g : d.gaps) g.domain = NodeDomainName(node.node_id, g.domain);
      if (d.in_total) job.total_domains.push_back(d.domain.name);
      job.domains.push_back(std::move(d));
    }
    // A node's total that leaves a lost domain out, or counts one over part of the window,
    // makes the job's a lower bound too.
    for (const auto& name : report->excluded_domains) {
      job.excluded_domains.push_back(NodeDomainName(node.node_id, name));
    }
    for (const auto& name : report->partial_domains) {
      job.partial_domains.push_back(NodeDomainName(node.node_id, name));
    }
    if (!report->total_complete) job.total_complete = false;
    job.total_joules += report->total_joules;
    job.any_modelled = job.any_modelled || report->any_modelled;
    if (report->total_attributable_joules) {
      attributable += *report->total_attributable_joules;
    } else {
      all_attributable = false;
    }
    for (const auto& w : report->warnings) {
      job.warnings.push_back(fmt::format("node {}: {}", node.node_id, w));
    }
  }
  if (timed && all_attributable) job.total_attributable_joules = attributable;
  job.mean_watts = job.duration_s > 0 ? job.total_joules / job.duration_s : 0;
  return job;
}

CpuEnergy CpuDomainEnergy(const sampling::EnergyReport& report) {
  auto is_package = [](energy::Component c) {
    return c == energy::Component::kCpuPackage || c == energy::Component::kCpu;
  };
  const bool any_package = std::any_of(
      report.domains.begin(), report.domains.end(),
      [&](const auto& d) { return !d.excluded_from_total && is_package(d.domain.component); });
  CpuEnergy cpu;
  for (const auto& d : report.domains) {
    if (d.excluded_from_total) continue;  // lost: its energy covers part of the window only
    const auto c = d.domain.component;
    const bool take = any_package
                          ? is_package(c)
                          : (c == energy::Component::kCpuCores || c == energy::Component::kUncore);
    if (!take) continue;
    cpu.joules += d.joules;
    cpu.domains += (cpu.domains.empty() ? "" : " + ") + d.domain.name;
    cpu.modelled = cpu.modelled || d.domain.provenance.kind == energy::ProvenanceKind::kModelled;
  }
  return cpu;
}

void AttributeNodeCpu(run::NodeResult& node) {
  node.cpu_joules.reset();
  node.cpu_domains.clear();
  node.attribution.clear();
  for (auto& rank : node.ranks) {
    rank.cpu_share.reset();
    rank.cpu_joules.reset();
  }
  const sampling::EnergyReport* measurement = node.FindEnergy("measurement");
  if (measurement == nullptr) return;
  const CpuEnergy cpu = CpuDomainEnergy(*measurement);
  if (cpu.domains.empty()) return;
  node.cpu_joules = cpu.joules;
  node.cpu_domains = cpu.domains;
  node.attribution =
      fmt::format("modelled: CPU-time share x ({}{}), the per-process model of Scaphandre",
                  cpu.domains, cpu.modelled ? ", itself modelled" : "");
  if (!node.machine_busy_cpu_s || !(*node.machine_busy_cpu_s > 0)) return;
  for (auto& rank : node.ranks) {
    if (rank.status == "lost") continue;
    const double share = std::clamp(rank.cpu_s / *node.machine_busy_cpu_s, 0.0, 1.0);
    rank.cpu_share = share;
    rank.cpu_joules = cpu.joules * share;
  }
}

}  // namespace joulebench::cluster
