// The logits `joulebench serve` returns over HTTP are the in-process model's: the same
// weights (same seed) on the same synthetic document, to the 6 significant digits the JSON
// carries.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include "joulebench/http/http_sut.h"
#include "joulebench/workloads/encoder_inference.h"
#include "joulebench/workloads/model_config.h"
#include "support/background_process.h"
#include "support/fault_http_server.h"

namespace joulebench::workloads {
namespace {

TEST(ServeLogitsTest, HttpLogitsEqualTheInProcessModels) {
  testing::BackgroundProcess served(
      JOULEBENCH_BIN, {"serve", "--model", "layoutlm-tiny", "--listen", "127.0.0.1:0", "--seed",
                       "3", "--max-batch", "1"});
  ASSERT_TRUE(served.WaitForOutput("/infer", std::chrono::seconds(60)));
  std::smatch m;
  const std::string out = served.out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(on http://127\.0\.0\.1:(\d+))"))) << out;
  const auto port = static_cast<std::uint16_t>(std::stoi(m[1]));

  const auto spec = http::ParseHttpSutSpec(
      "http:url=http://127.0.0.1:1,model=layoutlm-tiny,samples=1,seq_len=40,seed=9");
  const auto reply = testing::SimpleHttpRequest(port, "POST", "/v2/models/layoutlm-tiny/infer",
                                                std::string(http::MakePayloads(spec)->Body(0)));
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto over_http = nlohmann::json::parse(reply.body)["outputs"][0]["data"];

  // The document the payload was made of, and the model serve built.
  const ModelConfig config = FindModel("layoutlm-tiny");
  DocumentGenerator documents({.seq_len = 40, .vocab_size = config.vocab_size, .seed = 9});
  EncoderInference model(config, {.seed = 3});
  const std::vector<float> in_process = model.RunAndFetch(documents.Next(1));
  ASSERT_EQ(over_http.size(), in_process.size());
  for (std::size_t i = 0; i < in_process.size(); ++i) {
    const double a = over_http[i].get<double>();
    ASSERT_NEAR(a, in_process[i], 1e-5 + 1e-5 * std::fabs(in_process[i])) << "logit " << i;
  }
  served.Signal(SIGTERM);
}

}  // namespace
}  // namespace joulebench::workloads
