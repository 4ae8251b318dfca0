#include "joulebench/plan/candidate_spec.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "joulebench/error.h"
#include "support/temp_dir.h"

namespace joulebench::plan {
namespace {

const std::filesystem::path kData = std::filesystem::path(JOULEBENCH_SOURCE_DIR) / "data";

class CandidateSpecTest : public ::testing::Test {
 protected:
  CandidateSpecTest()
      : catalog_(Catalog::Load(kData / "instances.csv", kData / "instance_power_curves.csv",
                               kData / "gpu_power.csv")) {
    context_.catalog = &catalog_;
    context_.runs = &runs_;
  }

  // Writes an infer run with a measured curve and returns its path.
  std::string WriteInferRun(bool with_curve) {
    run::RunRecord r;
    r.id = "run-42";
    r.kind = "infer";
    r.status = run::RunStatus::kComplete;
    r.metrics.push_back({"peak_throughput", 120, "1/s", "measured: loadgen"});
    r.metrics.push_back({"measurement_power", 210, "W", "measured: rapl+nvml"});
    r.metrics.push_back({"latency_p99", 0.04, "s", "measured"});
    if (with_curve) {
      for (double load : {0.0, 0.25, 0.5, 0.75, 1.0}) {
        run::LoadLevelPoint p;
        p.load_fraction = load;
        p.watts_total = 90 + 120 * load;
        r.power_curve.push_back(p);
      }
    }
    return dir_.Write("run.json", run::ToJson(r).dump()).string();
  }

