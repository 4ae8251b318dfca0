// `joulebench loadgen --sut http:...` end to end: failures against --max-failed, the server
// CPU attribution (--server-pid), and bad specs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "support/fault_http_server.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::http {
namespace {

using nlohmann::json;

std::vector<std::string> Loadgen(const std::string& url, std::vector<std::string> more) {
  std::vector<std::string> args = {"loadgen",
                                   "--sut",
                                   "http:url=" + url + ",seq_len=16",
                                   "--scenario",
                                   "offline",
                                   "--duration",
                                   "300ms",
                                   "--min-queries",
                                   "100",
                                   "--no-steady-state",
                                   "--no-store",
                                   "--quiet"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

const json* Metric(const json& run, const std::string& name) {
  for (const auto& m : run["metrics"]) {
    if (m["name"] == name) return &m;
  }
  return nullptr;
}

TEST(LoadgenHttpCliTest, FailuresAboveMaxFailedExitInvalidNamingTheKinds) {
  testing::FaultHttpServer server;
  const auto r = testing::RunJoulebench(Loadgen(server.url("/fail-every/10"), {"--no-energy"}));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict: INVALID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("> 1 % allowed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("failed (http-5xx):"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HTTP 500 from"), std::string::npos) << r.out;
}

TEST(LoadgenHttpCliTest, FailuresWithinMaxFailedAreStoredByKindAndValid) {
  testing::FaultHttpServer server;
  const auto r = testing::RunJoulebench(
      Loadgen(server.url("/fail-every/10"), {"--no-energy", "--max-failed", "20", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json run = json::parse(r.out);
  EXPECT_EQ(run["verdict"], "VALID");
  const json* failed = Metric(run, "failed_queries");
  const json* by_kind = Metric(run, "failed_queries.http-5xx");
  ASSERT_NE(failed, nullptr);
  ASSERT_NE(by_kind, nullptr);
  EXPECT_GT(failed->at("value").get<double>(), 0);
  EXPECT_EQ(failed->at("value"), by_kind->at("value"));
  EXPECT_EQ(run["config"]["http"]["protocol"], "kserve");
  EXPECT_EQ(run["config"]["loadgen"]["max_failed_query_fraction"], 0.2);
}

TEST(LoadgenHttpCliTest, AReplyThatIsNotUtf8IsStoredWithTheRunsWarnings) {
  // The reason of a malformed reply quotes the reply. Quoted raw, ISO 8859-1 bytes made the
  // store's JSON writer throw at the end of the run: the run was left 'running' without its
  // results, and the command failed with an internal error.
  testing::FaultHttpServer server;
  testing::TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  std::vector<std::string> args = Loadgen(server.url("/latin1"), {"--no-energy", "--db", db});
  args.erase(std::find(args.begin(), args.end(), "--no-store"));
  const auto r = testing::RunJoulebench(args, {"JOULEBENCH_NO_STORE=0"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // every query failed: INVALID
  EXPECT_NE(r.out.find("failed (malformed):"), std::string::npos) << r.out;
  const auto shown = testing::RunJoulebench({"runs", "show", "1", "--db", db, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.out << shown.err;
  const json run = json::parse(shown.out);
  EXPECT_EQ(run["status"], "complete");
  bool quoted = false;
  for (const auto& w : run["warnings"]) {
    quoted = quoted || w.get<std::string>().find("r?sum?: caf? ?? not json") != std::string::npos;
  }
  EXPECT_TRUE(quoted) << run["warnings"].dump();
}

TEST(LoadgenHttpCliTest, ServerPidGetsItsShareOfCpuTime) {
  // This test process is the server: each request spins 20 ms of CPU in it.
  testing::FaultHttpServer server;
  const auto r = testing::RunJoulebench(
      {"loadgen", "--sut", "http:url=" + server.url("/burn/20") + ",seq_len=16,connections=1",
       "--scenario", "single-stream", "--duration", "1s", "--min-queries", "10",
       "--no-steady-state", "--no-store", "--quiet", "--json", "--server-pid",
       std::to_string(getpid())});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json run = json::parse(r.out);
  const json* cpu_time = Metric(run, "server_cpu_time");
  const json* share = Metric(run, "server_cpu_share");
  ASSERT_NE(cpu_time, nullptr) << r.out;
  ASSERT_NE(share, nullptr);
  // One request at a time for >= 1 s, each spinning 20 ms: the server was busy most of the
  // measured second (CPU time counts in 10 ms ticks; a loaded machine stretches the wall
  // time, not the CPU time of a spin).
  const double measured_s = Metric(run, "measured_duration")->at("value").get<double>();
  const double queries = Metric(run, "measured_queries")->at("value").get<double>();
  EXPECT_NEAR(cpu_time->at("value").get<double>(), queries * 0.020, 0.25 * queries * 0.020 + 0.03)
      << "over " << measured_s << " s";
  EXPECT_GT(share->at("value").get<double>(), 0.0);
  EXPECT_LE(share->at("value").get<double>(), 1.0);
  EXPECT_NE(share->at("provenance").get<std::string>().find("/stat utime+stime"),
            std::string::npos);
  if (const json* energy = Metric(run, "server_cpu_energy")) {
    EXPECT_NE(energy->at("provenance").get<std::string>().find("modelled: CPU-time share"),
              std::string::npos);
    EXPECT_GT(energy->at("value").get<double>(), 0);
  }
}

TEST(LoadgenHttpCliTest, ABadSpecOrAMissingServerIsOneLine) {
  auto r = testing::RunJoulebench({"loadgen", "--sut", "http:url=ftp://x", "--no-energy"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("must start with http://"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = testing::RunJoulebench({"loadgen", "--sut", "http:url=http://127.0.0.1:1", "--server-pid",
                              "999999999", "--no-energy"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--server-pid 999999999: no such process"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace joulebench::http
