#include "energy/perf_event_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>

#include "support/temp_dir.h"

namespace joulebench::energy {
namespace {

using joulebench::testing::TempDir;

// The power PMU as Linux shows it on a two-socket Intel server.
void WritePowerPmu(const TempDir& dir, const std::string& type = "12") {
  const std::string base = "bus/event_source/devices/power/";
  dir.Write(base + "type", type + "\n");
  dir.Write(base + "cpumask", "0,28\n");
  dir.Write(base + "events/energy-pkg", "event=0x02\n");
  dir.Write(base + "events/energy-pkg.scale", "2.3283064365386962890625e-10\n");
  dir.Write(base + "events/energy-pkg.unit", "Joules\n");
  dir.Write(base + "events/energy-ram", "event=0x03\n");
  dir.Write(base + "events/energy-ram.scale", "6.103515625e-05\n");
  dir.Write(base + "events/energy-ram.unit", "Joules\n");
}

TEST(PerfEventSource, ParsesTypeCpusEventCodesScaleAndUnit) {
  TempDir dir;
  WritePowerPmu(dir);
  const auto pmu = ParsePowerPmu(dir.path());
  ASSERT_TRUE(pmu.has_value());
  EXPECT_EQ(pmu->type, 12U);
  EXPECT_EQ(pmu->cpus, (std::vector<int>{0, 28}));
  ASSERT_EQ(pmu->events.size(), 2U);
  EXPECT_EQ(pmu->events[0].name, "energy-pkg");
  EXPECT_EQ(pmu->events[0].config, 0x02U);
  EXPECT_DOUBLE_EQ(pmu->events[0].scale, 2.3283064365386962890625e-10);
  EXPECT_EQ(pmu->events[1].name, "energy-ram");
  EXPECT_EQ(pmu->events[1].config, 0x03U);
  EXPECT_DOUBLE_EQ(pmu->events[1].scale, 6.103515625e-05);
  EXPECT_TRUE(pmu->problems.empty());
}

TEST(PerfEventSource, SkipsEventsWithABadScaleOrAnotherUnit) {
  TempDir dir;
  WritePowerPmu(dir);
  dir.Write("bus/event_source/devices/power/events/energy-pkg.scale", "abc\n");
  dir.Write("bus/event_source/devices/power/events/energy-ram.unit", "Watts\n");
  const auto pmu = ParsePowerPmu(dir.path());
  ASSERT_TRUE(pmu.has_value());
  EXPECT_TRUE(pmu->events.empty());
  ASSERT_EQ(pmu->problems.size(), 2U);
  EXPECT_NE(pmu->problems[0].find("energy-pkg"), std::string::npos);
  EXPECT_NE(pmu->problems[1].find("Watts"), std::string::npos);
}

TEST(PerfEventSource, ParsesCpuListsWithRanges) {
  EXPECT_EQ(ParseCpuList("0-2,8\n"), (std::vector<int>{0, 1, 2, 8}));
  EXPECT_EQ(ParseCpuList("5"), (std::vector<int>{5}));
  EXPECT_TRUE(ParseCpuList("x").empty());
}

TEST(PerfEventSource, ACpuNumberNoKernelHasMakesTheListInvalid) {
  // Found by fuzzing: "123456789" was CPU 123456789, and "0-2147483647" a loop that pushed two
  // billion CPUs and then overflowed its int.
  EXPECT_TRUE(ParseCpuList("123456789").empty());
  EXPECT_TRUE(ParseCpuList("0-2147483647").empty());
  EXPECT_TRUE(ParseCpuList("0,-1").empty());
  EXPECT_EQ(ParseCpuList("8191").size(), 1u);
  EXPECT_EQ(ParseCpuList("0-8191").size(), 8192u);
  EXPECT_TRUE(ParseCpuList("0-8191,0-8191").empty());
}

TEST(PerfEventSource, AbsentWithoutPowerPmu) {
  TempDir dir;
  SourceOptions o;
  o.sysfs_root = dir.path();
  const ProbeResult r = ProbePerfEvent(o);
  EXPECT_EQ(r.status, ProbeStatus::kAbsent);
  EXPECT_NE(r.reason.find("no power PMU"), std::string::npos);
}

TEST(PerfEventSource, PmuTypeTheKernelDoesNotKnowIsReportedNotUsed) {
  TempDir dir;
  WritePowerPmu(dir, "987654");
  SourceOptions o;
  o.sysfs_root = dir.path();
  const ProbeResult r = ProbePerfEvent(o);
  EXPECT_NE(r.status, ProbeStatus::kAvailable);
  EXPECT_FALSE(r.reason.empty());
  EXPECT_EQ(r.source, nullptr);
}

// Each counter is a file holding two 64-bit values: successive read()s of the fd return them
// in turn, as two reads of a perf counter would.
int CounterFile(const TempDir& dir, const std::string& name, std::uint64_t first,
                std::uint64_t second) {
  const std::array<std::uint64_t, 2> values{first, second};
  dir.Write(name, std::string(reinterpret_cast<const char*>(values.data()), sizeof values));
  return open((dir.path() / name).c_str(), O_RDONLY | O_CLOEXEC);
}

DomainInfo Domain(const std::string& name, const std::string& parent = "") {
  DomainInfo d;
  d.name = name;
  d.parent = parent;
  return d;
}

TEST(PerfEventSource, CountersThatDoNotAdvanceAreLeftOutWithAReason) {
  TempDir dir;
  std::vector<PerfEventSource::Counter> counters{
      {CounterFile(dir, "psys", 500, 500), 1e-6},   // a VM's PMU: never moves
      {CounterFile(dir, "pkg", 1000, 1700), 1e-6},  // counts
      {CounterFile(dir, "dram", 42, 42), 1e-6}};    // never moves
  std::vector<DomainInfo> domains{Domain("perf/psys"), Domain("perf/package-0", "perf/psys"),
                                  Domain("perf/package-0/dram", "perf/psys")};
  std::vector<std::string> details;
  DropStuckCounters(counters, domains, details, std::chrono::milliseconds(1));
  ASSERT_EQ(domains.size(), 1U);
  ASSERT_EQ(counters.size(), 1U);
  EXPECT_EQ(domains[0].name, "perf/package-0");
  EXPECT_EQ(domains[0].parent, "");  // psys, its parent, was left out
  ASSERT_EQ(details.size(), 2U);
  EXPECT_EQ(details[0], "perf/psys: left out, its counter did not advance in 1 ms");
  EXPECT_EQ(details[1], "perf/package-0/dram: left out, its counter did not advance in 1 ms");
  close(counters[0].fd);
}

// The real power PMU, when this machine has one and lets us open it.
TEST(PerfEventSource, LiveCountersIncreaseAtAPlausiblePower) {
  const ProbeResult r = ProbePerfEvent(SourceOptions{});
  if (r.status != ProbeStatus::kAvailable) {
    GTEST_SKIP() << "perf_event power PMU not usable here: " << ProbeStatusName(r.status) << ": "
                 << r.reason;
  }
  const auto n = r.source->domains().size();
  std::vector<Reading> a(n);
  std::vector<Reading> b(n);
  r.source->Read(a);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  r.source->Read(b);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(a[i].ok && b[i].ok) << r.source->domains()[i].name;
    const double watts = (b[i].value - a[i].value) / 0.2;
    // The probe leaves out counters that do not advance, so every kept one counted something.
    EXPECT_GT(watts, 0) << r.source->domains()[i].name;
    EXPECT_LT(watts, 5000) << r.source->domains()[i].name;
  }
}

}  // namespace
}  // namespace joulebench::energy