  testing::TempDir dir_;
  Catalog catalog_;
  DefaultRunResolver runs_;
  CandidateContext context_;
};

TEST_F(CandidateSpecTest, ParsesKeyValuePairs) {
  const auto spec = ParseCandidateSpec("name=inf1.2xlarge, throughput=54/s,power=60W", "#1");
  ASSERT_EQ(spec.fields.size(), 3u);
  EXPECT_EQ(*spec.Find("throughput"), "54/s");
  EXPECT_EQ(spec.Find("price"), nullptr);
}

TEST_F(CandidateSpecTest, RejectsUnknownRepeatedAndEmptyKeys) {
  EXPECT_THROW(ParseCandidateSpec("name=a,speed=3/s", "#1"), InputError);
  EXPECT_THROW(ParseCandidateSpec("name=a,name=b", "#1"), InputError);
  EXPECT_THROW(ParseCandidateSpec("name=", "#1"), InputError);
  EXPECT_THROW(ParseCandidateSpec("inf1", "#1"), InputError);
}

TEST_F(CandidateSpecTest, GivenFiguresWithCatalogPrice) {
  const auto c = ResolveInferenceCandidate(
      ParseCandidateSpec("name=inf1.2xlarge,throughput=54/s,power=60W,source=my notes", "#1"),
      context_);
  EXPECT_EQ(c.machine_type, "inf1.2xlarge");
  EXPECT_DOUBLE_EQ(c.throughput_per_s.value, 54);
  EXPECT_EQ(c.throughput_per_s.provenance.rfind("given: my notes", 0), 0u);
  EXPECT_EQ(c.power.kind(), CurveKind::kPeakOnly);
  EXPECT_DOUBLE_EQ(c.price_usd_per_hour->value, 0.362);
  EXPECT_EQ(c.price_usd_per_hour->provenance.rfind("catalog: inf1.2xlarge", 0), 0u);
}

TEST_F(CandidateSpecTest, CatalogCurveWhenNoPowerIsGiven) {
  const auto c = ResolveInferenceCandidate(
      ParseCandidateSpec("name=g4dn.2xlarge,throughput=8.6/s", "#1"), context_);
  EXPECT_EQ(c.power.kind(), CurveKind::kCatalog);
  EXPECT_DOUBLE_EQ(c.power.WattsAt(0.5), 100.0);
}

TEST_F(CandidateSpecTest, MissingPowerSaysHowToGiveIt) {
  try {
    ResolveInferenceCandidate(ParseCandidateSpec("name=trn1.32xlarge,throughput=9/s", "#1"),
                              context_);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no power; give power="), std::string::npos) << e.what();
  }
}

TEST_F(CandidateSpecTest, UnknownMachineTypeSuggestsClosest) {
  try {
    ResolveInferenceCandidate(ParseCandidateSpec("type=g4dn.2xlrge,throughput=8/s", "#1"),
                              context_);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("g4dn.2xlarge"), std::string::npos) << e.what();
  }
}

TEST_F(CandidateSpecTest, MeasuredRunGivesThroughputCurveAndLatency) {
  const std::string path = WriteInferRun(true);
  const auto c = ResolveInferenceCandidate(
      ParseCandidateSpec("name=mine,run=" + path + ",price=1.5/h", "#1"), context_);
  EXPECT_DOUBLE_EQ(c.throughput_per_s.value, 120);
  EXPECT_EQ(c.throughput_per_s.provenance.rfind("measured run: run run-42", 0), 0u);
  EXPECT_EQ(c.power.kind(), CurveKind::kMeasuredRun);
  EXPECT_DOUBLE_EQ(c.power.WattsAt(0.5), 150);
  EXPECT_DOUBLE_EQ(c.latency_p99_s->value, 0.04);
  EXPECT_DOUBLE_EQ(c.price_usd_per_hour->value, 1.5);
}

TEST_F(CandidateSpecTest, RunWithoutCurveUsesItsMeanPowerAsPeak) {
  const auto c = ResolveInferenceCandidate(
      ParseCandidateSpec("name=mine,run=" + WriteInferRun(false), "#1"), context_);
  EXPECT_EQ(c.power.kind(), CurveKind::kPeakOnly);
  EXPECT_DOUBLE_EQ(c.power.PeakWatts(), 210);
  EXPECT_FALSE(c.price_usd_per_hour);
  EXPECT_NE(c.price_missing_reason.find("--instance-type"), std::string::npos);
}

TEST_F(CandidateSpecTest, ThisMachineTypeGivesARunItsPrice) {
  context_.this_machine_type = "g4dn.2xlarge";
  const auto c = ResolveInferenceCandidate(
      ParseCandidateSpec("name=mine,run=" + WriteInferRun(false), "#1"), context_);
  EXPECT_DOUBLE_EQ(c.price_usd_per_hour->value, 0.752);
  EXPECT_EQ(c.machine_type, "g4dn.2xlarge");
}

TEST_F(CandidateSpecTest, InferRunIsNotATrainCandidate) {
  EXPECT_THROW(ResolveTrainingCandidate(
                   ParseCandidateSpec("name=m,run=" + WriteInferRun(false), "#1"), context_),
               InputError);
}

TEST_F(CandidateSpecTest, MissingRunFileIsNamed) {
  try {
    ResolveInferenceCandidate(ParseCandidateSpec("name=m,run=/nonexistent/run.json", "#1"),
                              context_);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/run.json"), std::string::npos);
  }
}

TEST_F(CandidateSpecTest, RegisteredLookupResolvesStoredRunIds) {
  RegisterRunLookup([](std::string_view id) -> std::optional<run::RunRecord> {
    if (id != "17") return std::nullopt;
    run::RunRecord r;
    r.id = "17";
    r.kind = "train";
    r.status = run::RunStatus::kComplete;
    r.metrics.push_back({"sequences_per_s", 11, "1/s", "measured"});
    r.metrics.push_back({"mean_power", 300, "W", "measured"});
    return r;
  });
  const auto c = ResolveTrainingCandidate(ParseCandidateSpec("name=x,run=17", "#1"), context_);
  EXPECT_DOUBLE_EQ(c.sequences_per_s.value, 11);
  EXPECT_DOUBLE_EQ(c.watts.value, 300);
  EXPECT_NE(c.watts.provenance.find("stored run 17"), std::string::npos);
  EXPECT_THROW(ResolveTrainingCandidate(ParseCandidateSpec("name=x,run=18", "#1"), context_),
               InputError);
  RegisterRunLookup(nullptr);
}

TEST(ParseFigures, PowerAndPriceNeedUnits) {
  EXPECT_DOUBLE_EQ(ParsePowerWatts("6.5kW", "p"), 6500);
  EXPECT_DOUBLE_EQ(ParsePowerWatts("60 W", "p"), 60);
  EXPECT_THROW(ParsePowerWatts("60", "p"), InputError);
  EXPECT_THROW(ParsePowerWatts("60J", "p"), InputError);
  EXPECT_THROW(ParsePowerWatts("-5W", "p"), InputError);
  EXPECT_DOUBLE_EQ(ParsePriceUsdPerHour("$0.362/h", "p"), 0.362);
  EXPECT_NEAR(ParsePriceUsdPerHour("24/d", "p"), 1.0, 1e-12);
  EXPECT_THROW(ParsePriceUsdPerHour("0.362", "p"), InputError);
}

TEST(ParseFigures, APowerOrPriceOutsideADoubleIsRefused) {
  // 1e303 MW was an infinite power and 1e-320 mW a zero one; 1e306 dollars a second an
  // infinite price per hour. Plans printed them as "inf".
  EXPECT_THROW(ParsePowerWatts("1e303MW", "p"), InputError);
  EXPECT_THROW(ParsePowerWatts("1e-320mW", "p"), InputError);
  EXPECT_THROW(ParsePriceUsdPerHour("1e306/s", "p"), InputError);
  EXPECT_DOUBLE_EQ(ParsePowerWatts("1e300MW", "p"), 1e306);
}

}  // namespace
}  // namespace joulebench::plan
