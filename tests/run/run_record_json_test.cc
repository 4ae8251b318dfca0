#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "joulebench/error.h"
#include "joulebench/run/run_record.h"
#include "support/sample_run_record.h"

namespace joulebench::run {
namespace {

using nlohmann::json;

TEST(RunRecordJson, EveryFieldSurvivesARoundTripThroughText) {
  RunRecord original = testing::SampleRunRecord();
  std::string text = ToJson(original).dump();
  RunRecord back = RunRecordFromJson(json::parse(text));
  testing::ExpectSameRunRecord(original, back);
}

TEST(RunRecordJson, EnergyReportSurvivesARoundTrip) {
  RunRecord original = testing::SampleRunRecord();
  for (const auto& report : original.energy) {
    sampling::EnergyReport back = EnergyReportFromJson(json::parse(ToJson(report).dump()));
    testing::ExpectSameEnergyReport(report, back);
  }
}

TEST(RunRecordJson, NonFiniteNumbersComeBackAsNaN) {
  RunRecord r = testing::SampleRunRecord(3);
  r.timeline.joules[2][1] = std::numeric_limits<double>::quiet_NaN();
  r.timeline.joules[2][2] = std::numeric_limits<double>::infinity();
  RunRecord back = RunRecordFromJson(json::parse(ToJson(r).dump()));
  EXPECT_TRUE(std::isnan(back.timeline.joules[2][1]));
  EXPECT_TRUE(std::isnan(back.timeline.joules[2][2]));
  EXPECT_EQ(back.timeline.joules[2][0], r.timeline.joules[2][0]);
}

TEST(RunRecordJson, DocumentNamesItsSchemaAndStatusAsText) {
  json j = ToJson(testing::SampleRunRecord(2));
  EXPECT_EQ(j["schema"], "joulebench.run/1");
  EXPECT_EQ(j["status"], "complete");
  EXPECT_EQ(j["start_time"], "2026-11-29T09:30:00Z");
  EXPECT_EQ(j["timeline"]["domains"][2]["provenance"]["kind"], "modelled");
  EXPECT_EQ(j["timeline"]["domains"][2]["signal"], "gauge");
  EXPECT_EQ(j["timeline"]["domains"][1]["component"], "dram");
}

TEST(RunRecordJson, UnsetOptionalsStayUnset) {
  RunRecord r;
  r.kind = "measure";
  RunRecord back = RunRecordFromJson(json::parse(ToJson(r).dump()));
  EXPECT_FALSE(back.steady_state_at_s.has_value());
  EXPECT_EQ(back.status, RunStatus::kRunning);
  EXPECT_TRUE(back.timeline.time_s.empty());
}

TEST(RunRecordJson, WrongTypeNamesTheFieldPath) {
  json j = ToJson(testing::SampleRunRecord(2));
  j["metrics"][1]["value"] = "lots";
  try {
    RunRecordFromJson(j);
    FAIL() << "accepted a string as a metric value";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("run.metrics[1].value"), std::string::npos) << e.what();
  }
}

TEST(RunRecordJson, RejectsTimelineSeriesOfWrongLength) {
  json j = ToJson(testing::SampleRunRecord(4));
  j["timeline"]["joules"][0].erase(0);
  EXPECT_THROW(RunRecordFromJson(j), InputError);
}

TEST(RunRecordJson, RejectsUnknownStatusComponentAndSchema) {
  json j = ToJson(testing::SampleRunRecord(2));
  json bad_status = j;
  bad_status["status"] = "exploded";
  EXPECT_THROW(RunRecordFromJson(bad_status), InputError);
  json bad_component = j;
  bad_component["timeline"]["domains"][0]["component"] = "flux-capacitor";
  EXPECT_THROW(RunRecordFromJson(bad_component), InputError);
  json bad_schema = j;
  bad_schema["schema"] = "joulebench.run/99";
  EXPECT_THROW(RunRecordFromJson(bad_schema), InputError);
  EXPECT_THROW(RunRecordFromJson(json::array()), InputError);
}

TEST(RunStatus, NamesParseBack) {
  for (RunStatus s :
       {RunStatus::kRunning, RunStatus::kComplete, RunStatus::kIncomplete, RunStatus::kFailed}) {
    EXPECT_EQ(ParseRunStatus(RunStatusName(s)), s);
  }
  EXPECT_THROW(ParseRunStatus("done"), InputError);
}

TEST(RunRecord, FindMetricByName) {
  RunRecord r = testing::SampleRunRecord(1);
  ASSERT_NE(r.FindMetric("p99_latency"), nullptr);
  EXPECT_EQ(r.FindMetric("p99_latency")->value, 0.0875);
  EXPECT_EQ(r.FindMetric("nonexistent"), nullptr);
}

}  // namespace
}  // namespace joulebench::run
