// The HTTP SUT driven by the load generator against real servers on loopback: the fault
// server of tests/support (one behaviour per path) and nghttpd for HTTP/2.
#include "joulebench/http/http_sut.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "joulebench/error.h"
#include "joulebench/load/loadgen.h"
#include "support/background_process.h"
#include "support/fault_http_server.h"
#include "support/temp_dir.h"

namespace joulebench::http {
namespace {

using load::FailureKind;
using testing::FaultHttpServer;

load::TestSettings Settings(load::Scenario scenario, double rate = 200) {
  load::TestSettings s;
  s.scenario = scenario;
  s.server_target_qps = rate;
  s.server_target_latency_ns = 2'000'000'000;
  s.min_duration_ms = 400;
  s.min_query_count = 20;
  s.wait_for_steady_state = false;
  s.offline_expected_qps = 200;
  s.window_ms = 100;
  return s;
}

std::uint64_t Failed(const load::ScenarioResult& r, FailureKind kind) {
  return r.failed_by_kind[static_cast<std::size_t>(kind)];
}

struct Client {
  explicit Client(const std::string& spec) {
    const HttpSutSpec parsed = ParseHttpSutSpec(spec);
    sut = std::make_unique<HttpSut>(parsed.sut, MakePayloads(parsed));
  }
  load::ScenarioResult Run(const load::TestSettings& s) {
    return load::RunScenario(*sut, const_cast<RequestPayloads&>(*sut->payloads()), s);
  }
  std::unique_ptr<HttpSut> sut;
};

// The failed checks and the first failure of each kind, for a test's failure message.
std::string Why(const load::ScenarioResult& r, const HttpSut& sut) {
  std::string out;
  for (const auto& c : r.failed_checks) out += c + "; ";
  for (const auto& f : sut.stats().first_failure) {
    if (!f.empty()) out += "first: " + f + "; ";
  }
  return out;
}

std::string Spec(const FaultHttpServer& server, const std::string& path,
                 const std::string& more = "") {
  return "http:url=" + server.url(path) + ",model=m,seq_len=16,samples=8" + more;
}

TEST(HttpSutTest, ValidKServeRepliesMakeAValidServerRun) {
  FaultHttpServer server;
  Client client(Spec(server, "/kserve"));
  const load::ScenarioResult r = client.Run(Settings(load::Scenario::kServer));
  EXPECT_TRUE(r.valid) << (r.failed_checks.empty() ? "" : r.failed_checks[0]);
  EXPECT_EQ(r.failed_query_count, 0u);
  EXPECT_GE(r.measured_query_count, 20u);
  // Every query reached the server once.
  EXPECT_EQ(server.requests(), client.sut->stats().requests);
  EXPECT_EQ(client.sut->stats().http1_replies, client.sut->stats().requests);
}

TEST(HttpSutTest, KeepAliveReusesThePoolsConnections) {
  FaultHttpServer server;
  Client client(Spec(server, "/kserve", ",connections=3"));
  load::TestSettings s = Settings(load::Scenario::kOffline);
  s.min_query_count = 300;
  const load::ScenarioResult r = client.Run(s);
  EXPECT_TRUE(r.valid);
  EXPECT_GE(server.requests(), 300u);
  EXPECT_LE(server.connections(), 3u);
  EXPECT_EQ(client.sut->stats().connections_opened, server.connections());
}

TEST(HttpSutTest, ServerErrorsAreCountedByKindAndInvalidateAboveTheThreshold) {
  FaultHttpServer server;
  Client client(Spec(server, "/fail-every/10"));
  load::TestSettings s = Settings(load::Scenario::kOffline);
  s.min_query_count = 200;
  s.max_failed_query_fraction = 0.01;
  const load::ScenarioResult r = client.Run(s);
  EXPECT_FALSE(r.valid);
  const double fraction =
      static_cast<double>(Failed(r, FailureKind::kServerError)) / r.measured_query_count;
  EXPECT_NEAR(fraction, 0.1, 0.02);
  EXPECT_EQ(r.failed_query_count, Failed(r, FailureKind::kServerError));
  ASSERT_FALSE(r.failed_checks.empty());
  EXPECT_NE(r.failed_checks.back().find("http-5xx"), std::string::npos) << r.failed_checks.back();
  EXPECT_NE(
      client.sut->stats().first_failure[static_cast<std::size_t>(FailureKind::kServerError)].find(
          "HTTP 500"),
      std::string::npos);
  // The successful queries alone make the throughput.
  EXPECT_NEAR(r.throughput_per_s * r.measured_duration_s,
              static_cast<double>(r.measured_query_count - r.failed_query_count), 1.0);
}

TEST(HttpSutTest, FailuresWithinTheThresholdKeepTheRunValid) {
  FaultHttpServer server;
  Client client(Spec(server, "/fail-every/10"));
  load::TestSettings s = Settings(load::Scenario::kOffline);
  s.min_query_count = 200;
  s.max_failed_query_fraction = 0.2;
  const load::ScenarioResult r = client.Run(s);
  EXPECT_TRUE(r.valid);
  EXPECT_GT(Failed(r, FailureKind::kServerError), 0u);
  ASSERT_FALSE(r.warnings.empty());
}

TEST(HttpSutTest, ClientErrorsAreCountedAsHttp4xx) {
  FaultHttpServer server;
  Client client(Spec(server, "/status/404"));
  const load::ScenarioResult r = client.Run(Settings(load::Scenario::kServer));
  EXPECT_EQ(Failed(r, FailureKind::kClientError), r.measured_query_count);
  EXPECT_FALSE(r.valid);
}

TEST(HttpSutTest, SlowRepliesTimeOutAsFailedQueries) {
  FaultHttpServer server;
  Client client(Spec(server, "/slow/400", ",timeout=100ms,connections=16"));
  load::TestSettings s = Settings(load::Scenario::kServer, 50);
  const load::ScenarioResult r = client.Run(s);
  EXPECT_GT(r.measured_query_count, 0u);
  EXPECT_EQ(Failed(r, FailureKind::kTimeout), r.measured_query_count);
  // A timed-out query's latency is its timeout (libcurl's timer may fire a millisecond or so
  // early: it rounds to milliseconds on its own clock).
  EXPECT_GE(r.latency.min_ns, 95'000'000);
}

TEST(HttpSutTest, ARefusedConnectionIsCounted) {
  const std::uint16_t port = testing::FreeLoopbackPort();  // nothing listens there
  Client client("http:url=http://127.0.0.1:" + std::to_string(port) + "/x,model=m,seq_len=16");
  const load::ScenarioResult r = client.Run(Settings(load::Scenario::kServer, 100));
  EXPECT_GT(r.measured_query_count, 0u);
  EXPECT_EQ(Failed(r, FailureKind::kRefused), r.measured_query_count);
}

TEST(HttpSutTest, DroppedAndResetConnectionsAreResets) {
  FaultHttpServer server;
  for (const char* path : {"/drop", "/reset", "/truncate"}) {
    Client client(Spec(server, path));
    const load::ScenarioResult r = client.Run(Settings(load::Scenario::kServer, 100));
    EXPECT_GT(r.measured_query_count, 0u) << path;
    EXPECT_EQ(Failed(r, FailureKind::kReset), r.measured_query_count) << path;
  }
}

TEST(HttpSutTest, MalformedRepliesAreCountedAsMalformed) {
  FaultHttpServer server;
  // Not JSON; JSON without outputs (an OpenAI reply to a KServe client); not HTTP at all.
  for (const char* path : {"/garbage-json", "/openai", "/garbage-http"}) {
    Client client(Spec(server, path));
    const load::ScenarioResult r = client.Run(Settings(load::Scenario::kServer, 100));
    EXPECT_GT(r.measured_query_count, 0u) << path;
    EXPECT_EQ(Failed(r, FailureKind::kMalformed), r.measured_query_count) << path;
  }
}

TEST(HttpSutTest, LatencyCountsFromTheScheduledTimeWhenTheServerFallsBehind) {
  // One connection to a server that takes 20 ms per request: capacity 50/s. At 100/s the
  // queue grows by about 50 queries per second, so queries issued late in a 1 s run wait
  // about half a second for the connection. Measured from the send time, the latency would
  // stay near 20 ms (coordinated omission).
  FaultHttpServer server;
  Client client(Spec(server, "/slow/20", ",connections=1"));
  load::TestSettings s = Settings(load::Scenario::kServer, 100);
  s.min_duration_ms = 1000;
  const load::ScenarioResult r = client.Run(s);
  EXPECT_EQ(r.failed_query_count, 0u);
  EXPECT_GT(r.latency.p99_ns, 300'000'000) << r.latency.p99_ns;
  EXPECT_GT(r.latency.max_ns, 10 * r.latency.min_ns);
}

TEST(HttpSutTest, StreamedCompletionsGiveTimeToFirstTokenAndInterTokenLatency) {
  FaultHttpServer server;
  Client client("http:url=" + server.url("/sse/5/30") +
                ",protocol=openai-completions,model=m,seq_len=16,samples=4,connections=8");
  const load::ScenarioResult r = client.Run(Settings(load::Scenario::kServer, 40));
  EXPECT_TRUE(r.valid) << (r.failed_checks.empty() ? "" : r.failed_checks[0]);
  ASSERT_TRUE(r.tokens.has_value());
  EXPECT_EQ(r.tokens->queries, r.measured_query_count);
  EXPECT_EQ(r.tokens->tokens, 5 * r.measured_query_count);
  // Four gaps of 30 ms per reply; the first token comes at once.
  EXPECT_NEAR(r.tokens->inter_token_latency.p50_ns / 1e6, 30, 10);
  EXPECT_LT(r.tokens->time_to_first_token.p50_ns, 25'000'000);
  EXPECT_NEAR(r.tokens->time_per_output_token.p50_ns / 1e6, 30, 10);
  // The whole reply takes the four gaps.
  EXPECT_GE(r.latency.p50_ns, 110'000'000);
}

TEST(HttpSutTest, StreamedChatDeltasCountAsTokens) {
  FaultHttpServer server;
  Client client("http:url=" + server.url("/sse-chat/3/0") +
                ",protocol=openai-chat,model=m,seq_len=16,samples=4");
  const load::ScenarioResult r = client.Run(Settings(load::Scenario::kServer, 50));
  ASSERT_TRUE(r.tokens.has_value());
  EXPECT_EQ(r.tokens->tokens, 3 * r.measured_query_count);
  EXPECT_EQ(r.failed_query_count, 0u);
}

TEST(HttpSutTest, StreamsWithoutDoneOrWithGarbageAreMalformed) {
  FaultHttpServer server;
  for (const char* path : {"/sse-no-done/3", "/sse-garbage"}) {
    Client client("http:url=" + server.url(path) +
                  ",protocol=openai-completions,model=m,seq_len=16,samples=4");
    const load::ScenarioResult r = client.Run(Settings(load::Scenario::kServer, 50));
    EXPECT_GT(r.measured_query_count, 0u) << path;
    // A stream cut off after its chunks is either malformed (no [DONE]) or a reset (the
    // chunked encoding's end is missing), never a success.
    EXPECT_EQ(Failed(r, FailureKind::kMalformed) + Failed(r, FailureKind::kReset),
              r.measured_query_count)
        << path;
    EXPECT_FALSE(r.tokens.has_value()) << path;
  }
}

TEST(HttpSutTest, Http2MultiplexesOnOneTlsConnectionToNghttpd) {
  const std::string nghttpd = "/usr/sbin/nghttpd";
  ASSERT_TRUE(std::filesystem::exists(nghttpd))
      << "nghttpd is missing: scripts/install-deps.sh installs nghttp2-server";
  testing::TempDir dir;
  const auto body = dir.Write("body.json", R"({"inputs":[]})");
  const std::string key = (dir.path() / "key.pem").string();
  const std::string cert = (dir.path() / "cert.pem").string();
  // A self-signed certificate for 127.0.0.1, so that HTTP/2 is negotiated by TLS ALPN and the
  // client verifies the server (cacert=).
  const auto made = testing::RunProcess(
      "/usr/bin/openssl",
      {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
       "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::uint16_t port = testing::FreeLoopbackPort();
  // --echo-upload: a POST's body comes back as the reply.
  testing::BackgroundProcess server(
      nghttpd, {"--echo-upload", "--address=127.0.0.1", "-d", dir.path().string(),
                std::to_string(port), key, cert});
  // nghttpd prints nothing when it is ready: wait until it accepts connections.
  ASSERT_TRUE(testing::WaitForLoopbackPort(port, std::chrono::seconds(10)));
  Client client("http:url=https://127.0.0.1:" + std::to_string(port) +
                "/echo,protocol=raw,http=2,connections=1,streams=32,cacert=" + cert +
                ",body=" + body.string());
  load::TestSettings s = Settings(load::Scenario::kOffline);
  s.min_query_count = 200;
  const load::ScenarioResult r = client.Run(s);
  EXPECT_TRUE(r.valid) << Why(r, *client.sut);
  const HttpSutStats stats = client.sut->stats();
  EXPECT_GE(stats.requests, 200u);
  EXPECT_EQ(stats.http2_replies, stats.requests);
  EXPECT_EQ(stats.http1_replies, 0u);
  EXPECT_EQ(stats.connections_opened, 1u);
  // The echo of our body, byte for byte, for every request.
  EXPECT_EQ(stats.reply_bytes, stats.requests * std::string(R"({"inputs":[]})").size());
  server.Signal(SIGTERM);
}

TEST(HttpSutTest, CleartextHttp2OnAnOldLibcurlIsRefusedWithTheReason) {
  FaultHttpServer server;
  if (curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000) {
    // A libcurl that reuses h2c connections: the SUT is built.
    EXPECT_NO_THROW(Client(Spec(server, "/kserve", ",http=2")));
    return;
  }
  try {
    Client client(Spec(server, "/kserve", ",http=2"));
    FAIL() << "h2c must be refused on libcurl " << curl_version_info(CURLVERSION_NOW)->version;
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("use an https:// URL"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace joulebench::http
