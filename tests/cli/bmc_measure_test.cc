// `measure` and `probe` against the local Redfish service, with a fake powercap package as the
// component: whole machine, components and rest of system are printed, stored, shown by
// `runs show` and drawn by `report`; the BMC password appears in none of them.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "support/fake_powercap.h"
#include "support/redfish_test_server.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
constexpr std::uint64_t kRange = 262143328850;
const std::vector<std::string> kStoreOn = {"JOULEBENCH_NO_STORE=0"};

// A package drawing 30 W (a thread advances its counter), and the BMC at 250 W.
struct Machine {
  TempDir dir;
  FakePowercap powercap{dir.path() / "sys"};
  RedfishTestServer bmc;
  std::atomic<bool> stop{false};
  std::thread heater;
  Machine() {
    std::filesystem::create_directories(dir.path() / "proc");
    powercap.AddZone("intel-rapl:0", "package-0", kRange);
    heater = std::thread([this] {
      auto last = std::chrono::steady_clock::now();
      while (!stop) {
        std::this_thread::sleep_for(2ms);
        const auto now = std::chrono::steady_clock::now();
        powercap.AddEnergy("intel-rapl:0",
                           30.0 * std::chrono::duration<double>(now - last).count());
        last = now;
      }
    });
  }
  ~Machine() {
    stop = true;
    heater.join();
  }
  std::string db() const { return (dir.path() / "runs.db").string(); }
  std::vector<std::string> Command(std::vector<std::string> head,
                                   const std::vector<std::string>& extra = {}) const {
    for (const std::string& f :
         std::vector<std::string>{"--sysfs-root", (dir.path() / "sys").string(), "--procfs-root",
                                  (dir.path() / "proc").string(), "--disable", "nvml", "--disable",
                                  "neuron", "--disable", "model", "--bmc-interval", "100ms"}) {
      head.push_back(f);
    }
    for (const auto& f : BmcFlags(bmc)) head.push_back(f);
    head.insert(head.end(), extra.begin(), extra.end());
    return head;
  }
};

