#include "energy/powercap_source.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "support/fake_powercap.h"
#include "support/temp_dir.h"

namespace joulebench::energy {
namespace {

using joulebench::testing::FakePowercap;
using joulebench::testing::TempDir;

constexpr std::uint64_t kRange = 262143328850;

const DomainInfo* Find(const Source& source, const std::string& name) {
  for (const auto& d : source.domains()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

SourceOptions Options(const TempDir& dir) {
  SourceOptions o;
  o.sysfs_root = dir.path();
  return o;
}

// Two sockets as a Xeon server shows them: package with core and dram subzones.
void AddServerTree(FakePowercap& fake) {
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:0:0", "core", kRange);
  fake.AddZone("intel-rapl:0:1", "uncore", kRange);
  fake.AddZone("intel-rapl:0:2", "dram", 65712999613);
  fake.AddZone("intel-rapl:1", "package-1", kRange);
  fake.AddZone("intel-rapl:1:0", "dram", 65712999613);
}

TEST(ParsePowercapZoneId, ReadsTheFamilyAndThePath) {
  const auto zone = ParsePowercapZoneId("intel-rapl:0:1");
  ASSERT_TRUE(zone.has_value());
  EXPECT_EQ(zone->family, "intel-rapl");
  EXPECT_EQ(zone->path, (std::vector<int>{0, 1}));
  EXPECT_EQ(ParsePowercapZoneId("intel-rapl-mmio:0")->family, "intel-rapl-mmio");
  for (const char* other : {"intel-rapl", "intel-rapl:", "intel-rapl:0:", "intel-rapl:-1",
                            "intel-rapl:a", "intel-raplx:0", "amd-rapl:0", "intel-rapl:0 "}) {
    EXPECT_FALSE(ParsePowercapZoneId(other).has_value()) << other;
  }
}

TEST(ParsePowercapZoneId, AnIndexTooLargeForAnIntIsNotAZone) {
  // std::stoi threw std::out_of_range here, out of the probe: `probe` failed with an internal
  // error on a sysfs directory named intel-rapl:99999999999.
  EXPECT_FALSE(ParsePowercapZoneId("intel-rapl:99999999999").has_value());
  EXPECT_FALSE(ParsePowercapZoneId("intel-rapl:0:2147483648").has_value());
  EXPECT_EQ(ParsePowercapZoneId("intel-rapl:2147483647")->path, (std::vector<int>{2147483647}));
}

TEST(PowercapSource, FindsEveryPackageAndSubzoneWithNamesFromZoneNames) {
  TempDir dir;
  FakePowercap fake(dir.path());
  AddServerTree(fake);
  const ProbeResult r = ProbePowercap(Options(dir));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << r.reason;
  std::vector<std::string> names;
  for (const auto& d : r.source->domains()) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"rapl/package-0", "rapl/package-0/core",
                                             "rapl/package-0/uncore", "rapl/package-0/dram",
                                             "rapl/package-1", "rapl/package-1/dram"}));
  EXPECT_EQ(Find(*r.source, "rapl/package-0/core")->component, Component::kCpuCores);
  EXPECT_EQ(Find(*r.source, "rapl/package-0/uncore")->component, Component::kUncore);
  EXPECT_EQ(Find(*r.source, "rapl/package-1/dram")->component, Component::kDram);
  EXPECT_EQ(Find(*r.source, "rapl/package-1")->provenance.by, "powercap RAPL intel-rapl:1");
}

TEST(PowercapSource, CoreIsInsideItsPackageButDramIsNot) {
  TempDir dir;
  FakePowercap fake(dir.path());
  AddServerTree(fake);
  const ProbeResult r = ProbePowercap(Options(dir));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable);
  EXPECT_EQ(Find(*r.source, "rapl/package-0/core")->parent, "rapl/package-0");
  EXPECT_EQ(Find(*r.source, "rapl/package-0/uncore")->parent, "rapl/package-0");
  EXPECT_EQ(Find(*r.source, "rapl/package-0/dram")->parent, "");
  EXPECT_EQ(Find(*r.source, "rapl/package-0")->parent, "");
}

