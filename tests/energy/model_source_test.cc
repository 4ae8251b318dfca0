// The utilisation model against fake /proc trees (stat, cpuinfo, meminfo, net/dev) in temp
// dirs, advanced between reads; expected watts and joules are computed by hand in each test.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"
#include "joulebench/error.h"
#include "support/temp_dir.h"

namespace joulebench::energy {
namespace {

using testing::TempDir;

constexpr const char* kCascadeLake =
    "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
    "model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\nstepping\t: 7\n\n"
    "processor\t: 1\nvendor_id\t: GenuineIntel\n"
    "model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\n";

// A /proc tree with `cpus` CPUs, 16 GiB of memory, lo and eth0.
class FakeProc {
 public:
  explicit FakeProc(int cpus = 4) : cpus_(cpus) {
    SetCpuTimes(100, 100, 800);
    dir_.Write("proc/cpuinfo", kCascadeLake);
    dir_.Write("proc/meminfo", "MemTotal:       16777216 kB\nMemFree:         1000000 kB\n");
    SetNetwork({{"lo", 0, 0}, {"eth0", 1000, 2000}});
  }
  // Cumulative ticks of the aggregate cpu line: user, system, idle.
  void SetCpuTimes(std::uint64_t user, std::uint64_t system, std::uint64_t idle) {
    std::string text = "cpu  " + std::to_string(user) + " 0 " + std::to_string(system) + " " +
                       std::to_string(idle) + " 0 0 0 0 0 0\n";
    for (int i = 0; i < cpus_; ++i) text += "cpu" + std::to_string(i) + " 1 0 1 8 0 0 0 0 0 0\n";
    text += "intr 12345 0 0\nctxt 999\n";
    dir_.Write("proc/stat", text);
  }
  struct Interface {
    std::string name;
    std::uint64_t rx_bytes;
    std::uint64_t tx_bytes;
  };
  void SetNetwork(const std::vector<Interface>& interfaces) {
    std::string text =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
        "errs drop fifo colls carrier compressed\n";
    for (const auto& i : interfaces) {
      text += "  " + i.name + ": " + std::to_string(i.rx_bytes) + " 10 0 0 0 0 0 0 " +
              std::to_string(i.tx_bytes) + " 20 0 0 0 0 0 0\n";
    }
    dir_.Write("proc/net/dev", text);
  }
  void Write(const std::string& relative, const std::string& contents) {
    dir_.Write(relative, contents);
  }
  SourceOptions Options() const {
    SourceOptions options;
    options.procfs_root = dir_.path() / "proc";
    options.sysfs_root = dir_.path() / "sys";
    return options;
  }

