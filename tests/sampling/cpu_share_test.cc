// The server CPU-time share from a fake procfs tree whose counters the test advances.
#include "joulebench/sampling/cpu_share.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "joulebench/error.h"
#include "joulebench/load/power_signal.h"
#include "support/temp_dir.h"

namespace joulebench::sampling {
namespace {

// /proc/stat's cpu line and a /proc/PID/stat with utime and stime (in ticks of 1/100 s:
// Linux's USER_HZ).
std::string StatLine(unsigned long long busy_user, unsigned long long idle) {
  return fmt::format("cpu  {} 0 0 {} 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n", busy_user, idle);
}
std::string PidStat(int pid, const std::string& comm, unsigned long long utime,
                    unsigned long long stime) {
  // Fields 3..13, then utime (14) and stime (15), then the rest.
  return fmt::format("{} ({}) S 1 1 1 0 -1 0 0 0 0 0 {} {} 0 0 20 0 4 0 100 0 0\n", pid, comm,
                     utime, stime);
}

TEST(CpuShareTest, ServerShareIsItsCpuTimeOverTheMachinesBusyTime) {
  testing::TempDir proc;
  proc.Write("stat", StatLine(1000, 5000));
  proc.Write("4242/stat", PidStat(4242, "triton server) x", 100, 50));  // ')' inside the name
  proc.Write("self/stat", PidStat(7, "joulebench", 10, 0));
  CpuShareSampler sampler(
      {.procfs_root = proc.path(), .pid = 4242, .interval = std::chrono::hours(1)});
  const double t0 = load::SteadyNowSeconds();
  sampler.Start();
  // 4 s of machine busy time: 3 s of them the server's (utime 200 + stime 100 ticks), 0.5 s ours.
  proc.Write("stat", StatLine(1400, 5600));
  proc.Write("4242/stat", PidStat(4242, "triton server) x", 300, 150));
  proc.Write("self/stat", PidStat(7, "joulebench", 60, 0));
  sampler.Stop();
  const CpuShareWindow w = sampler.Window(t0 - 1, load::SteadyNowSeconds() + 1);
  EXPECT_DOUBLE_EQ(w.machine_busy_cpu_s, 4.0);
  EXPECT_DOUBLE_EQ(w.machine_cpu_s, 10.0);
  EXPECT_DOUBLE_EQ(w.server_cpu_s, 3.0);
  EXPECT_DOUBLE_EQ(w.self_cpu_s, 0.5);
  EXPECT_DOUBLE_EQ(w.server_share(), 0.75);
  EXPECT_DOUBLE_EQ(w.self_share(), 0.125);
  EXPECT_EQ(sampler.ServerLabel(), "pid 4242 (triton server) x)");
}

TEST(CpuShareTest, AStatWhoseTimesAreNotNumbersIsNoSuchProcessNotACrash) {
  // std::stoull threw std::invalid_argument on "abc": out of the constructor, or on the
  // sampling thread, where it ended the program.
  testing::TempDir proc;
  proc.Write("stat", StatLine(1000, 5000));
  proc.Write("4242/stat", "4242 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 5 0 0 20 0 4 0 100 0 0\n");
  proc.Write("self/stat", PidStat(7, "joulebench", 10, 0));
  EXPECT_THROW(CpuShareSampler({.procfs_root = proc.path(), .pid = 4242}), InputError);
}

TEST(CpuShareTest, AReadingThatFailsKeepsTheLastOneInsteadOfZero) {
  testing::TempDir proc;
  proc.Write("stat", StatLine(1000, 5000));
  proc.Write("4242/stat", PidStat(4242, "server", 100, 0));
  proc.Write("self/stat", PidStat(7, "joulebench", 10, 0));
  CpuShareSampler sampler(
      {.procfs_root = proc.path(), .pid = 4242, .interval = std::chrono::hours(1)});
  sampler.Start();
  // The last sample finds /proc/stat and our own stat cut short: it keeps the first sample's
  // machine and self times (before, they read as 0 s, 10 s less than the first sample).
  proc.Write("stat", "cpu 1\n");
  proc.Write("self/stat", "7 (joulebench) S 1\n");
  proc.Write("4242/stat", PidStat(4242, "server", 300, 0));
  sampler.Stop();
  const CpuShareWindow w = sampler.Window(0, load::SteadyNowSeconds() + 1);
  EXPECT_DOUBLE_EQ(w.machine_busy_cpu_s, 0.0);
  EXPECT_DOUBLE_EQ(w.machine_cpu_s, 0.0);
  EXPECT_DOUBLE_EQ(w.self_cpu_s, 0.0);
  EXPECT_DOUBLE_EQ(w.server_cpu_s, 2.0);
}

TEST(CpuShareTest, CgroupUsageIsReadFromCpuStat) {
  testing::TempDir proc;
  testing::TempDir cgroup;
  proc.Write("stat", StatLine(0, 0));
  proc.Write("self/stat", PidStat(7, "joulebench", 0, 0));
  cgroup.Write("cpu.stat", "usage_usec 1000000\nuser_usec 800000\nsystem_usec 200000\n");
  CpuShareSampler sampler({.procfs_root = proc.path(),
                           .cgroup_path = cgroup.path(),
                           .interval = std::chrono::hours(1)});
  sampler.Start();
  proc.Write("stat", StatLine(200, 0));  // 2 s busy
  cgroup.Write("cpu.stat", "usage_usec 2500000\n");
  sampler.Stop();
  const CpuShareWindow w = sampler.Window(0, load::SteadyNowSeconds() + 1);
  EXPECT_DOUBLE_EQ(w.server_cpu_s, 1.5);
  EXPECT_DOUBLE_EQ(w.server_share(), 0.75);
}

TEST(CpuShareTest, AMissingProcessIsAnInputErrorNamingThePid) {
  testing::TempDir proc;
  proc.Write("stat", StatLine(0, 0));
  try {
    CpuShareSampler sampler({.procfs_root = proc.path(), .pid = 999});
    FAIL() << "a pid without /proc/PID/stat must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--server-pid 999: no such process"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(CpuShareSampler({.procfs_root = proc.path()}), InputError);  // neither given
}

TEST(CpuShareTest, AnIdleMachineGivesAZeroShare) {
  testing::TempDir proc;
  proc.Write("stat", StatLine(10, 10));
  proc.Write("1/stat", PidStat(1, "init", 0, 0));
  proc.Write("self/stat", PidStat(7, "joulebench", 0, 0));
  CpuShareSampler sampler(
      {.procfs_root = proc.path(), .pid = 1, .interval = std::chrono::hours(1)});
  sampler.Start();
  sampler.Stop();
  EXPECT_EQ(sampler.Window(0, load::SteadyNowSeconds() + 1).server_share(), 0.0);
}

}  // namespace
}  // namespace joulebench::sampling
