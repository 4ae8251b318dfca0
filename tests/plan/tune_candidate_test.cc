// A tune run as a planning candidate: `run=ID` of a tune run stands for the configuration the
// search chose (its metrics), named after it; a search that chose nothing is refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "joulebench/error.h"
#include "joulebench/plan/candidate_spec.h"
#include "support/temp_dir.h"

namespace joulebench::plan {
namespace {

const std::filesystem::path kData = std::filesystem::path(JOULEBENCH_SOURCE_DIR) / "data";

run::RunRecord TuneRun(const std::string& mode) {
  run::RunRecord r;
  r.id = "9";
  r.kind = "tune";
  r.name = "layoutlm-base";
  r.status = run::RunStatus::kComplete;
  r.verdict = "VALID";
  r.config["tune"] = {{"mode", mode},
                      {"chosen", {{"name", "int8 t2 b8 d0"}, {"rung", 2}, {"knobs", {}}}}};
  // The chosen configuration's figures, and the default's under other names.
  r.metrics.push_back({"throughput", 41.5, "1/s", "measured: tune probe 'int8 t2 b8 d0'"});
  r.metrics.push_back({"sequences_per_s", 12.5, "1/s", "measured: tune probe"});
  r.metrics.push_back({"latency_p99", 0.09, "s", "measured: tune probe"});
  r.metrics.push_back({"mean_power", 33.0, "W", "modelled: ccf"});
  r.metrics.push_back({"default_throughput", 9.0, "1/s", "measured: tune probe 'fp32 t1 b1 d0'"});
  r.metrics.push_back({"default_mean_power", 30.0, "W", "modelled: ccf"});
  return r;
}

class TuneCandidate : public ::testing::Test {
 protected:
  TuneCandidate()
      : catalog_(Catalog::Load(kData / "instances.csv", kData / "instance_power_curves.csv",
                               kData / "gpu_power.csv")) {
    context_.catalog = &catalog_;
    context_.runs = &runs_;
  }
  std::string Write(const run::RunRecord& r) {
    return dir_.Write("tune.json", run::ToJson(r).dump()).string();
  }
  testing::TempDir dir_;
  Catalog catalog_;
  DefaultRunResolver runs_;
  CandidateContext context_;
};

TEST_F(TuneCandidate, InferenceTakesTheChosenConfigurationsFigures) {
  const auto spec = ParseCandidateSpec("run=" + Write(TuneRun("infer")) + ",price=1/h", "#1");
  const InferenceCandidate c = ResolveInferenceCandidate(spec, context_);
  EXPECT_EQ(c.name, "layoutlm-base tuned (int8 t2 b8 d0)");
  EXPECT_DOUBLE_EQ(c.throughput_per_s.value, 41.5);
  EXPECT_DOUBLE_EQ(c.power.PeakWatts(), 33.0);
  ASSERT_TRUE(c.latency_p99_s.has_value());
  EXPECT_DOUBLE_EQ(c.latency_p99_s->value, 0.09);
  bool noted = false;
  for (const auto& n : c.notes)
    noted |= n.find("chosen configuration 'int8 t2 b8 d0'") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST_F(TuneCandidate, TrainingTakesTheChosenConfigurationsRate) {
  const auto spec = ParseCandidateSpec("run=" + Write(TuneRun("train")) + ",price=1/h", "#1");
  const TrainingCandidate c = ResolveTrainingCandidate(spec, context_);
  EXPECT_DOUBLE_EQ(c.sequences_per_s.value, 12.5);
  EXPECT_DOUBLE_EQ(c.watts.value, 33.0);
}

TEST_F(TuneCandidate, ATrainTuneIsRefusedForInferenceAndTheOtherWayRound) {
  const auto train = ParseCandidateSpec("run=" + Write(TuneRun("train")), "#1");
  EXPECT_THROW(ResolveInferenceCandidate(train, context_), InputError);
  const auto infer = ParseCandidateSpec("run=" + Write(TuneRun("infer")), "#1");
  EXPECT_THROW(ResolveTrainingCandidate(infer, context_), InputError);
}

TEST_F(TuneCandidate, ASearchThatChoseNothingIsRefusedSayingWhy) {
  run::RunRecord r = TuneRun("infer");
  r.verdict = "INVALID";
  r.verdict_reasons = {"no configuration was VALID"};
  r.config["tune"].erase("chosen");
  const auto spec = ParseCandidateSpec("run=" + Write(r), "#1");
  try {
    ResolveInferenceCandidate(spec, context_);
    FAIL() << "accepted a tune run without a chosen configuration";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("chose no configuration (no configuration was VALID)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace joulebench::plan
