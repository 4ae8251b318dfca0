#include "joulebench/workloads/mlm_trainer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "joulebench/error.h"

namespace joulebench::workloads {
namespace {

TEST(MlmTrainer, TinyBertLossFallsOnAFixedCorpus) {
  TrainOptions options;
  options.torch.seed = 3;
  options.seq_len = 32;
  options.batch_size = 16;
  options.learning_rate = 2e-3;
  options.warmup_steps = 5;
  options.corpus_batches = 4;
  MlmTrainer trainer(FindModel("bert-tiny"), options);
  double first = 0, last = 0;
  constexpr int kSteps = 60;
  for (int i = 0; i < kSteps; ++i) {
    const TrainStep step = trainer.Step();
    ASSERT_EQ(step.sequences, 16);
    if (i < 4) first += step.loss / 4;
    if (i >= kSteps - 4) last += step.loss / 4;
  }
  // Untrained, the loss is about ln(512) = 6.2; a model that has learnt the corpus's word
  // frequencies and some of its tokens is well below.
  EXPECT_NEAR(first, std::log(512.0), 0.5);
  EXPECT_LT(last, first - 1.0) << "first " << first << " last " << last;
}

TEST(MlmTrainer, GradientAccumulationMultipliesSequencesPerStep) {
  TrainOptions options;
  options.seq_len = 16;
  options.batch_size = 2;
  options.grad_accum = 3;
  MlmTrainer trainer(FindModel("bert-tiny"), options);
  const TrainStep step = trainer.Step();
  EXPECT_EQ(step.sequences, 6);
  EXPECT_EQ(step.predicted_tokens, 6 * 2);  // round(14 * 0.15) = 2 per sequence
  EXPECT_GT(trainer.FlopsPerStep(), 0);
}

TEST(MlmTrainer, SequenceLongerThanPositionsIsAnInputError) {
  TrainOptions options;
  options.seq_len = 513;
  EXPECT_THROW(MlmTrainer(FindModel("bert-tiny"), options), InputError);
}

}  // namespace
}  // namespace joulebench::workloads
