// The HTTP endpoint: listen addresses, errors a user can act on, what GET /metrics returns,
// and the names checked against Prometheus' own linter (promtool check metrics).
#include "joulebench/exporter/metrics_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>

#include "energy/powercap_source.h"
#include "exporter/exposition_text.h"
#include "exporter/program_path.h"
#include "joulebench/error.h"
#include "joulebench/load/latency_histogram.h"
#include "support/fake_powercap.h"
#include "support/fault_http_server.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::exporter {
namespace {

using joulebench::testing::FakePowercap;
using joulebench::testing::SampleValue;
using joulebench::testing::TempDir;

TEST(ListenAddress, HostAndPortAreParsed) {
  const ListenAddress a = ParseListenAddress("127.0.0.1:9464", "--listen");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9464);
  EXPECT_EQ(a.ToString(), "127.0.0.1:9464");
}

TEST(ListenAddress, EmptyHostMeansEveryIpv4Interface) {
  EXPECT_EQ(ParseListenAddress(":9100", "--listen").host, "0.0.0.0");
}

TEST(ListenAddress, Ipv6GoesInBrackets) {
  const ListenAddress a = ParseListenAddress("[::1]:9464", "--listen");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.ToString(), "[::1]:9464");
  EXPECT_THROW(ParseListenAddress("::1", "--listen"), InputError);
}

TEST(ListenAddress, LocalhostIsResolvedToLoopback) {
  EXPECT_EQ(ParseListenAddress("localhost:0", "--listen").host, "127.0.0.1");
}

TEST(ListenAddress, MalformedAddressesNameTheFlagAndShowAnExample) {
  for (const char* bad : {"9464", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:94x",
                          "no-such-host.invalid:9464"}) {
    try {
      ParseListenAddress(bad, "--metrics-listen");
      ADD_FAILURE() << bad << " was accepted";
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("--metrics-listen"), std::string::npos) << what;
      EXPECT_NE(what.find("127.0.0.1:9464"), std::string::npos) << what;
    }
  }
}

TEST(MetricsServer, PortZeroGetsAFreePortThatServesMetrics) {
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "--listen"));
  ASSERT_GT(server.address().port, 0);
  EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.address().port) + "/metrics");
  const auto reply = testing::SimpleHttpRequest(static_cast<std::uint16_t>(server.address().port),
                                                "GET", "/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(SampleValue(reply.body, "joulebench_build_info"), 1) << reply.body;
}

TEST(MetricsServer, PortInUseIsAnEnvironmentErrorThatSaysSo) {
  MetricsServer first(ParseListenAddress("127.0.0.1:0", "--listen"));
  try {
    MetricsServer second(
        ParseListenAddress("127.0.0.1:" + std::to_string(first.address().port), "--listen"),
        "--listen");
    FAIL() << "a second server listened on the same port";
  } catch (const EnvironmentError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--listen 127.0.0.1:" + std::to_string(first.address().port)),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("already in use"), std::string::npos) << what;
  }
}

TEST(MetricsServer, AddressOfAnotherMachineIsAnEnvironmentError) {
  try {
    MetricsServer server(ParseListenAddress("192.0.2.1:9464", "--listen"));  // TEST-NET-1
    FAIL() << "listened on an address this machine does not have";
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("not an address of this machine"), std::string::npos)
        << e.what();
  }
}

// promtool (from the prometheus package) lints an exposition against Prometheus' naming
// conventions: counters end in _total, base units, no reserved suffixes, HELP present.
TEST(MetricsServer, PromtoolFindsNoProblemWithTheNames) {
  const std::string promtool = testing::ProgramPath("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool not found: scripts/install-deps.sh installs the "
                                    "prometheus package";
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", 262143328850);
  fake.AddZone("intel-rapl:0:0", "core", 262143328850);
  energy::SourceOptions o;
  o.sysfs_root = dir.path();
  std::vector<energy::ProbeResult> probes;
  probes.push_back(energy::ProbePowercap(o));
  sampling::Meter meter = sampling::Meter::FromProbe(std::move(probes), {});
  meter.Start();
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "--listen"));
  run::RunObserver& job = server.job_observer([] { return "7"; });
  run::RunRecord record;
  record.kind = "loadgen";
  record.name = "null";
  job.OnBegin(record, meter);
  job.OnPhase("warm-up", std::nullopt);
  job.OnProgress(120, 30);
  load::LatencyHistogram window;
  window.Record(2'000'000);
  job.OnLatencies(window);
  const auto reply = testing::SimpleHttpRequest(static_cast<std::uint16_t>(server.address().port),
                                                "GET", "/metrics");
  ASSERT_EQ(reply.status, 200);
  const std::string file = dir.Write("scrape.txt", reply.body).string();
  const auto lint = testing::RunProcess("/bin/sh", {"-c", promtool + " check metrics < " + file});
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err << "\n" << reply.body;
  EXPECT_EQ(lint.out + lint.err, "") << reply.body;
}

}  // namespace
}  // namespace joulebench::exporter