std::vector<std::string> Then(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string StoredId(const std::string& err) {
  std::smatch m;
  if (!std::regex_search(err, m, std::regex("stored as run ([0-9]+) in "))) return "";
  return m[1];
}

TEST(BmcMeasure, PrintsWholeMachineComponentsAndRestOfSystem) {
  Machine m;
  const ProcessResult r =
      RunJoulebench(Then(m.Command({"measure", "--interval", "20ms"}), {"--", "sleep", "1.2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  redfish: 1 domain(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("measured: Redfish " + m.bmc.url() +
                       " chassis 1 Power PowerControl[0] PowerConsumedWatts"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(inside redfish/1, not added to the total)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  rest of system "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("measured: redfish/1 - (rapl/package-0): fans, power-supply losses"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("measured: redfish/1 (whole machine: the domains inside it are not added)"),
            std::string::npos)
      << r.out;
}

TEST(BmcMeasure, JsonTotalIsTheWholeMachineAndTheRestIsWholeMinusComponents) {
  Machine m;
  const ProcessResult r = RunJoulebench(
      Then(m.Command({"measure", "--interval", "20ms", "--json"}), {"--", "sleep", "1.5"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  const json& e = j.at("measurement");
  const double duration = e.at("duration_s").get<double>();
  EXPECT_EQ(e.at("total_domains"), json({"redfish/1"}));
  EXPECT_NEAR(e.at("total_joules").get<double>(), 250.0 * duration, 0.02 * 250.0 * duration);
  const json& split = e.at("whole_system");
  EXPECT_EQ(split.at("whole_domains"), json({"redfish/1"}));
  EXPECT_EQ(split.at("component_domains"), json({"rapl/package-0"}));
  EXPECT_EQ(split.at("whole_machine"), true);
  EXPECT_NEAR(split.at("rest_joules").get<double>(),
              split.at("whole_joules").get<double>() - split.at("component_joules").get<double>(),
              1e-9);
  EXPECT_NEAR(split.at("rest_mean_watts").get<double>(), 220.0, 0.03 * 220.0) << split.dump();
  bool package_inside = false;
  for (const auto& d : e.at("domains")) {
    if (d.at("name") == "rapl/package-0") {
      package_inside = d.at("parent") == "redfish/1" && d.at("in_total") == false;
      EXPECT_NEAR(d.at("mean_watts").get<double>(), 30.0, 0.3);
    }
  }
  EXPECT_TRUE(package_inside) << e.at("domains").dump();
}

TEST(BmcMeasure, StoredRunShowsTheSplitInRunsShowAndTheHtmlReportAndNeverThePassword) {
  Machine m;
  const ProcessResult r =
      RunJoulebench(Then(m.Command({"measure", "--interval", "20ms", "--db", m.db(), "--quiet"}),
                         {"--", "sleep", "1"}),
                    kStoreOn);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = StoredId(r.err);
  ASSERT_FALSE(id.empty()) << r.err;

  const ProcessResult shown = RunJoulebench({"runs", "show", id, "--db", m.db()}, kStoreOn);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("rest of system"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("(the whole machine: redfish/1)"), std::string::npos) << shown.out;

  const ProcessResult as_json =
      RunJoulebench({"runs", "show", id, "--json", "--db", m.db()}, kStoreOn);
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const json run = json::parse(as_json.out);
  bool split_stored = false;
  for (const auto& e : run.at("energy")) {
    if (e.at("name") == "measurement") {
      split_stored = e.at("whole_system").at("component_domains") == json({"rapl/package-0"});
    }
  }
  EXPECT_TRUE(split_stored) << run.at("energy").dump();

  const std::string html = (m.dir.path() / "report.html").string();
  const ProcessResult report =
      RunJoulebench({"report", id, "--db", m.db(), "--output", html}, kStoreOn);
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::string page = ReadFile(html);
  EXPECT_NE(page.find("energy of the rest of the system in window"), std::string::npos);
  EXPECT_NE(page.find("rest of system"), std::string::npos);

  // The password: in no output, and in no byte of the database (with its WAL) or report.
  const std::string& password = m.bmc.options().password;
  for (const ProcessResult* p : {&r, &shown, &as_json, &report}) {
    EXPECT_EQ(p->out.find(password), std::string::npos);
    EXPECT_EQ(p->err.find(password), std::string::npos);
  }
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(m.dir.path())) {
    if (!entry.is_regular_file()) continue;
    ++files;
    EXPECT_EQ(ReadFile(entry.path()).find(password), std::string::npos) << entry.path();
  }
  EXPECT_GE(files, 2);  // the database and the report at least
}

TEST(BmcMeasure, InsecureTlsIsPrintedInTheRunsWarnings) {
  Machine m;
  std::vector<std::string> args = {"measure", "--interval", "50ms"};
  for (const std::string& f : std::vector<std::string>{"--sysfs-root",
                                                       (m.dir.path() / "sys").string(),
                                                       "--procfs-root",
                                                       (m.dir.path() / "proc").string(),
                                                       "--disable",
                                                       "nvml",
                                                       "--disable",
                                                       "neuron",
                                                       "--disable",
                                                       "model",
                                                       "--bmc-url",
                                                       m.bmc.url(),
                                                       "--bmc-user",
                                                       "admin",
                                                       "--bmc-password-file",
                                                       m.bmc.password_file(),
                                                       "--bmc-insecure",
                                                       "--",
                                                       "sleep",
                                                       "0.3"}) {
    args.push_back(f);
  }
  const ProcessResult r = RunJoulebench(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("warning: redfish: TLS certificate verification is off (--bmc-insecure)"),
            std::string::npos)
      << r.out;
}

TEST(BmcFlags, PasswordOnTheCommandLineIsRefusedWithoutRepeatingIt) {
  const ProcessResult r =
      RunJoulebench({"probe", "--bmc-url", "https://10.0.0.5", "--bmc-password", "Hunter2-xyz"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--bmc-password is not accepted"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--bmc-password-file"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Hunter2-xyz"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(BmcFlags, UrlWithCredentialsIsRefusedWithoutRepeatingThem) {
  const ProcessResult r = RunJoulebench({"probe", "--bmc-url", "https://root:Calvin-77@10.0.0.5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--bmc-url must not hold a user or password"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Calvin-77"), std::string::npos) << r.err;
}

TEST(BmcFlags, MissingOrEmptyPasswordFileIsAnInputError) {
  TempDir dir;
  const auto empty = dir.Write("empty", "");
  ProcessResult r = RunJoulebench({"probe", "--bmc-url", "https://10.0.0.5", "--bmc-user", "u",
                                   "--bmc-password-file", empty.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is empty; write the BMC password on its first line"), std::string::npos)
      << r.err;
  r = RunJoulebench({"probe", "--bmc-password-file", (dir.path() / "absent").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot be read: No such file or directory"), std::string::npos) << r.err;
}

TEST(BmcFlags, IntervalAndTimeoutOutOfRangeAreInputErrors) {
  ProcessResult r = RunJoulebench({"probe", "--bmc-interval", "10ms"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--bmc-interval '10ms' is out of range"), std::string::npos) << r.err;
  r = RunJoulebench({"probe", "--bmc-timeout", "abc"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--bmc-timeout"), std::string::npos) << r.err;
}

TEST(BmcProbe, RefusedCredentialsAreListedWithTheFixAndWithoutThePassword) {
  TempDir dir;
  RedfishTestServer bmc;
  const auto wrong = dir.Write("wrong", "Wrong-password-4410\n");
  const ProcessResult r =
      RunJoulebench({"probe", "--bmc-url", bmc.url(), "--bmc-user", "admin", "--bmc-password-file",
                     wrong.string(), "--bmc-ca-file", RedfishTestServer::CertificateFile()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("redfish     permission denied  the BMC at " + bmc.url() +
                       " refused user 'admin' (HTTP 401 on GET /redfish/v1/Chassis)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("fix: check --bmc-user and the password"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Wrong-password-4410"), std::string::npos);
  EXPECT_NE(r.out.find("ipmi "), std::string::npos) << r.out;
}

TEST(BmcProbe, AvailableBmcListsItsDomainAndHowItIsPolled) {
  RedfishTestServer bmc;
  const ProcessResult r = RunJoulebench(Then({"probe"}, BmcFlags(bmc)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("redfish     available          1 domain"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("redfish/1  measured: Redfish"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("polled every 1.000 s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ipmi        skipped            not needed: Redfish already reads"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace joulebench::testing
