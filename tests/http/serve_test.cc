// `joulebench serve` as a real server on loopback: the KServe v2 endpoints, bad requests,
// and `joulebench loadgen --sut http:...` against it.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "joulebench/http/http_sut.h"
#include "support/background_process.h"
#include "support/fault_http_server.h"
#include "support/run_cli.h"

namespace joulebench::http {
namespace {

using nlohmann::json;
using testing::SimpleHttpRequest;

bool ServeAvailable() { return testing::RunJoulebench({"serve", "--help"}).exit_code == 0; }

// `joulebench serve` of a tiny LayoutLM on an ephemeral port, stopped by the destructor.
class Served {
 public:
  explicit Served(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"serve", "--model", "layoutlm-tiny", "--listen",
                                     "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    process_ = std::make_unique<testing::BackgroundProcess>(JOULEBENCH_BIN, args);
    if (!process_->WaitForOutput("/infer", std::chrono::seconds(60))) return;
    std::smatch m;
    const std::string& out = process_->out();
    if (std::regex_search(out, m, std::regex(R"(on http://127\.0\.0\.1:(\d+))"))) {
      port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
    }
  }
  ~Served() {
    if (process_) {
      process_->Signal(SIGTERM);
      process_->Finish();
    }
  }
  testing::ProcessResult Stop() {
    process_->Signal(SIGTERM);
    auto r = process_->Finish();
    process_.reset();
    return r;
  }
  std::uint16_t port() const { return port_; }

 private:
  std::unique_ptr<testing::BackgroundProcess> process_;
  std::uint16_t port_ = 0;
};

// One synthetic document as the HTTP SUT sends it.
std::string DocumentBody(std::int64_t seq_len) {
  HttpSutSpec spec =
      ParseHttpSutSpec("http:url=http://127.0.0.1:1,model=layoutlm-tiny,samples=1,seq_len=" +
                       std::to_string(seq_len));
  return std::string(MakePayloads(spec)->Body(0));
}

TEST(ServeTest, AnswersHealthAndMetadata) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libtorch: no serve command";
  Served served;
  ASSERT_NE(served.port(), 0);
  EXPECT_EQ(SimpleHttpRequest(served.port(), "GET", "/v2/health/ready").status, 200);
  EXPECT_EQ(SimpleHttpRequest(served.port(), "GET", "/v2/health/live").status, 200);
  const auto meta = SimpleHttpRequest(served.port(), "GET", "/v2/models/layoutlm-tiny");
  ASSERT_EQ(meta.status, 200);
  const json m = json::parse(meta.body);
  EXPECT_EQ(m["name"], "layoutlm-tiny");
  ASSERT_EQ(m["inputs"].size(), 4u);
  EXPECT_EQ(m["inputs"][3]["name"], "bbox");
  EXPECT_EQ(m["outputs"][0]["shape"], json({-1, -1, 13}));
  EXPECT_EQ(SimpleHttpRequest(served.port(), "GET", "/v2/models/bert-large").status, 404);
}

TEST(ServeTest, InferReturnsLogitsForEveryToken) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libtorch: no serve command";
  Served served;
  ASSERT_NE(served.port(), 0);
  const auto reply =
      SimpleHttpRequest(served.port(), "POST", "/v2/models/layoutlm-tiny/infer", DocumentBody(24));
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json j = json::parse(reply.body);
  const json& out = j["outputs"][0];
  EXPECT_EQ(out["name"], "logits");
  EXPECT_EQ(out["shape"], json({1, 24, 13}));
  ASSERT_EQ(out["data"].size(), 24u * 13u);
  // Random weights still give distinct, finite logits.
  EXPECT_NE(out["data"][0].get<double>(), out["data"][1].get<double>());
  // The same document twice gives the same logits (no state leaks between requests).
  const auto again =
      SimpleHttpRequest(served.port(), "POST", "/v2/models/layoutlm-tiny/infer", DocumentBody(24));
  EXPECT_EQ(json::parse(again.body)["outputs"][0]["data"], out["data"]);
}

TEST(ServeTest, BadRequestsGetA400ThatSaysWhy) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libtorch: no serve command";
  Served served;
  ASSERT_NE(served.port(), 0);
  const std::string path = "/v2/models/layoutlm-tiny/infer";
  auto bad = SimpleHttpRequest(served.port(), "POST", path, "{not json");
  EXPECT_EQ(bad.status, 400);
  bad = SimpleHttpRequest(
      served.port(), "POST", path,
      R"({"inputs":[{"name":"input_ids","datatype":"INT64","shape":[1,3],"data":[101,99999,102]}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("vocabulary"), std::string::npos) << bad.body;
  bad = SimpleHttpRequest(
      served.port(), "POST", path,
      R"({"inputs":[{"name":"pixels","datatype":"FP32","shape":[1],"data":[1]}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("pixels"), std::string::npos) << bad.body;
  EXPECT_EQ(SimpleHttpRequest(served.port(), "GET", path).status, 405);
  // 2^62 x 4 overflowed to 0 elements: this request once crashed the server.
  bad = SimpleHttpRequest(served.port(), "POST", path,
                          R"({"inputs":[{"name":"input_ids","datatype":"INT64",)"
                          R"("shape":[4611686018427387904,4],"data":[]}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("elements"), std::string::npos) << bad.body;
  // The server still serves after bad requests.
  EXPECT_EQ(SimpleHttpRequest(served.port(), "POST", path, DocumentBody(8)).status, 200);
}

TEST(ServeTest, LoadgenOverHttpAgainstServeIsValidAndCountsEveryRequest) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libtorch: no serve command";
  Served served({"--max-batch", "4", "--max-delay", "1ms"});
  ASSERT_NE(served.port(), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(served.port());
  // A modest rate and a loose bound: the test is about the requests, not the latency (a
  // loaded CI machine may serve slowly).
  const auto r = testing::RunJoulebench(
      {"loadgen", "--sut", "http:url=" + url + ",model=layoutlm-tiny,seq_len=32,connections=4",
       "--scenario", "server", "--rate", "20", "--latency-bound", "20s", "--duration", "1s",
       "--min-queries", "10", "--no-steady-state", "--no-energy", "--no-store"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict: VALID"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(http: (\d+) requests)"))) << r.out;
  const int requests = std::stoi(m[1]);
  EXPECT_GE(requests, 10);
  const auto stopped = served.Stop();
  // The server saw exactly the requests the client completed.
  EXPECT_NE(stopped.out.find("served " + std::to_string(requests) + " inference requests"),
            std::string::npos)
      << stopped.out;
}

TEST(ServeTest, ListeningOnABusyPortIsOneClearLine) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libtorch: no serve command";
  testing::FaultHttpServer busy;
  const auto r = testing::RunJoulebench({"serve", "--model", "layoutlm-tiny", "--listen",
                                         "127.0.0.1:" + std::to_string(busy.port())});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace joulebench::http
