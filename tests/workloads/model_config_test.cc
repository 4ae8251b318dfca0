#include "joulebench/workloads/model_config.h"

#include <gtest/gtest.h>

#include "joulebench/error.h"

namespace joulebench::workloads {
namespace {

TEST(FindModel, KnowsTheStudyShapes) {
  const ModelConfig large = FindModel("bert-large");
  EXPECT_EQ(large.hidden_size, 1024);
  EXPECT_EQ(large.num_layers, 24);
  EXPECT_EQ(large.num_heads, 16);
  EXPECT_EQ(large.intermediate_size, 4096);
  EXPECT_EQ(large.vocab_size, 30522);
  const ModelConfig layoutlm = FindModel("layoutlm-base");
  EXPECT_EQ(layoutlm.family, ModelFamily::kLayoutLM);
  EXPECT_EQ(layoutlm.hidden_size, 768);
  EXPECT_EQ(layoutlm.max_2d_positions, 1024);
  EXPECT_EQ(layoutlm.max_positions, 512);
}

TEST(FindModel, UnknownNameListsTheKnownOnes) {
  try {
    FindModel("gpt-5");
    FAIL();
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'gpt-5'"), std::string::npos);
    EXPECT_NE(what.find("bert-base, bert-large, layoutlm-base, layoutlm-large"), std::string::npos)
        << what;
  }
}

TEST(EncoderForwardFlops, BertBaseAt128TokensIsAbout22Gflop) {
  // 12 layers x 2 x (4*128*768^2 + 2*128*768*3072 + 2*128^2*768) = 22.35e9.
  EXPECT_NEAR(EncoderForwardFlops(FindModel("bert-base"), 128), 22.35e9, 0.01e9);
}

TEST(EncoderForwardFlops, LayoutLMAddsItsClassifier) {
  ModelConfig bert = FindModel("bert-base");
  ModelConfig layoutlm = FindModel("layoutlm-base");
  EXPECT_DOUBLE_EQ(EncoderForwardFlops(layoutlm, 512) - EncoderForwardFlops(bert, 512),
                   2.0 * 512 * 768 * 13);
}

TEST(MlmTrainingFlops, IsThreeTimesForwardPlusHead) {
  ModelConfig bert = FindModel("bert-large");
  const double forward = EncoderForwardFlops(bert, 128);
  const double head = 2.0 * 20 * (1024.0 * 1024 + 1024.0 * 30522);
  EXPECT_DOUBLE_EQ(MlmTrainingFlops(bert, 128, 20), 3 * (forward + head));
}

}  // namespace
}  // namespace joulebench::workloads
