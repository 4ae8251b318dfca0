#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/fake_powercap.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::testing {
namespace {

constexpr std::uint64_t kRange = 262143328850;

std::vector<std::string> Roots(const TempDir& dir) {
  std::filesystem::create_directories(dir.path() / "sys");
  std::filesystem::create_directories(dir.path() / "proc");
  return {"--sysfs-root", (dir.path() / "sys").string(), "--procfs-root",
          (dir.path() / "proc").string()};
}

std::vector<std::string> Args(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

TEST(ProbeCommand, ListsRaplDomainsOfTheFakeTree) {
  TempDir dir;
  const auto roots = Roots(dir);
  FakePowercap fake(dir.path() / "sys");
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:0:0", "core", kRange);
  const ProcessResult r = RunJoulebench(Args({"probe"}, roots));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("powercap    available"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rapl/package-0/core"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("counter, wraps at 262.143 kJ"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("perf_event  skipped"), std::string::npos) << r.out;
}

TEST(ProbeCommand, NeverFailsWhenNoSourceIsThere) {
  TempDir dir;
  const ProcessResult r = RunJoulebench(Args({"probe"}, Roots(dir)));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("powercap    absent"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fix: "), std::string::npos) << r.out;
}

TEST(ProbeCommand, JsonListsEverySourceWithStatusAndDomains) {
  TempDir dir;
  const auto roots = Roots(dir);
  FakePowercap fake(dir.path() / "sys");
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  const ProcessResult r = RunJoulebench(Args({"probe", "--json"}, roots));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["sources"].size(), 7U);
  EXPECT_EQ(j["sources"][0]["name"], "powercap");
  EXPECT_EQ(j["sources"][0]["status"], "available");
  EXPECT_EQ(j["sources"][0]["domains"][0]["name"], "rapl/package-0");
  EXPECT_EQ(j["sources"][0]["domains"][0]["signal"], "counter");
  EXPECT_EQ(j["sources"][1]["status"], "skipped");
}

// Root reads every file: run the probe as nobody (setpriv) to meet a real EACCES.
TEST(ProbeCommand, UnreadableCountersArePermissionDeniedWithTheFix) {
  TempDir dir;
  const auto roots = Roots(dir);
  FakePowercap fake(dir.path() / "sys");
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.MakeUnreadable("intel-rapl:0");
  ProcessResult r;
  if (geteuid() == 0) {
    r = RunProcess(
        "/usr/bin/setpriv",
        Args({"--reuid=65534", "--regid=65534", "--clear-groups", JOULEBENCH_BIN, "probe"}, roots));
  } else {
    r = RunJoulebench(Args({"probe"}, roots));
  }
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("powercap    permission denied"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("sudo chgrp powercap"), std::string::npos) << r.out;
}

TEST(ProbeCommand, SysfsRootThatDoesNotExistIsOneLineOfError) {
  TempDir dir;
  const ProcessResult r =
      RunJoulebench({"probe", "--sysfs-root", (dir.path() / "missing").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--sysfs-root"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(ProbeCommand, NvmlPathThatIsNotALibraryIsOneLineOfError) {
  TempDir dir;
  const auto text = dir.Write("libnvidia-ml.so.1", "not a library\n");
  const ProcessResult r =
      RunJoulebench(Args({"probe", "--nvml-library", text.string()}, Roots(dir)));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("is not a shared library"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(ProbeCommand, UnknownFlagIsOneLineOfError) {
  const ProcessResult r = RunJoulebench({"probe", "--frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--frobnicate"), std::string::npos) << r.err;
}

TEST(ProbeCommand, UnknownSourceToDisableIsAnInputError) {
  TempDir dir;
  const ProcessResult r = RunJoulebench(Args({"probe", "--disable", "bmc"}, Roots(dir)));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("'bmc' is not a source"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace joulebench::testing