TEST(PowercapSource, PsysContainsThePackagesAndMemory) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:0:0", "core", kRange);
  fake.AddZone("intel-rapl:0:1", "dram", kRange);
  fake.AddZone("intel-rapl:1", "psys", kRange);
  const ProbeResult r = ProbePowercap(Options(dir));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable);
  EXPECT_EQ(Find(*r.source, "rapl/psys")->component, Component::kPlatform);
  EXPECT_EQ(Find(*r.source, "rapl/psys")->parent, "");
  EXPECT_EQ(Find(*r.source, "rapl/package-0")->parent, "rapl/psys");
  EXPECT_EQ(Find(*r.source, "rapl/package-0/dram")->parent, "rapl/psys");
  EXPECT_EQ(Find(*r.source, "rapl/package-0/core")->parent, "rapl/package-0");
}

TEST(PowercapSource, MmioPackageIsTheSameCounterAsTheMsrPackage) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl-mmio:0", "package-0", kRange);
  const ProbeResult r = ProbePowercap(Options(dir));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable);
  const DomainInfo* mmio = Find(*r.source, "rapl-mmio/package-0");
  ASSERT_NE(mmio, nullptr);
  EXPECT_EQ(mmio->parent, "rapl/package-0");
  EXPECT_EQ(mmio->provenance.by, "powercap RAPL intel-rapl-mmio:0 (MMIO)");
}

TEST(PowercapSource, CounterRangeAndMaxPowerComeFromTheZoneFiles) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", 262143999999);
  fake.SetMaxPower("intel-rapl:0", 0, 125000000);
  fake.SetMaxPower("intel-rapl:0", 1, 0);
  const ProbeResult r = ProbePowercap(Options(dir));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable);
  const DomainInfo* d = Find(*r.source, "rapl/package-0");
  EXPECT_DOUBLE_EQ(d->counter_range_joules, 262144.0);
  EXPECT_DOUBLE_EQ(d->max_watts, 125.0);
  EXPECT_EQ(d->signal, SignalKind::kCounter);
}

TEST(PowercapSource, ReadsEnergyUjAsJoules) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 1234567);
  fake.AddZone("intel-rapl:0:0", "core", kRange, 89);
  ProbeResult r = ProbePowercap(Options(dir));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable);
  std::array<Reading, 2> out{};
  r.source->Read(out);
  EXPECT_TRUE(out[0].ok);
  EXPECT_DOUBLE_EQ(out[0].value, 1.234567);
  EXPECT_DOUBLE_EQ(out[1].value, 89e-6);
  fake.SetEnergy("intel-rapl:0", 99000000);
  r.source->Read(out);
  EXPECT_DOUBLE_EQ(out[0].value, 99.0);
}

TEST(PowercapSource, AbsentWithoutPowercapDirectory) {
  TempDir dir;
  const ProbeResult r = ProbePowercap(Options(dir));
  EXPECT_EQ(r.status, ProbeStatus::kAbsent);
  EXPECT_NE(r.reason.find("class/powercap"), std::string::npos);
  EXPECT_FALSE(r.fix.empty());
}

TEST(PowercapSource, AbsentWhenPowercapHasNoRaplZone) {
  TempDir dir;
  FakePowercap fake(dir.path());
  std::filesystem::create_directories(dir.path() / "class/powercap/dtpm");
  const ProbeResult r = ProbePowercap(Options(dir));
  EXPECT_EQ(r.status, ProbeStatus::kAbsent);
  EXPECT_NE(r.reason.find("no intel-rapl zone"), std::string::npos);
  EXPECT_NE(r.fix.find("modprobe intel_rapl_msr"), std::string::npos);
}

TEST(PowercapSource, NonNumericContentsGiveAFailedReadingAndOneWarning) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 5000000);
  fake.AddZone("intel-rapl:1", "package-1", kRange, 7000000);
  ProbeResult r = ProbePowercap(Options(dir));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable);
  fake.SetRawEnergyContents("intel-rapl:0", "12abc\n");
  std::array<Reading, 2> out{};
  r.source->Read(out);
  EXPECT_FALSE(out[0].ok);
  EXPECT_TRUE(out[1].ok);
  EXPECT_DOUBLE_EQ(out[1].value, 7.0);
  r.source->Read(out);
  const auto warnings = r.source->TakeWarnings();
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_NE(warnings[0].find("rapl/package-0"), std::string::npos);
  EXPECT_NE(warnings[0].find("does not hold a number"), std::string::npos);
  fake.SetEnergy("intel-rapl:0", 6000000);
  r.source->Read(out);
  EXPECT_TRUE(out[0].ok);
  EXPECT_DOUBLE_EQ(out[0].value, 6.0);
}