 private:
  TempDir dir_;
  int cpus_;
};

std::vector<Reading> ReadAll(Source& source) {
  std::vector<Reading> out(source.domains().size());
  source.Read(out);
  return out;
}

int IndexOf(const Source& source, const std::string& name) {
  const auto& domains = source.domains();
  for (std::size_t i = 0; i < domains.size(); ++i) {
    if (domains[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

TEST(ModelSource, CpuWattsFollowUtilisationBetweenReads) {
  FakeProc proc(4);
  auto result = ProbeModel(proc.Options(), {});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const int cpu = IndexOf(*result.source, "model/cpu");
  ASSERT_GE(cpu, 0);
  // +300 busy ticks, +100 idle: u = 0.75; 4 x (0.64 + 0.75 x (3.97 - 0.64)) = 12.55 W.
  proc.SetCpuTimes(300, 200, 900);
  auto r = ReadAll(*result.source);
  EXPECT_TRUE(r[cpu].ok);
  EXPECT_NEAR(r[cpu].value, 12.55, 1e-9);
  // Idle only: u = 0 -> 4 x 0.64 W.
  proc.SetCpuTimes(300, 200, 1900);
  r = ReadAll(*result.source);
  EXPECT_NEAR(r[cpu].value, 2.56, 1e-9);
  // Fully busy: 4 x 3.97 W.
  proc.SetCpuTimes(1300, 200, 1900);
  r = ReadAll(*result.source);
  EXPECT_NEAR(r[cpu].value, 15.88, 1e-9);
}

TEST(ModelSource, CpuWattsStayWhenNoTickPassedBetweenReads) {
  FakeProc proc(2);
  auto result = ProbeModel(proc.Options(), {});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const int cpu = IndexOf(*result.source, "model/cpu");
  proc.SetCpuTimes(150, 150, 800);  // +100 busy, +0 idle: u = 1
  auto r = ReadAll(*result.source);
  EXPECT_NEAR(r[cpu].value, 2 * 3.97, 1e-9);
  r = ReadAll(*result.source);  // the file did not change
  EXPECT_TRUE(r[cpu].ok);
  EXPECT_NEAR(r[cpu].value, 2 * 3.97, 1e-9);
}

TEST(ModelSource, ProvenanceNamesCoefficientsAndDetectedFamily) {
  FakeProc proc;
  auto result = ProbeModel(proc.Options(), {});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const auto& d = result.source->domains()[IndexOf(*result.source, "model/cpu")];
  EXPECT_EQ(d.provenance.kind, ProvenanceKind::kModelled);
  EXPECT_EQ(d.provenance.Describe(),
            "modelled: Cloud Carbon Footprint coefficients (Cascade Lake, 0.64-3.97 W/vCPU)");
  EXPECT_EQ(d.component, Component::kCpu);
  EXPECT_EQ(d.signal, SignalKind::kGauge);
  EXPECT_NEAR(d.max_watts, 4 * 3.97, 1e-9);
  ASSERT_FALSE(result.details.empty());
  EXPECT_NE(result.details[0].find("8259CL"), std::string::npos) << result.details[0];
}

TEST(ModelSource, CpuFamilyOptionOverridesDetection) {
  FakeProc proc(1);
  auto options = proc.Options();
  options.cpu_family = "amd epyc 2nd gen";
  auto result = ProbeModel(options, {});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const int cpu = IndexOf(*result.source, "model/cpu");
  EXPECT_NE(result.source->domains()[cpu].provenance.by.find("AMD EPYC 2nd Gen, 0.47-1.69"),
            std::string::npos);
  proc.SetCpuTimes(200, 100, 900);  // +100 busy, +100 idle: u = 0.5 -> 0.47 + 0.5 x 1.22
  auto r = ReadAll(*result.source);
  EXPECT_NEAR(r[cpu].value, 1.08, 1e-9);
}

TEST(ModelSource, UnknownCpuFamilyOptionIsAnInputError) {
  FakeProc proc;
  auto options = proc.Options();
  options.cpu_family = "Pentium 4";
  try {
    ProbeModel(options, {});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("Pentium 4"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("Cascade Lake"), std::string::npos);
  }
}

TEST(ModelSource, UnrecognisedCpuUsesTheAverageAndSaysHowToSetIt) {
  FakeProc proc(2);
  proc.Write("proc/cpuinfo",
             "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\n"
             "model\t\t: 2\nmodel name\t: AMD EPYC\n");
  auto result = ProbeModel(proc.Options(), {});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const auto& d = result.source->domains()[IndexOf(*result.source, "model/cpu")];
  EXPECT_NE(d.provenance.by.find("unknown (average), 0.74-3.5 W/vCPU"), std::string::npos);
  bool hint = false;
  for (const auto& line : result.details) hint |= line.find("--cpu-family") != std::string::npos;
  EXPECT_TRUE(hint);
}

TEST(ModelSource, MemoryWattsAreMemTotalTimesWattsPerGb) {
  FakeProc proc;
  auto result = ProbeModel(proc.Options(), {});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const int memory = IndexOf(*result.source, "model/memory");
  ASSERT_GE(memory, 0);
  auto r = ReadAll(*result.source);
  // 16777216 kB = 16 GB; 16 x 0.392 W.
  EXPECT_TRUE(r[memory].ok);
  EXPECT_NEAR(r[memory].value, 6.272, 1e-9);
  EXPECT_EQ(result.source->domains()[memory].provenance.Describe(),
            "modelled: Cloud Carbon Footprint coefficients (0.392 W/GB x 16.0 GB)");
}

TEST(ModelSource, NetworkJoulesCountBytesMovedOnPhysicalInterfacesOnly) {
  FakeProc proc;
  proc.SetNetwork({{"lo", 0, 0}, {"eth0", 1000, 2000}, {"veth1", 0, 0}});
  proc.Write("sys/devices/virtual/net/veth1/type", "1\n");
  auto result = ProbeModel(proc.Options(), {});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const int net = IndexOf(*result.source, "model/network");
  ASSERT_GE(net, 0);
  EXPECT_EQ(result.source->domains()[net].signal, SignalKind::kCounter);
  auto r = ReadAll(*result.source);
  EXPECT_TRUE(r[net].ok);
  EXPECT_DOUBLE_EQ(r[net].value, 0.0);  // nothing moved since the probe
  // eth0 moves 1 GB in and 0.5 GB out; lo and veth1 move 9 GB that must not count.
  proc.SetNetwork({{"lo", 4'000'000'000, 4'000'000'000},
                   {"eth0", 1'000'001'000, 500'002'000},
                   {"veth1", 500'000'000, 500'000'000}});
  r = ReadAll(*result.source);
  // 1.5 GB x 0.001 kWh/GB x 3.6e6 J/kWh = 5400 J.
  EXPECT_NEAR(r[net].value, 5400.0, 1e-6);
  proc.SetNetwork({{"lo", 4'000'000'000, 4'000'000'000},
                   {"eth0", 1'500'001'000, 500'002'000},
                   {"veth1", 500'000'000, 500'000'000}});
  r = ReadAll(*result.source);
  EXPECT_NEAR(r[net].value, 7200.0, 1e-6);
}

TEST(ModelSource, NetworkCounterOfARecreatedInterfaceCountsFromZero) {
  FakeProc proc;
  auto result = ProbeModel(proc.Options(), {});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const int net = IndexOf(*result.source, "model/network");
  proc.SetNetwork({{"lo", 0, 0}, {"eth0", 100'001'000, 2000}});
  auto r = ReadAll(*result.source);
  EXPECT_NEAR(r[net].value, 360.0, 1e-6);  // 0.1 GB
  // eth0 went away and came back: its counters restart below the last value.
  proc.SetNetwork({{"lo", 0, 0}, {"eth0", 50'000'000, 50'000'000}});
  r = ReadAll(*result.source);
  EXPECT_NEAR(r[net].value, 720.0, 1e-6);  // +0.1 GB
}

TEST(ModelSource, ModelsOnlyComponentsNoSensorMeasures) {
  FakeProc proc;
  DomainInfo package;
  package.name = "rapl/package-0";
  package.component = Component::kCpuPackage;
  DomainInfo dram;
  dram.name = "rapl/package-0/dram";
  dram.component = Component::kDram;
  auto result = ProbeModel(proc.Options(), {package, dram});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  ASSERT_EQ(result.source->domains().size(), 1u);
  EXPECT_EQ(result.source->domains()[0].name, "model/network");
  EXPECT_EQ(result.details[0], "cpu: not modelled, measured by rapl/package-0");

  auto only_cpu = ProbeModel(proc.Options(), {package});
  ASSERT_EQ(only_cpu.status, ProbeStatus::kAvailable);
  EXPECT_EQ(IndexOf(*only_cpu.source, "model/cpu"), -1);
  EXPECT_GE(IndexOf(*only_cpu.source, "model/memory"), 0);
}

TEST(ModelSource, WholePlatformReadingLeavesOnlyTheNetworkToModel) {
  FakeProc proc;
  DomainInfo psys;
  psys.name = "rapl/psys";
  psys.component = Component::kPlatform;
  auto result = ProbeModel(proc.Options(), {psys});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  ASSERT_EQ(result.source->domains().size(), 1u);
  EXPECT_EQ(result.source->domains()[0].name, "model/network");
  EXPECT_EQ(result.details[0], "cpu: not modelled, measured by rapl/psys (whole platform)");
}

TEST(ModelSource, MissingProcfsIsAnErrorNamingTheFile) {
  TempDir dir;
  SourceOptions options;
  options.procfs_root = dir.path() / "no-such-proc";
  auto result = ProbeModel(options, {});
  EXPECT_EQ(result.status, ProbeStatus::kError);
  EXPECT_EQ(result.source, nullptr);
  EXPECT_NE(result.reason.find("no-such-proc/stat"), std::string::npos) << result.reason;
  EXPECT_NE(result.fix.find("--procfs-root"), std::string::npos);
}

std::size_t OpenFileCount() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

TEST(ModelSource, FailedProbeLeavesNoFileOpen) {
  FakeProc proc;
  std::filesystem::remove(proc.Options().procfs_root / "meminfo");
  const std::size_t before = OpenFileCount();
  auto result = ProbeModel(proc.Options(), {});
  EXPECT_EQ(result.status, ProbeStatus::kError);
  EXPECT_NE(result.reason.find("meminfo"), std::string::npos) << result.reason;
  EXPECT_EQ(OpenFileCount(), before);
}

TEST(ModelSource, UnreadableStatAfterProbeGivesNotOkAndOneWarning) {
  FakeProc proc;
  auto result = ProbeModel(proc.Options(), {});
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const int cpu = IndexOf(*result.source, "model/cpu");
  proc.Write("proc/stat", "garbage\n");
  auto r = ReadAll(*result.source);
  EXPECT_FALSE(r[cpu].ok);
  r = ReadAll(*result.source);
  auto warnings = result.source->TakeWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("model/cpu"), std::string::npos);
  EXPECT_TRUE(result.source->TakeWarnings().empty());
}

}  // namespace
}  // namespace joulebench::energy
