// End-to-end: the `joulebench loadgen` binary, its output and its errors.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/fake_powercap.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::load {
namespace {

using testing::RunJoulebench;

std::vector<std::string> QuickServer(std::vector<std::string> extra) {
  std::vector<std::string> args = {"loadgen",         "--sut",    "null",       "--scenario",
                                   "server",          "--rate",   "2000",       "--duration",
                                   "300ms",           "--window", "100ms",      "--no-steady-state",
                                   "--latency-bound", "2s",       "--no-energy"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(LoadgenCommandTest, ServerRunPrintsVerdictLatencyAndThroughput) {
  const auto r = RunJoulebench(QuickServer({}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("verdict: VALID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p99"), std::string::npos);
  EXPECT_NE(r.out.find("throughput"), std::string::npos);
  EXPECT_NE(r.out.find("from each query's scheduled time"), std::string::npos);
}

TEST(LoadgenCommandTest, JsonIsARunRecordWithVerdictAndMetrics) {
  const auto r = RunJoulebench(QuickServer({"--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("kind"), "loadgen");
  EXPECT_EQ(j.at("verdict"), "VALID");
  bool has_throughput = false;
  for (const auto& m : j.at("metrics")) {
    if (m.at("name") == "throughput") {
      has_throughput = true;
      EXPECT_NEAR(m.at("value").get<double>(), 2000, 400);
    }
  }
  EXPECT_TRUE(has_throughput);
}

TEST(LoadgenCommandTest, InvalidRunExitsOneAndListsTheFailedCheck) {
  const auto r = RunJoulebench({"loadgen", "--sut", "sleep:workers=1,service=5ms", "--rate", "1000",
                                "--duration", "300ms", "--window", "100ms", "--no-steady-state",
                                "--latency-bound", "20ms", "--no-energy"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("verdict: INVALID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("failed: latency bound not met"), std::string::npos) << r.out;
}

TEST(LoadgenCommandTest, ReportsTheEnergyOfTheMeasurementFromTheSampler) {
  testing::TempDir dir;
  testing::FakePowercap powercap(dir.path());
  powercap.AddZone("intel-rapl:0", "package-0", 262143328850);
  std::atomic<bool> stop{false};
  // The package draws 100 W: 5 J every 50 ms.
  std::thread heater([&] {
    while (!stop) {
      powercap.AddEnergy("intel-rapl:0", 5.0);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  auto args = QuickServer({"--json", "--sysfs-root", dir.path().string(), "--disable", "model",
                           "--disable", "perf_event", "--interval", "20ms"});
  args.erase(std::find(args.begin(), args.end(), "--no-energy"));
  const auto r = RunJoulebench(args);
  stop = true;
  heater.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_FALSE(j.at("energy").empty()) << r.out;
  const auto& e = j.at("energy")[0];
  EXPECT_EQ(e.at("name"), "measurement");
  EXPECT_NEAR(e.at("mean_watts").get<double>(), 100, 35);
}

struct BadInput {
  std::vector<std::string> args;
  std::string says;
};

class LoadgenBadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(LoadgenBadInputTest, OneClearLineAndExitTwo) {
  std::vector<std::string> args = {"loadgen", "--no-energy"};
  args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
  const auto r = RunJoulebench(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(GetParam().says), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, LoadgenBadInputTest,
    ::testing::Values(BadInput{{"--rate", "0"}, "--rate"}, BadInput{{"--rate", "-3"}, "--rate"},
                      BadInput{{"--rate", "nan"}, "--rate"}, BadInput{{"--rate", "fast"}, "--rate"},
                      BadInput{{"--percentile", "100"}, "--percentile"},
                      BadInput{{"--percentile", "0"}, "--percentile"},
                      BadInput{{"--latency-bound", "10"}, "--latency-bound"},
                      BadInput{{"--sut", "sleep:workers=0,service=1ms"}, "workers must be between"},
                      BadInput{{"--sut", "gpu"}, "unknown SUT"},
                      BadInput{{"--scenario", "batch"}, "unknown scenario"},
                      BadInput{{"--load-levels", "0,150"}, "--load-levels"},
                      BadInput{{"--duration", "5"}, "--duration"}));

}  // namespace
}  // namespace joulebench::load
