#include <gtest/gtest.h>

#include "joulebench/energy/source.h"
#include "support/fake_powercap.h"
#include "support/temp_dir.h"

namespace joulebench::energy {
namespace {

using joulebench::testing::FakePowercap;
using joulebench::testing::TempDir;

const ProbeResult& Named(const std::vector<ProbeResult>& results, const std::string& name) {
  for (const auto& r : results) {
    if (r.source_name == name) return r;
  }
  throw std::runtime_error("no probe result for " + name);
}

SourceOptions EmptyRoots(const TempDir& dir) {
  SourceOptions o;
  o.sysfs_root = dir.path() / "sys";
  o.procfs_root = dir.path() / "proc";
  o.nvml_library = (dir.path() / "no-libnvidia-ml.so").string();
  std::filesystem::create_directories(o.sysfs_root);
  std::filesystem::create_directories(o.procfs_root);
  return o;
}

TEST(Discovery, TriesEverySourceInOrderWhenNothingIsThere) {
  TempDir dir;
  const auto results = ProbeAll(EmptyRoots(dir));
  std::vector<std::string> names;
  for (const auto& r : results) names.push_back(r.source_name);
  EXPECT_EQ(names, (std::vector<std::string>{"powercap", "perf_event", "nvml", "neuron", "redfish",
                                             "ipmi", "model"}));
  EXPECT_EQ(results[0].status, ProbeStatus::kAbsent);
  EXPECT_EQ(results[1].status, ProbeStatus::kAbsent);
}

TEST(Discovery, PerfEventIsSkippedWhenPowercapReadsTheSameCounters) {
  TempDir dir;
  const SourceOptions o = EmptyRoots(dir);
  FakePowercap fake(o.sysfs_root);
  fake.AddZone("intel-rapl:0", "package-0", 262143328850);
  const auto results = ProbeAll(o);
  EXPECT_EQ(Named(results, "powercap").status, ProbeStatus::kAvailable);
  EXPECT_EQ(Named(results, "perf_event").status, ProbeStatus::kSkipped);
  EXPECT_NE(Named(results, "perf_event").reason.find("powercap"), std::string::npos);
}

TEST(Discovery, DisabledSourceIsSkippedAndNotUsed) {
  TempDir dir;
  SourceOptions o = EmptyRoots(dir);
  FakePowercap fake(o.sysfs_root);
  fake.AddZone("intel-rapl:0", "package-0", 262143328850);
  o.disabled = {"powercap"};
  const auto results = ProbeAll(o);
  EXPECT_EQ(Named(results, "powercap").status, ProbeStatus::kSkipped);
  EXPECT_EQ(Named(results, "powercap").source, nullptr);
  // With powercap disabled, perf_event is tried (and absent in this tree).
  EXPECT_EQ(Named(results, "perf_event").status, ProbeStatus::kAbsent);
}

}  // namespace
}  // namespace joulebench::energy
