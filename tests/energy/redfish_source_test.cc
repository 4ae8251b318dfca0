// The Redfish source against a real HTTPS Redfish service on 127.0.0.1 (the Python test peer),
// in both schema generations and in the ways a BMC fails: refused credentials, a stall, a
// certificate that does not verify.
#include "energy/redfish_source.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "energy/polled_power_source.h"
#include "joulebench/energy/source.h"
#include "support/redfish_test_server.h"

namespace joulebench::energy {
namespace {

using joulebench::testing::RedfishTestServer;
using namespace std::chrono_literals;

SourceOptions OptionsFor(const RedfishTestServer& server) {
  SourceOptions o;
  o.bmc.url = server.url();
  o.bmc.user = server.options().user;
  o.bmc.password = server.options().password;
  o.bmc.ca_file = RedfishTestServer::CertificateFile();
  o.bmc.timeout = 5s;
  return o;
}

RedfishTestServer::Options Schema(std::string schema) {
  RedfishTestServer::Options o;
  o.schema = std::move(schema);
  return o;
}

bool AnyContains(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string Joined(const ProbeResult& r) {
  std::string all = r.reason + "\n" + r.fix + "\n";
  for (const auto& d : r.details) all += d + "\n";
  return all;
}

PolledPowerSource& Polled(const ProbeResult& r) {
  return dynamic_cast<PolledPowerSource&>(*r.source);
}

// Waits (bounded) until the condition holds; the bound only stops a broken test from hanging.
template <typename F>
bool Eventually(F condition, std::chrono::seconds bound = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

TEST(RedfishSource, OldSchemaPowerControlIsTheWholeMachine) {
  RedfishTestServer server(Schema("power"));
  const ProbeResult r = ProbeRedfish(OptionsFor(server));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << Joined(r);
  ASSERT_EQ(r.source->domains().size(), 1u);
  const DomainInfo& d = r.source->domains()[0];
  EXPECT_EQ(d.name, "redfish/1");
  EXPECT_EQ(d.component, Component::kPlatform);
  EXPECT_TRUE(d.whole_machine);
  EXPECT_EQ(d.provenance.kind, ProvenanceKind::kMeasured);
  EXPECT_EQ(d.provenance.by,
            "Redfish " + server.url() + " chassis 1 Power PowerControl[0] PowerConsumedWatts");
  EXPECT_EQ(d.update_period_s, 1.0);
  EXPECT_TRUE(AnyContains(r.details,
                          "reading chassis 1 (Contoso 3500RX): Power PowerControl[0] "
                          "PowerConsumedWatts = 250.00 W"))
      << Joined(r);
  EXPECT_TRUE(AnyContains(r.details, "joulebench-test Fake BMC, Redfish 1.15.0")) << Joined(r);
  EXPECT_TRUE(AnyContains(r.details, "verified against " + RedfishTestServer::CertificateFile()));
}

TEST(RedfishSource, NewSchemaPollsTheSensorAtItsSensingInterval) {
  RedfishTestServer::Options o = Schema("environment");
  o.sensing_interval = "PT0.2S";
  RedfishTestServer server(o);
  const ProbeResult r = ProbeRedfish(OptionsFor(server));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << Joined(r);
  const DomainInfo& d = r.source->domains()[0];
  EXPECT_NE(d.provenance.by.find("Sensor TotalPower (EnvironmentMetrics PowerWatts)"),
            std::string::npos)
      << d.provenance.by;
  EXPECT_DOUBLE_EQ(d.update_period_s, 0.2);
  EXPECT_TRUE(
      AnyContains(r.details, "polled every 200.000 ms (the sensor's SensingInterval PT0.2S)"))
      << Joined(r);
}

TEST(RedfishSource, EnvironmentMetricsWithoutASensorIsReadDirectly) {
  RedfishTestServer::Options o = Schema("environment");
  o.no_sensor = true;
  RedfishTestServer server(o);
  const ProbeResult r = ProbeRedfish(OptionsFor(server));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << Joined(r);
  EXPECT_NE(r.source->domains()[0].provenance.by.find("chassis 1 EnvironmentMetrics PowerWatts"),
            std::string::npos);
  EXPECT_TRUE(AnyContains(r.details, "the BMC publishes no sensing interval")) << Joined(r);
}

TEST(RedfishSource, BothSchemasPreferTheNewer) {
  RedfishTestServer server(Schema("both"));
  const ProbeResult r = ProbeRedfish(OptionsFor(server));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << Joined(r);
  EXPECT_NE(r.source->domains()[0].provenance.by.find("EnvironmentMetrics"), std::string::npos);
}

TEST(RedfishSource, PowerSupplyInputsAreSummedAndAnAbsentBayIsSkipped) {
  RedfishTestServer::Options o = Schema("psu");
  o.profile = "300:1";
  RedfishTestServer server(o);
  const ProbeResult r = ProbeRedfish(OptionsFor(server));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << Joined(r);
  EXPECT_NE(r.source->domains()[0].provenance.by.find(
                "PowerSubsystem input power of 2 power supplies (Bay1 + Bay2)"),
            std::string::npos)
      << r.source->domains()[0].provenance.by;
  EXPECT_TRUE(AnyContains(r.details, "= 300.00 W")) << Joined(r);
  EXPECT_NE(r.source->domains()[0].note.find("at the power supplies' inputs"), std::string::npos);
}

TEST(RedfishSource, OutermostChassisIsReadEvenWhenAnInnerOneIsListedFirst) {
  RedfishTestServer::Options o = Schema("power");
  o.inner_chassis = true;
  RedfishTestServer server(o);
  const ProbeResult r = ProbeRedfish(OptionsFor(server));
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << Joined(r);
  EXPECT_EQ(r.source->domains()[0].name, "redfish/1");
  EXPECT_TRUE(AnyContains(r.details, "GPU_Board (Module, inside another chassis)")) << Joined(r);
  EXPECT_TRUE(AnyContains(r.details, "--bmc-chassis")) << Joined(r);
}

TEST(RedfishSource, ChosenChassisIsReadAndAnUnknownOneListsTheIds) {
  RedfishTestServer::Options o = Schema("power");
  o.inner_chassis = true;
  RedfishTestServer server(o);
  SourceOptions options = OptionsFor(server);
  options.bmc.chassis = "GPU_Board";
  const ProbeResult inner = ProbeRedfish(options);
  ASSERT_EQ(inner.status, ProbeStatus::kAvailable) << Joined(inner);
  EXPECT_EQ(inner.source->domains()[0].name, "redfish/GPU_Board");
  EXPECT_TRUE(AnyContains(inner.details, "EnvironmentMetrics PowerWatts = 55.00 W"))
      << Joined(inner);
  options.bmc.chassis = "Blade7";
  const ProbeResult unknown = ProbeRedfish(options);
  EXPECT_EQ(unknown.status, ProbeStatus::kError);
  EXPECT_EQ(unknown.reason, "the BMC has no chassis 'Blade7'");
  EXPECT_EQ(unknown.fix, "give --bmc-chassis one of: GPU_Board, 1");
}

TEST(RedfishSource, WrongPasswordIsPermissionDeniedAndNeverRepeated) {
  RedfishTestServer server(Schema("power"));
  SourceOptions o = OptionsFor(server);
  o.bmc.password = "Not-the-password-3390";
  const ProbeResult r = ProbeRedfish(o);
  EXPECT_EQ(r.status, ProbeStatus::kPermissionDenied);
  EXPECT_EQ(r.reason, "the BMC at " + server.url() +
                          " refused user 'admin' (HTTP 401 on GET /redfish/v1/Chassis)");
  EXPECT_NE(r.fix.find("--bmc-password-file"), std::string::npos);
  const std::string all = Joined(r);
  EXPECT_EQ(all.find(o.bmc.password), std::string::npos);
  EXPECT_EQ(all.find(server.options().password), std::string::npos);
}

TEST(RedfishSource, MissingCredentialsArePermissionDeniedWithoutAnyRequest) {
  RedfishTestServer server(Schema("power"));
  SourceOptions o = OptionsFor(server);
  o.bmc.password.clear();
  const ProbeResult r = ProbeRedfish(o);
  EXPECT_EQ(r.status, ProbeStatus::kPermissionDenied);
  EXPECT_EQ(r.reason, "no BMC credentials for " + server.url() + ": the password is missing");
  EXPECT_EQ(server.Stats()["requests"], 0);
}

TEST(RedfishSource, NoUrlIsAbsentWithTheFlagsToGive) {
  const ProbeResult r = ProbeRedfish(SourceOptions{});
  EXPECT_EQ(r.status, ProbeStatus::kAbsent);
  EXPECT_EQ(r.reason, "no BMC address given (--bmc-url)");
  EXPECT_NE(r.fix.find("--bmc-url https://BMC --bmc-user USER --bmc-password-file FILE"),
            std::string::npos);
}

TEST(RedfishSource, StalledBmcTimesOutInsteadOfHanging) {
  RedfishTestServer::Options so = Schema("power");
  so.stall = "all";
  RedfishTestServer server(so);
  SourceOptions o = OptionsFor(server);
  o.bmc.timeout = 500ms;
  const ProbeResult r = ProbeRedfish(o);
  EXPECT_EQ(r.status, ProbeStatus::kError);
  EXPECT_EQ(r.reason, "GET /redfish/v1 from " + server.url() +
                          ": no answer within 500.000 ms (the BMC is unreachable or stalled)");
  EXPECT_NE(r.fix.find("--bmc-timeout (now 500.000 ms)"), std::string::npos) << r.fix;
  server.Release();
}

TEST(RedfishSource, SelfSignedCertificateFailsVerificationWithoutItsCaFile) {
  RedfishTestServer server(Schema("power"));
  SourceOptions o = OptionsFor(server);
  o.bmc.ca_file.clear();  // the system's CA store does not know the test's certificate
  const ProbeResult r = ProbeRedfish(o);
  EXPECT_EQ(r.status, ProbeStatus::kError);
  EXPECT_NE(r.reason.find("TLS verification failed: "), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("certificate"), std::string::npos) << r.reason;
  EXPECT_NE(r.fix.find("--bmc-ca-file"), std::string::npos);
  EXPECT_NE(r.fix.find("--bmc-insecure"), std::string::npos);
  EXPECT_EQ(server.Stats()["requests"], 0);  // the password never left this process
}

TEST(RedfishSource, InsecureAcceptsTheCertificateAndWarnsOnce) {
  RedfishTestServer server(Schema("power"));
  SourceOptions o = OptionsFor(server);
  o.bmc.ca_file.clear();
  o.bmc.insecure = true;
  const ProbeResult r = ProbeRedfish(o);
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << Joined(r);
  EXPECT_TRUE(AnyContains(r.details, "TLS certificate verification is OFF (--bmc-insecure)"));
  const auto warnings = r.source->TakeWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("redfish: TLS certificate verification is off (--bmc-insecure)"),
            std::string::npos);
  EXPECT_TRUE(r.source->TakeWarnings().empty());
}

TEST(RedfishSource, NullReadingRulesTheChassisOut) {
  RedfishTestServer::Options so = Schema("power");
  so.null_reading = true;
  RedfishTestServer server(so);
  const ProbeResult r = ProbeRedfish(OptionsFor(server));
  EXPECT_EQ(r.status, ProbeStatus::kUnsupported);
  EXPECT_TRUE(AnyContains(r.details,
                          "chassis 1: no power reading (Power: PowerControl/0/PowerConsumedWatts "
                          "is null (the BMC has no reading now; is the host powered off?))"))
      << Joined(r);
}

TEST(RedfishSource, ConnectionRefusedNamesTheAddress) {
  // A port that was just free: nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  SourceOptions o;
  o.bmc.url = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  o.bmc.user = "admin";
  o.bmc.password = "x-unused-1";
  const ProbeResult r = ProbeRedfish(o);
  EXPECT_EQ(r.status, ProbeStatus::kError);
  EXPECT_NE(r.reason.find("cannot connect"), std::string::npos) << r.reason;
  EXPECT_NE(r.fix.find("--bmc-url"), std::string::npos);
}

TEST(RedfishSource, PollsReuseOneConnection) {
  RedfishTestServer server(Schema("power"));
  SourceOptions o = OptionsFor(server);
  o.bmc.poll_interval = 100ms;
  const ProbeResult r = ProbeRedfish(o);
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << Joined(r);
  ASSERT_TRUE(Eventually([&] { return Polled(r).readings() >= 6; }));
  const auto stats = server.Stats();
  EXPECT_EQ(stats["connections"], 1) << stats.dump();
  EXPECT_GE(stats["reading_requests"].get<int>(), 6);
}

// A poll hangs inside the BMC; the sampler's Read still returns, with the held reading.
TEST(RedfishSource, ReadDoesNotWaitForAStalledBmc) {
  RedfishTestServer server(Schema("power"));
  SourceOptions o = OptionsFor(server);
  o.bmc.poll_interval = 100ms;
  o.bmc.timeout = 30s;
  const ProbeResult r = ProbeRedfish(o);
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << Joined(r);
  server.Stall();
  ASSERT_TRUE(Eventually([&] { return server.Stats()["stalled_now"].get<int>() >= 1; }));
  std::vector<Reading> out(1);
  r.source->Read(out);
  const double first = out[0].value;
  std::this_thread::sleep_for(50ms);
  r.source->Read(out);
  // Both reads returned while the poll was still held by the BMC.
  EXPECT_GE(server.Stats()["stalled_now"].get<int>(), 1);
  EXPECT_TRUE(out[0].ok);
  EXPECT_GT(out[0].value, first);  // 250 W held: the energy keeps growing
  server.Release();
}

TEST(RedfishSource, StallMidRunIsWarnedAndItsSpanIsAGapUntilReadingsResume) {
  RedfishTestServer server(Schema("power"));
  SourceOptions o = OptionsFor(server);
  o.bmc.poll_interval = 100ms;
  // Long enough for the probe's TLS handshake and discovery on a loaded machine.
  o.bmc.timeout = 1500ms;
  const ProbeResult r = ProbeRedfish(o);
  ASSERT_EQ(r.status, ProbeStatus::kAvailable) << Joined(r);
  server.Stall();
  std::vector<std::string> warnings;
  auto seen = [&](const std::string& text) {
    for (auto& w : r.source->TakeWarnings()) warnings.push_back(std::move(w));
    return AnyContains(warnings, text);
  };
  ASSERT_TRUE(Eventually([&] { return seen("redfish/1: reading the BMC failed: GET "); }));
  EXPECT_TRUE(AnyContains(warnings, "no answer within 1.500 s")) << warnings[0];
  EXPECT_TRUE(AnyContains(warnings, "a gap in its timeline, not counted")) << warnings[0];
  // While the BMC fails the sampler gets no reading, with the reason, so the meter records a gap.
  std::vector<Reading> out(1);
  r.source->Read(out);
  EXPECT_FALSE(out[0].ok);
  ASSERT_NE(out[0].problem, nullptr);
  EXPECT_FALSE(out[0].lost);
  EXPECT_FALSE(r.source->domains()[0].counts_through_gaps);
  server.Release();
  ASSERT_TRUE(Eventually([&] { return seen("redfish/1: readings resumed after "); }));
  EXPECT_TRUE(AnyContains(warnings, "its energy is not counted"));
}

TEST(RedfishUrl, HttpsHostsOnlyWithoutCredentialsOrPaths) {
  std::string why;
  EXPECT_EQ(NormalizeBmcUrl("https://10.0.0.5", why), "https://10.0.0.5");
  EXPECT_EQ(NormalizeBmcUrl("HTTPS://bmc.example:8443/redfish/v1/", why),
            "https://bmc.example:8443");
  EXPECT_EQ(NormalizeBmcUrl("https://bmc/", why), "https://bmc");
  EXPECT_EQ(NormalizeBmcUrl("http://10.0.0.5", why), "");
  EXPECT_EQ(why, "must start with https:// (Redfish is served over HTTPS)");
  EXPECT_EQ(NormalizeBmcUrl("https://root:calvin@10.0.0.5", why), "");
  EXPECT_EQ(why.find("calvin"), std::string::npos);
  EXPECT_NE(why.find("--bmc-password-file"), std::string::npos);
  EXPECT_EQ(NormalizeBmcUrl("https://10.0.0.5/other", why), "");
  EXPECT_EQ(NormalizeBmcUrl("https://", why), "");
}

TEST(RedfishUrl, IsoDurationsAsRedfishWritesThem) {
  EXPECT_EQ(ParseIsoDurationSeconds("PT1S"), 1.0);
  EXPECT_EQ(ParseIsoDurationSeconds("PT0.5S"), 0.5);
  EXPECT_EQ(ParseIsoDurationSeconds("PT1M30S"), 90.0);
  EXPECT_EQ(ParseIsoDurationSeconds("P1DT2H"), 93600.0);
  EXPECT_EQ(ParseIsoDurationSeconds("1S"), std::nullopt);
  EXPECT_EQ(ParseIsoDurationSeconds("PT"), std::nullopt);
  EXPECT_EQ(ParseIsoDurationSeconds("PTXS"), std::nullopt);
  EXPECT_EQ(ParseIsoDurationSeconds("PT5"), std::nullopt);
  EXPECT_EQ(ParseIsoDurationSeconds("P1H"), std::nullopt);  // hours need the T
}

TEST(RedfishUrl, AnIsoDurationTooLongForADoubleIsNotOne) {
  // 10^305 days is a finite double but 86400 times it is not: the BMC's sensing interval was
  // infinite, and probe printed "polled every inf h".
  EXPECT_EQ(ParseIsoDurationSeconds("P1" + std::string(305, '0') + "D"), std::nullopt);
  EXPECT_EQ(ParseIsoDurationSeconds("PT1" + std::string(400, '0') + "S"), std::nullopt);
  EXPECT_EQ(ParseIsoDurationSeconds("P1" + std::string(300, '0') + "D"), 8.64e304);
}

}  // namespace
}  // namespace joulebench::energy
