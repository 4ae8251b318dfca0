#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/background_process.h"
#include "support/fake_powercap.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::testing {
namespace {

using namespace std::chrono_literals;
constexpr std::uint64_t kRange = 262143328850;

// A fake machine: sysfs with one package and its dram, an empty procfs, and only the
// powercap source enabled so that the truth is exactly what the test writes.
struct FakeMachine {
  TempDir dir;
  FakePowercap powercap{dir.path() / "sys"};
  FakeMachine() {
    std::filesystem::create_directories(dir.path() / "proc");
    powercap.AddZone("intel-rapl:0", "package-0", kRange);
    powercap.AddZone("intel-rapl:0:0", "dram", kRange);
  }
  std::vector<std::string> Measure(std::vector<std::string> flags,
                                   const std::vector<std::string>& command) const {
    std::vector<std::string> args = {"measure",
                                     "--sysfs-root",
                                     (dir.path() / "sys").string(),
                                     "--procfs-root",
                                     (dir.path() / "proc").string(),
                                     "--disable",
                                     "nvml",
                                     "--disable",
                                     "neuron",
                                     "--disable",
                                     "model"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }
};

TEST(MeasureCommand, ExitsWithTheCommandsExitCode) {
  FakeMachine m;
  const ProcessResult r = RunJoulebench(m.Measure({}, {"sh", "-c", "exit 7"}));
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.out.find("command exited with code 7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rapl/package-0"), std::string::npos) << r.out;
}

TEST(MeasureCommand, ACommandLineThatIsNotUtf8IsStoredAndShown) {
  // A file name in ISO 8859-1 is a valid argument on Linux. The run's configuration holds the
  // command line, and nlohmann::json threw on it when the store wrote the run: the
  // measurement was lost and measure failed with an internal error.
  FakeMachine m;
  const std::string db = (m.dir.path() / "runs.db").string();
  const ProcessResult r = RunJoulebench(m.Measure({"--db", db, "--json"}, {"true", "caf\xe9.txt"}),
                                        {"JOULEBENCH_NO_STORE=0"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("caf\xef\xbf\xbd.txt"), std::string::npos) << r.out;  // U+FFFD
  const ProcessResult shown = RunJoulebench({"runs", "show", "1", "--db", db, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.out << shown.err;
  const nlohmann::json run = nlohmann::json::parse(shown.out);
  EXPECT_EQ(run["status"], "complete");
  EXPECT_EQ(run["config"]["command"][1], "caf\xef\xbf\xbd.txt");
  const ProcessResult text = RunJoulebench({"runs", "show", "1", "--db", db});
  ASSERT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("caf\xef\xbf\xbd.txt"), std::string::npos) << text.out;
}

TEST(MeasureCommand, CommandNotFoundGives127AndOneLine) {
  FakeMachine m;
  const ProcessResult r = RunJoulebench(m.Measure({}, {"no-such-command-joulebench"}));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("'no-such-command-joulebench' was not found in PATH"), std::string::npos)
      << r.err;
}

TEST(MeasureCommand, MissingCommandAfterDashesIsAnInputError) {
  FakeMachine m;
  const ProcessResult r = RunJoulebench(m.Measure({}, {}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("no command given after '--'"), std::string::npos) << r.err;
}

TEST(MeasureCommand, ZeroOrMalformedIntervalIsAnInputError) {
  FakeMachine m;
  for (const std::string bad : {"0", "abc", "0ms", "5"}) {
    const ProcessResult r = RunJoulebench(m.Measure({"--interval", bad}, {"true"}));
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(r.out, "") << bad;
    EXPECT_NE(r.err.find("--interval"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(MeasureCommand, UnknownFlagIsAnInputError) {
  FakeMachine m;
  const ProcessResult r = RunJoulebench(m.Measure({"--frobnicate"}, {"true"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
}

// The signal goes to joulebench only (as from kill or a job scheduler): it must reach the
// command, and joulebench must still print what it measured.
void ExpectSignalIsForwarded(int sig) {
  FakeMachine m;
  BackgroundProcess p(JOULEBENCH_BIN,
                      m.Measure({"--interval", "10ms"}, {"sh", "-c", "echo ready; exec sleep 30"}));
  ASSERT_TRUE(p.WaitForOutput("ready", 10s));
  p.Signal(sig);
  const ProcessResult r = p.Finish();
  EXPECT_EQ(r.exit_code, 128 + sig) << r.err;
  EXPECT_NE(r.out.find("killed by"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("passed it on"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rapl/package-0"), std::string::npos) << r.out;
}

TEST(MeasureCommand, ForwardsSigtermToTheCommandAndStillReports) {
  ExpectSignalIsForwarded(SIGTERM);
}

TEST(MeasureCommand, ForwardsSigintToTheCommandAndStillReports) { ExpectSignalIsForwarded(SIGINT); }

// A thread plays the hardware: 30 W into the package and 6 W into dram, advanced every
// millisecond, while joulebench measures `sleep 1`. Mean powers within 1 %.
TEST(MeasureCommand, ScriptedPowerIsMeasuredWithinOnePercent) {
  FakeMachine m;
  TempDir out;
  const auto csv = out.path() / "timeline.csv";
  std::atomic<bool> stop{false};
  std::thread hardware([&] {
    auto last = std::chrono::steady_clock::now();
    while (!stop) {
      std::this_thread::sleep_for(1ms);
      const auto now = std::chrono::steady_clock::now();
      const double s = std::chrono::duration<double>(now - last).count();
      m.powercap.AddEnergy("intel-rapl:0", 30.0 * s);
      m.powercap.AddEnergy("intel-rapl:0:0", 6.0 * s);
      last = now;
    }
  });
  const ProcessResult r = RunJoulebench(
      m.Measure({"--interval", "10ms", "--json", "--timeline", csv.string()}, {"sleep", "1"}));
  stop = true;
  hardware.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& measurement = j["measurement"];
  EXPECT_GE(measurement["duration_s"].get<double>(), 1.0);
  EXPECT_NEAR(measurement["mean_watts"].get<double>(), 36.0, 0.36);
  EXPECT_NEAR(measurement["total_joules"].get<double>(),
              36.0 * measurement["duration_s"].get<double>(), 0.36);
  EXPECT_EQ(measurement["total_provenance"], "measured");
  EXPECT_EQ(measurement["total_domains"],
            nlohmann::json({"rapl/package-0", "rapl/package-0/dram"}));
  for (const auto& d : measurement["domains"]) {
    const double truth = d["name"] == "rapl/package-0" ? 30.0 : 6.0;
    EXPECT_NEAR(d["mean_watts"].get<double>(), truth, truth * 0.01) << d["name"];
    EXPECT_EQ(d["provenance"]["kind"], "measured");
  }
  const std::string timeline = ReadFile(csv);
  EXPECT_EQ(timeline.substr(0, timeline.find('\n')),
            "time_s,rapl/package-0 J,rapl/package-0 W,rapl/package-0/dram J,"
            "rapl/package-0/dram W");
  EXPECT_GT(std::count(timeline.begin(), timeline.end(), '\n'), 50);
}

TEST(MeasureCommand, BaselineGivesAttributableEnergy) {
  FakeMachine m;
  std::atomic<bool> stop{false};
  std::thread hardware([&] {
    auto last = std::chrono::steady_clock::now();
    while (!stop) {
      std::this_thread::sleep_for(1ms);
      const auto now = std::chrono::steady_clock::now();
      m.powercap.AddEnergy("intel-rapl:0",
                           10.0 * std::chrono::duration<double>(now - last).count());
      last = now;
    }
  });
  const ProcessResult r =
      RunJoulebench(m.Measure({"--interval", "10ms", "--baseline", "300ms"}, {"sleep", "0.3"}));
  stop = true;
  hardware.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("baseline: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("attributable"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total minus idle baseline power x duration"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace joulebench::testing
