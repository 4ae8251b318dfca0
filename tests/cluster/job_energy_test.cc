#include "joulebench/cluster/job_energy.h"

#include <gtest/gtest.h>

namespace joulebench::cluster {
namespace {

sampling::DomainEnergy Domain(std::string name, energy::Component component, double joules,
                              bool in_total, std::string parent = "") {
  sampling::DomainEnergy d;
  d.domain.name = std::move(name);
  d.domain.component = component;
  d.domain.parent = std::move(parent);
  d.joules = joules;
  d.in_total = in_total;
  return d;
}

run::NodeResult Node(std::string id, double package_j, double dram_j,
                     std::optional<double> attributable = std::nullopt) {
  run::NodeResult n;
  n.node_id = std::move(id);
  sampling::EnergyReport r;
  r.name = "measurement";
  r.begin_s = 1;
  r.end_s = 11;
  r.duration_s = 10;
  r.domains.push_back(Domain("rapl/package-0", energy::Component::kCpuPackage, package_j, true));
  r.domains.push_back(
      Domain("rapl/package-0/dram", energy::Component::kDram, dram_j, true, "rapl/package-0"));
  r.total_joules = package_j + dram_j;
  r.total_domains = {"rapl/package-0", "rapl/package-0/dram"};
  r.total_attributable_joules = attributable;
  r.mean_watts = r.total_joules / 10;
  n.energy.push_back(r);
  return n;
}

TEST(SumNodeEnergy, TheJobTotalIsTheSumOfTheNodesTotals) {
  const auto job = SumNodeEnergy("measurement", {Node("a", 40, 10), Node("b", 25, 5)});
  EXPECT_DOUBLE_EQ(job.total_joules, 80);
  EXPECT_DOUBLE_EQ(job.mean_watts, 8);
  EXPECT_DOUBLE_EQ(job.duration_s, 10);
  ASSERT_EQ(job.domains.size(), 4u);
  EXPECT_EQ(job.domains[0].domain.name, "a/rapl/package-0");
  EXPECT_EQ(job.domains[1].domain.parent, "a/rapl/package-0");
  EXPECT_EQ(job.domains[3].domain.name, "b/rapl/package-0/dram");
  EXPECT_EQ(job.total_domains,
            (std::vector<std::string>{"a/rapl/package-0", "a/rapl/package-0/dram",
                                      "b/rapl/package-0", "b/rapl/package-0/dram"}));
  EXPECT_TRUE(job.warnings.empty());
}

TEST(SumNodeEnergy, DomainsOutsideANodesTotalStayOutsideTheJobs) {
  run::NodeResult a = Node("a", 40, 10);
  a.energy[0].domains.push_back(
      Domain("rapl/package-0/core", energy::Component::kCpuCores, 30, false, "rapl/package-0"));
  const auto job = SumNodeEnergy("measurement", {a});
  EXPECT_DOUBLE_EQ(job.total_joules, 50);
  EXPECT_EQ(job.total_domains.size(), 2u);
  EXPECT_EQ(job.domains.size(), 3u);
}

TEST(SumNodeEnergy, AttributableOnlyWhenEveryNodeHasABaseline) {
  EXPECT_DOUBLE_EQ(*SumNodeEnergy("measurement", {Node("a", 40, 10, 20.0), Node("b", 25, 5, 10.0)})
                        .total_attributable_joules,
                   30);
  EXPECT_FALSE(SumNodeEnergy("measurement", {Node("a", 40, 10, 20.0), Node("b", 25, 5)})
                   .total_attributable_joules.has_value());
}

TEST(SumNodeEnergy, ANodeWithoutTheWindowIsNamedAndLeftOut) {
  run::NodeResult lost;
  lost.node_id = "c";
  const auto job = SumNodeEnergy("measurement", {Node("a", 40, 10), lost});
  EXPECT_DOUBLE_EQ(job.total_joules, 50);
  ASSERT_EQ(job.warnings.size(), 1u);
  EXPECT_NE(job.warnings[0].find("node c reported no 'measurement' window"), std::string::npos);
}

TEST(CpuDomainEnergy, PackagesWinOverTheCoresInsideThem) {
  sampling::EnergyReport r;
  r.domains.push_back(Domain("rapl/package-0", energy::Component::kCpuPackage, 40, true));
  r.domains.push_back(
      Domain("rapl/package-0/core", energy::Component::kCpuCores, 30, false, "rapl/package-0"));
  r.domains.push_back(Domain("rapl/package-1", energy::Component::kCpuPackage, 20, true));
  r.domains.push_back(Domain("nvml/gpu0", energy::Component::kAccelerator, 90, true));
  const CpuEnergy cpu = CpuDomainEnergy(r);
  EXPECT_DOUBLE_EQ(cpu.joules, 60);
  EXPECT_EQ(cpu.domains, "rapl/package-0 + rapl/package-1");
  EXPECT_FALSE(cpu.modelled);
}

TEST(AttributeNodeCpu, EachRankGetsItsCpuTimeShareOfTheNodesCpuEnergy) {
  run::NodeResult node = Node("a", 40, 10);
  node.machine_busy_cpu_s = 8;
  node.ranks = {{.rank = 0, .cpu_s = 2}, {.rank = 1, .cpu_s = 6}, {.rank = 2, .cpu_s = 20}};
  AttributeNodeCpu(node);
  EXPECT_DOUBLE_EQ(*node.cpu_joules, 40);
  EXPECT_EQ(node.cpu_domains, "rapl/package-0");
  EXPECT_NE(node.attribution.find("modelled: CPU-time share x (rapl/package-0)"),
            std::string::npos);
  EXPECT_DOUBLE_EQ(*node.ranks[0].cpu_share, 0.25);
  EXPECT_DOUBLE_EQ(*node.ranks[0].cpu_joules, 10);
  EXPECT_DOUBLE_EQ(*node.ranks[1].cpu_joules, 30);
  // More CPU time than the node's busy time (a clock mismatch) is capped at the whole node.
  EXPECT_DOUBLE_EQ(*node.ranks[2].cpu_share, 1.0);
}

TEST(AttributeNodeCpu, NoShareWithoutTheNodesBusyTime) {
  run::NodeResult node = Node("a", 40, 10);
  node.ranks = {{.rank = 0, .cpu_s = 2}};
  AttributeNodeCpu(node);
  EXPECT_DOUBLE_EQ(*node.cpu_joules, 40);
  EXPECT_FALSE(node.ranks[0].cpu_share.has_value());
  EXPECT_FALSE(node.ranks[0].cpu_joules.has_value());
}

}  // namespace
TEST(SumNodeEnergy, ANodesIncompleteTotalMakesTheJobsALowerBoundWithTheDomainsNamed) {
  run::NodeResult a = Node("a", 40, 10);
  run::NodeResult b = Node("b", 25, 5);
  sampling::DomainEnergy gpu = Domain("nvml/gpu0", energy::Component::kAccelerator, 7, false);
  gpu.excluded_from_total = true;
  gpu.gaps.push_back({.domain = "nvml/gpu0", .begin_s = 5, .end_s = 11, .lost = true});
  b.energy[0].domains.push_back(gpu);
  b.energy[0].excluded_domains = {"nvml/gpu0"};
  b.energy[0].total_complete = false;
  const auto job = SumNodeEnergy("measurement", {a, b});
  EXPECT_FALSE(job.total_complete);
  EXPECT_EQ(job.excluded_domains, (std::vector<std::string>{"b/nvml/gpu0"}));
  EXPECT_DOUBLE_EQ(job.total_joules, 80);
  const auto& lost = job.domains.back();
  EXPECT_EQ(lost.domain.name, "b/nvml/gpu0");
  ASSERT_EQ(lost.gaps.size(), 1u);
  EXPECT_EQ(lost.gaps[0].domain, "b/nvml/gpu0");
  // Both complete: the job's is complete.
  EXPECT_TRUE(SumNodeEnergy("measurement", {a, Node("b", 25, 5)}).total_complete);
}

TEST(SumNodeEnergy, ANodeWithoutTheWindowMakesTheJobsTotalIncomplete) {
  run::NodeResult b = Node("b", 25, 5);
  b.energy[0].name = "baseline";
  EXPECT_FALSE(SumNodeEnergy("measurement", {Node("a", 40, 10), b}).total_complete);
}

TEST(CpuDomainEnergy, ALostPackageIsNotAttributedToTheRanks) {
  sampling::EnergyReport r;
  sampling::DomainEnergy lost = Domain("rapl/package-0", energy::Component::kCpuPackage, 3, false);
  lost.excluded_from_total = true;
  r.domains.push_back(lost);
  r.domains.push_back(Domain("rapl/package-1", energy::Component::kCpuPackage, 20, true));
  const CpuEnergy cpu = CpuDomainEnergy(r);
  EXPECT_DOUBLE_EQ(cpu.joules, 20);
  EXPECT_EQ(cpu.domains, "rapl/package-1");
}

}  // namespace joulebench::cluster
