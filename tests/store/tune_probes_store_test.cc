// A tune run's probes in the store (schema version 5) and in run JSON: every field back, the
// optional ones left unset where a probe has none.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>

#include "joulebench/run/run_record.h"
#include "joulebench/store/run_store.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "support/sample_run_record.h"
#include "support/temp_dir.h"

namespace joulebench::store {
namespace {

run::RunRecord TuneRecord() {
  run::RunRecord r = testing::SampleRunRecord(30);
  r.kind = "tune";
  run::TuneProbe measured;
  measured.name = "int8 t2 b8 d5ms";
  measured.knobs = {{"dtype", "int8"}, {"threads", 2}, {"max_batch", 8}, {"max_delay_s", 0.005}};
  measured.rung = 1;
  measured.probe_duration_s = 4;
  measured.outcome = "measured";
  measured.verdict = "VALID";
  measured.rate_per_s = 41.5;
  measured.throughput_per_s = 41.25;
  measured.latency_s = 0.0875;
  measured.mean_watts = 31.5;
  measured.joules_per_unit = 0.76;
  measured.joules_per_unit_attributable = 0.51;
  measured.energy_provenance = "modelled: ccf-2026";
  measured.accuracy_max_abs_diff = 0.031;
  measured.accuracy_cosine = 0.99968;
  measured.accuracy_argmax_agreement = 0.995;
  measured.elapsed_s = 23.5;
  measured.chosen = true;
  measured.pareto = true;
  // fp32: no accuracy figures, no baseline; INVALID with a reason.
  run::TuneProbe invalid;
  invalid.name = "fp32 t1 b16 d0";
  invalid.knobs = {{"dtype", "fp32"}, {"threads", 1}, {"max_batch", 16}, {"max_delay_s", 0}};
  invalid.outcome = "measured";
  invalid.verdict = "INVALID";
  invalid.reasons = {"no rate met the latency bound"};
  invalid.rate_per_s = NAN;
  invalid.elapsed_s = 9;
  run::TuneProbe skipped;
  skipped.name = "fp32 t1 b32 d0";
  skipped.outcome = "skipped";
  skipped.reasons = {"pruned: max_batch 16 was INVALID"};
  r.tune_probes = {measured, invalid, skipped};
  return r;
}

TEST(TuneProbesStore, EveryFieldComesBackAndUnsetOnesStayUnset) {
  testing::TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  run::RunRecord original = TuneRecord();
  const std::string id = store.Save(original);
  run::RunRecord back = store.Load(id);
  original.id = id;
  testing::ExpectSameRunRecord(original, back);
  ASSERT_EQ(back.tune_probes.size(), 3u);
  EXPECT_FALSE(back.tune_probes[1].accuracy_cosine.has_value());
  EXPECT_FALSE(back.tune_probes[1].joules_per_unit_attributable.has_value());
  EXPECT_TRUE(std::isnan(back.tune_probes[1].rate_per_s));
}

TEST(TuneProbesStore, IncrementalSyncsReplaceTheProbes) {
  testing::TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  run::RunRecord r = TuneRecord();
  auto probes = r.tune_probes;
  r.tune_probes.resize(1);
  RunWriter writer = store.BeginRun(r);
  r.tune_probes = probes;
  writer.Sync(r);
  writer.Finish(r, run::RunStatus::kIncomplete);
  run::RunRecord back = store.Load(writer.id());
  EXPECT_EQ(back.status, run::RunStatus::kIncomplete);
  ASSERT_EQ(back.tune_probes.size(), 3u);
  EXPECT_EQ(back.tune_probes[2].name, "fp32 t1 b32 d0");
  store.Delete({writer.id()});
  EXPECT_FALSE(store.Contains(writer.id()));
}

TEST(TuneProbesStore, VersionThreeDatabaseGainsTheTable) {
  testing::TempDir dir;
  const auto path = dir.path() / "v3.db";
  {
    Database db(path, true);
    MigrateTo(db, 3);
    EXPECT_EQ(UserVersion(db), 3);
  }
  RunStore store = RunStore::Open(path);
  EXPECT_EQ(store.schema_version(), kSchemaVersion);
  run::RunRecord r = TuneRecord();
  EXPECT_EQ(store.Load(store.Save(r)).tune_probes.size(), 3u);
}

TEST(TuneProbesJson, EveryFieldSurvivesARoundTripThroughText) {
  run::RunRecord original = TuneRecord();
  const std::string text = run::ToJson(original).dump();
  run::RunRecord back = run::RunRecordFromJson(nlohmann::json::parse(text));
  testing::ExpectSameRunRecord(original, back);
  // A run document from before tune probes existed reads back without them.
  nlohmann::json old = run::ToJson(testing::SampleRunRecord(3));
  old.erase("tune_probes");
  EXPECT_TRUE(run::RunRecordFromJson(old).tune_probes.empty());
}

}  // namespace
}  // namespace joulebench::store
