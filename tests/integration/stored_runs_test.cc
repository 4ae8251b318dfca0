// Runs of measure, loadgen and infer end up in the run store with what they measured, a
// SIGINT leaves a partial run marked incomplete, and the planner reads a stored power curve.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <thread>

#include "support/background_process.h"
#include "support/fake_powercap.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
constexpr std::uint64_t kRange = 262143328850;

// A fake machine whose package draws about 20 W while the test runs (a thread adds energy
// to the powercap counter), and the flags that make a command read only it.
struct FakeMachine {
  TempDir dir;
  FakePowercap powercap{dir.path() / "sys"};
  std::atomic<bool> stop{false};
  std::thread heater;
  FakeMachine() {
    std::filesystem::create_directories(dir.path() / "proc");
    powercap.AddZone("intel-rapl:0", "package-0", kRange);
    heater = std::thread([this] {
      while (!stop) {
        powercap.AddEnergy("intel-rapl:0", 0.1);  // 0.1 J every 5 ms: 20 W
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  ~FakeMachine() {
    stop = true;
    heater.join();
  }
  std::vector<std::string> SourceFlags() const {
    return {"--sysfs-root",  (dir.path() / "sys").string(),
            "--procfs-root", (dir.path() / "proc").string(),
            "--disable",     "nvml",
            "--disable",     "neuron",
            "--disable",     "model"};
  }
  std::string db() const { return (dir.path() / "runs.db").string(); }
};

// Storing is on for these runs (the test environment switches it off by default); set in
// this process so that the children inherit it, restored afterwards.
const std::vector<std::string> kStoreOn = {};
class StoringOn {
 public:
  StoringOn() {
    if (const char* v = std::getenv("JOULEBENCH_NO_STORE")) saved_ = v;
    setenv("JOULEBENCH_NO_STORE", "0", 1);
  }
  ~StoringOn() {
    if (saved_) {
      setenv("JOULEBENCH_NO_STORE", saved_->c_str(), 1);
    } else {
      unsetenv("JOULEBENCH_NO_STORE");
    }
  }

 private:
  std::optional<std::string> saved_;
};

std::string StoredId(const std::string& err) {
  std::smatch m;
  if (!std::regex_search(err, m, std::regex("stored as run ([0-9]+) in "))) return "";
  return m[1];
}

json ShowRun(const std::string& db, const std::string& id) {
  const ProcessResult r = RunJoulebench({"runs", "show", id, "--json", "--db", db}, kStoreOn);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

TEST(StoredRuns, MeasureRunIsStoredWithItsTimeline) {
  FakeMachine m;
  StoringOn storing;
  std::vector<std::string> args = {"measure", "--interval", "20ms", "--db", m.db(), "--quiet"};
  for (const auto& f : m.SourceFlags()) args.push_back(f);
  for (const std::string a : {"--", "sleep", "0.5"}) args.push_back(a);
  const ProcessResult r = RunJoulebench(args, kStoreOn);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = StoredId(r.err);
  ASSERT_FALSE(id.empty()) << r.err;

  const json run = ShowRun(m.db(), id);
  EXPECT_EQ(run.at("kind"), "measure");
  EXPECT_EQ(run.at("status"), "complete");
  EXPECT_EQ(run.at("name"), "sleep 0.5");
  // 0.5 s at 20 ms: about 25 samples, every one of them stored.
  const auto& time_s = run.at("timeline").at("time_s");
  EXPECT_GE(time_s.size(), 15u);
  EXPECT_GE(time_s.back().get<double>(), 0.45);
  bool has_energy = false;
  for (const auto& metric : run.at("metrics")) {
    if (metric.at("name") == "energy") has_energy = metric.at("value").get<double>() > 2.0;
  }
  EXPECT_TRUE(has_energy) << run.at("metrics").dump();

  const ProcessResult text = RunJoulebench({"runs", "show", id, "--db", m.db()}, kStoreOn);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("measure"), std::string::npos) << text.out;
}

TEST(StoredRuns, NoStoreLeavesTheDatabaseAlone) {
  FakeMachine m;
  StoringOn storing;
  std::vector<std::string> args = {"measure", "--no-store", "--db", m.db(), "--quiet"};
  for (const auto& f : m.SourceFlags()) args.push_back(f);
  for (const std::string a : {"--", "true"}) args.push_back(a);
  const ProcessResult r = RunJoulebench(args, kStoreOn);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("stored as run"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(m.db()));
}

TEST(StoredRuns, SigintDuringLoadgenStoresTheMeasuredPartAsIncomplete) {
  FakeMachine m;
  StoringOn storing;
  std::vector<std::string> args = {"loadgen",    "--sut",      "sleep:workers=2,service=1ms",
                                   "--scenario", "server",     "--rate",
                                   "200/s",      "--duration", "60s",
                                   "--window",   "100ms",      "--no-steady-state",
                                   "--interval", "20ms",       "--db",
                                   m.db()};
  for (const auto& f : m.SourceFlags()) args.push_back(f);
  std::vector<std::string> env = kStoreOn;
  BackgroundProcess loadgen(JOULEBENCH_BIN, args, env);
  // Interrupt it once it has stored a few windows (the run would take 60 s), however long a
  // loaded machine takes to start it.
  const auto deadline = std::chrono::steady_clock::now() + 50s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    const ProcessResult list = RunJoulebench({"runs", "list", "--json", "--db", m.db()}, kStoreOn);
    if (list.exit_code != 0 || list.out.empty()) continue;
    const json runs = json::parse(list.out);
    // The timeline reaches the database as the run goes (its windows at the end): a second
    // of samples at 20 ms spans several 100 ms windows.
    if (!runs.empty() && runs[0].at("samples").get<int>() >= 50) break;
  }
  loadgen.Signal(SIGINT);
  const ProcessResult r = loadgen.Finish();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.out.find("stopped on request"), std::string::npos) << r.out;  // exited, not killed
  const std::string id = StoredId(r.err);
  ASSERT_FALSE(id.empty()) << r.err;

  const json run = ShowRun(m.db(), id);
  EXPECT_EQ(run.at("kind"), "loadgen");
  EXPECT_EQ(run.at("status"), "incomplete");
  EXPECT_GE(run.at("windows").size(), 3u);
  EXPECT_GE(run.at("timeline").at("time_s").size(), 10u);
  bool said_why = false;
  for (const auto& w : run.at("warnings")) {
    said_why |= w.get<std::string>().find("stopped on request") != std::string::npos;
  }
  EXPECT_TRUE(said_why) << run.at("warnings").dump();
}

TEST(StoredRuns, InferWithLoadLevelsStoresAPowerCurveThatPlanUses) {
  if (RunJoulebench({"infer", "--list-models"}).exit_code != 0) {
    GTEST_SKIP() << "joulebench was built without libtorch";
  }
  FakeMachine m;
  StoringOn storing;
  std::vector<std::string> args = {"infer",
                                   "--model",
                                   "layoutlm-tiny",
                                   "--seq-len",
                                   "16",
                                   "--scenario",
                                   "server",
                                   "--rate",
                                   "20/s",
                                   "--latency-bound",
                                   "1s",
                                   "--duration",
                                   "300ms",
                                   "--min-queries",
                                   "3",
                                   "--window",
                                   "100ms",
                                   "--no-steady-state",
                                   "--gemm-duration",
                                   "0s",
                                   "--samples",
                                   "8",
                                   "--load-levels",
                                   "0,50,100",
                                   "--db",
                                   m.db(),
                                   "--quiet"};
  for (const auto& f : m.SourceFlags()) args.push_back(f);
  const ProcessResult r = RunJoulebench(args, kStoreOn);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = StoredId(r.err);
  ASSERT_FALSE(id.empty()) << r.err;

  const json run = ShowRun(m.db(), id);
  EXPECT_EQ(run.at("status"), "complete");
  const auto& curve = run.at("power_curve");
  ASSERT_EQ(curve.size(), 3u) << curve.dump();
  EXPECT_DOUBLE_EQ(curve[0].at("load_fraction").get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(curve[1].at("load_fraction").get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(curve[2].at("load_fraction").get<double>(), 1.0);
  EXPECT_NEAR(curve[2].at("rate_per_s").get<double>(), 20.0, 1e-9);
  for (const auto& p : curve) EXPECT_GT(p.at("watts_total").get<double>(), 5.0) << p.dump();

  const ProcessResult plan = RunJoulebench({"plan", "infer", "--sla", "100/s", "--pue", "1.1",
                                            "--db", m.db(), "--candidate", "name=here,run=" + id,
                                            "--candidate", "name=g4dn.2xlarge,throughput=8.6/s"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("measured run: stored run " + id + " power at 3 load levels"),
            std::string::npos)
      << plan.out;
}

}  // namespace
}  // namespace joulebench::testing