TEST(PowercapSource, EmptyContentsGiveAFailedReading) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 5000000);
  ProbeResult r = ProbePowercap(Options(dir));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable);
  fake.SetRawEnergyContents("intel-rapl:0", "");
  std::array<Reading, 1> out{};
  r.source->Read(out);
  EXPECT_FALSE(out[0].ok);
  EXPECT_EQ(r.source->TakeWarnings().size(), 1U);
}

TEST(PowercapSource, ZoneThatDisappearsGivesAWarningAndNoMoreReadings) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 5000000);
  fake.AddZone("intel-rapl:1", "package-1", kRange, 7000000);
  ProbeResult r = ProbePowercap(Options(dir));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable);
  std::array<Reading, 2> out{};
  r.source->Read(out);
  fake.RemoveZone("intel-rapl:1");
  fake.AddEnergy("intel-rapl:0", 1.0);
  r.source->Read(out);
  EXPECT_TRUE(out[0].ok);
  EXPECT_DOUBLE_EQ(out[0].value, 6.0);
  EXPECT_FALSE(out[1].ok);
  const auto warnings = r.source->TakeWarnings();
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_NE(warnings[0].find("rapl/package-1"), std::string::npos);
  EXPECT_NE(warnings[0].find("disappeared"), std::string::npos);
}

// Root reads any file whatever its mode, so the denied case runs in a child process that
// drops to nobody (uid 65534) when the tests run as root.
ProbeResult ProbeAsUnprivileged(const SourceOptions& options, std::string& fix) {
  if (geteuid() != 0) {
    ProbeResult r = ProbePowercap(options);
    fix = r.fix;
    return r;
  }
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    const ProbeResult r = ProbePowercap(options);
    const std::string message = std::to_string(static_cast<int>(r.status)) + "\n" + r.fix;
    if (write(fds[1], message.data(), message.size()) < 0) _exit(4);
    _exit(0);
  }
  close(fds[1]);
  std::string message;
  char buf[4096];
  ssize_t n = 0;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) message.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  ProbeResult r;
  const auto newline = message.find('\n');
  if (newline == std::string::npos) return r;
  r.status = static_cast<ProbeStatus>(std::stoi(message.substr(0, newline)));
  fix = message.substr(newline + 1);
  return r;
}

TEST(PowercapSource, UnreadableEnergyIsPermissionDeniedWithTheGroupRecipe) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 5000000);
  fake.AddZone("intel-rapl:0:0", "core", kRange, 5000000);
  fake.MakeUnreadable("intel-rapl:0");
  fake.MakeUnreadable("intel-rapl:0:0");
  std::string fix;
  const ProbeResult r = ProbeAsUnprivileged(Options(dir), fix);
  EXPECT_EQ(r.status, ProbeStatus::kPermissionDenied);
  EXPECT_NE(fix.find("chgrp powercap " + (dir.path() / "class/powercap").string() +
                     "/intel-rapl*/energy_uj"),
            std::string::npos)
      << fix;
  EXPECT_NE(fix.find("docs/permissions.md"), std::string::npos);
}

TEST(PowercapSource, ReadableZonesAreUsedWhenOthersAreDenied) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 5000000);
  fake.AddZone("intel-rapl:0:0", "core", kRange, 5000000);
  fake.MakeUnreadable("intel-rapl:0:0");
  std::string fix;
  const ProbeResult r = ProbeAsUnprivileged(Options(dir), fix);
  EXPECT_EQ(r.status, ProbeStatus::kAvailable);
  EXPECT_NE(fix.find("chgrp powercap"), std::string::npos);
}

}  // namespace
}  // namespace joulebench::energy
