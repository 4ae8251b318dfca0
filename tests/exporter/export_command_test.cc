// End-to-end: `joulebench export` and `--metrics-listen` on a run, through the binary and
// plain HTTP; their errors.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <regex>
#include <thread>

#include "exporter/exposition_text.h"
#include "joulebench/exporter/metrics_server.h"
#include "support/background_process.h"
#include "support/fake_powercap.h"
#include "support/fault_http_server.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::exporter {
namespace {

using joulebench::testing::BackgroundProcess;
using joulebench::testing::FakePowercap;
using joulebench::testing::RunJoulebench;
using joulebench::testing::SampleValue;
using joulebench::testing::TempDir;
using namespace std::chrono_literals;

constexpr std::uint64_t kRange = 262143328850;

std::string Scrape(std::uint16_t port) {
  return testing::SimpleHttpRequest(port, "GET", "/metrics").body;
}

// The port in "serving metrics at http://127.0.0.1:PORT/metrics".
std::uint16_t ServedPort(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"(at http://127\.0\.0\.1:(\d+)/metrics)"))) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

TEST(ExportCommand, ServesTheSensorsEnergyUntilSigtermThenExitsZero) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 5'000'000);
  fake.AddZone("intel-rapl:0:1", "dram", kRange);
  BackgroundProcess exporter(
      JOULEBENCH_BIN, {"export", "--listen", "127.0.0.1:0", "--interval", "20ms", "--sysfs-root",
                       dir.path().string(), "--disable", "model"});
  ASSERT_TRUE(exporter.WaitForOutput("/metrics\n", 20s)) << exporter.out();
  EXPECT_NE(exporter.out().find("sampling 2 domain(s) every "), std::string::npos)
      << exporter.out();
  EXPECT_NE(exporter.out().find(" from powercap (2 domain(s))"), std::string::npos)
      << exporter.out();
  const std::uint16_t port = ServedPort(exporter.out());
  ASSERT_NE(port, 0) << exporter.out();
  fake.AddEnergy("intel-rapl:0", 12);
  fake.AddEnergy("intel-rapl:0:1", 3);
  std::this_thread::sleep_for(200ms);  // ten sampling intervals
  const std::string text = Scrape(port);
  EXPECT_NEAR(SampleValue(text, "joulebench_energy_joules_total", {{"domain", "rapl/package-0"}})
                  .value_or(-1),
              12, 1e-6)
      << text;
  EXPECT_NEAR(
      SampleValue(text, "joulebench_energy_joules_total", {{"domain", "rapl/package-0/dram"}})
          .value_or(-1),
      3, 1e-6);
  // DRAM is outside the package in RAPL: both count in the machine's total.
  EXPECT_NEAR(SampleValue(text, "joulebench_machine_energy_joules_total").value_or(-1), 15, 1e-6);
  EXPECT_EQ(SampleValue(text, "joulebench_source_up", {{"source", "powercap"}}), 1);
  EXPECT_DOUBLE_EQ(SampleValue(text, "joulebench_sampler_interval_seconds").value_or(-1), 0.02);
  exporter.Signal(SIGTERM);
  const auto r = exporter.Finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stopped by"), std::string::npos) << r.err;
}

TEST(ExportCommand, ListenAddressWithoutPortIsOneLineAndExitTwo) {
  const auto r = RunJoulebench({"export", "--listen", "127.0.0.1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("--listen '127.0.0.1' has no port"), std::string::npos) << r.err;
}

TEST(ExportCommand, PortInUseIsOneLineAndExitThree) {
  MetricsServer taken(ParseListenAddress("127.0.0.1:0", "test"));
  const std::string address = "127.0.0.1:" + std::to_string(taken.address().port);
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  const auto r = RunJoulebench(
      {"export", "--listen", address, "--sysfs-root", dir.path().string(), "--disable", "model"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("--listen " + address + ": cannot listen: port"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("already in use"), std::string::npos) << r.err;
}

TEST(MetricsListen, BadAddressStopsTheRunBeforeItMeasuresAnything) {
  TempDir dir;
  const auto r = RunJoulebench({"measure", "--metrics-listen", "localhost", "--db",
                                (dir.path() / "runs.db").string(), "--", "true"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--metrics-listen 'localhost' has no port"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// A load-generator run with its metrics served: run info with the stored run's id, the phase,
// the latency histogram and the energy of its meter, scraped while it runs.
TEST(MetricsListen, LoadgenRunIsScrapedWhileItRuns) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  const std::uint16_t port = testing::FreeLoopbackPort();
  const std::string db = (dir.path() / "runs.db").string();
  // `env -u`: the test environment turns storing off; this run is stored to show its id.
  BackgroundProcess run("/usr/bin/env", {"-u",
                                         "JOULEBENCH_NO_STORE",
                                         JOULEBENCH_BIN,
                                         "loadgen",
                                         "--sut",
                                         "sleep:workers=2,service=1ms",
                                         "--scenario",
                                         "server",
                                         "--rate",
                                         "300",
                                         "--duration",
                                         "2s",
                                         "--window",
                                         "200ms",
                                         "--no-steady-state",
                                         "--latency-bound",
                                         "1s",
                                         "--interval",
                                         "50ms",
                                         "--sysfs-root",
                                         dir.path().string(),
                                         "--disable",
                                         "model",
                                         "--db",
                                         db,
                                         "--quiet",
                                         "--metrics-listen",
                                         "127.0.0.1:" + std::to_string(port)});
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    text = Scrape(port);
    if (SampleValue(text, "joulebench_run_latency_seconds_count").value_or(0) >= 100) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(SampleValue(text, "joulebench_run_latency_seconds_count").value_or(0), 100) << text;
  EXPECT_EQ(SampleValue(text, "joulebench_run_phase", {{"phase", "measuring"}}), 1) << text;
  EXPECT_TRUE(SampleValue(text, "joulebench_energy_joules_total", {{"domain", "rapl/package-0"}}));
  // 1 ms of service: every query well under 0.1 s.
  EXPECT_EQ(SampleValue(text, "joulebench_run_latency_seconds_bucket", {{"le", "0.1"}}),
            SampleValue(text, "joulebench_run_latency_seconds_count"));
  const auto r = run.Finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"(stored as run (\S+) in)"))) << r.err;
  EXPECT_EQ(SampleValue(text, "joulebench_run_info", {{"kind", "loadgen"}, {"run_id", m[1]}}), 1)
      << text;
  EXPECT_NE(r.err.find("serving the run's metrics at http://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace joulebench::exporter
