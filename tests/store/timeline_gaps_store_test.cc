// Gaps in a run's timeline reach the store (schema version 6) and come back; a long timeline
// read for a report is decimated while it is read, keeping its gap edges and exact energies.
#include <gtest/gtest.h>

#include <algorithm>

#include "joulebench/store/run_store.h"
#include "support/sample_run_record.h"
#include "support/temp_dir.h"

namespace joulebench::store {
namespace {

using run::RunRecord;
using testing::SampleRunRecord;
using testing::TempDir;

sampling::Timeline Tail(const sampling::Timeline& full, std::size_t from, std::size_t to) {
  sampling::Timeline t;
  t.domains = full.domains;
  t.time_s.assign(full.time_s.begin() + from, full.time_s.begin() + to);
  for (const auto& series : full.joules)
    t.joules.emplace_back(series.begin() + from, series.begin() + to);
  return t;
}

TEST(TimelineGapsStore, WriterRewritesAnOpenGapUntilItClosesAndKeepsEarlierOnes) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  RunRecord full = SampleRunRecord(300);
  RunRecord header = full;
  header.timeline = Tail(full.timeline, 0, 0);
  RunWriter writer = store.BeginRun(header);

  sampling::Timeline first = Tail(full.timeline, 0, 100);
  first.gaps = {{"rapl/package-0", 0.5, 0.99, "read failed: no reason given", false, false, true}};
  writer.AppendTail(first);
  RunRecord back = store.Load(writer.id(), /*allow_running=*/true);
  ASSERT_EQ(back.timeline.gaps.size(), 1u);
  EXPECT_TRUE(back.timeline.gaps[0].open);
  EXPECT_EQ(back.timeline.time_s.size(), 100u);

  sampling::Timeline second = Tail(full.timeline, 100, 300);
  second.gaps = {{"rapl/package-0", 0.5, 1.2, "read failed: no reason given", true, false, false},
                 {"model/network", 2.0, 2.99, "lost: gone", false, true, true}};
  writer.AppendTail(second);
  writer.Finish(run::RunStatus::kIncomplete);
  back = store.Load(writer.id());
  EXPECT_EQ(back.timeline.time_s, full.timeline.time_s);
  ASSERT_EQ(back.timeline.gaps.size(), 2u);
  EXPECT_FALSE(back.timeline.gaps[0].open);
  EXPECT_TRUE(back.timeline.gaps[0].bridged);
  EXPECT_EQ(back.timeline.gaps[0].end_s, 1.2);
  EXPECT_EQ(back.timeline.gaps[1].domain, "model/network");
  EXPECT_TRUE(back.timeline.gaps[1].lost);
  EXPECT_EQ(back.timeline.gaps[1].reason, "lost: gone");
}

TEST(TimelineGapsStore, DecimatedLoadKeepsGapEdgesAndTheEnergyBetweenKeptSamples) {
  TempDir dir;
  RunStore store = RunStore::Open(dir.path() / "runs.db");
  RunRecord r = SampleRunRecord(20000);
  const auto& t = r.timeline;
  // Gaps whose edges are sample times, as the meter records them.
  r.timeline.gaps = {{"rapl/package-0", t.time_s[1234], t.time_s[1301], "x", false, false, false},
                     {"model/network", t.time_s[15007], t.time_s[19999], "y", false, true, true}};
  const std::string id = store.Save(r);
  LoadOptions options;
  options.max_timeline_samples = 100;
  const RunRecord back = store.Load(id, options);
  const auto& b = back.timeline;
  EXPECT_LE(b.time_s.size(), 100u + 1 + 4);
  EXPECT_GE(b.time_s.size(), 90u);
  EXPECT_EQ(b.time_s.front(), t.time_s.front());
  EXPECT_EQ(b.time_s.back(), t.time_s.back());
  for (std::size_t i : {1234u, 1301u, 15007u}) {
    EXPECT_TRUE(std::binary_search(b.time_s.begin(), b.time_s.end(), t.time_s[i])) << i;
  }
  // Every kept sample is the stored one, so energies between kept samples are exact.
  for (std::size_t k = 0; k < b.time_s.size(); ++k) {
    const auto it = std::find(t.time_s.begin(), t.time_s.end(), b.time_s[k]);
    ASSERT_NE(it, t.time_s.end());
    const auto i = static_cast<std::size_t>(it - t.time_s.begin());
    for (std::size_t d = 0; d < t.joules.size(); ++d) EXPECT_EQ(b.joules[d][k], t.joules[d][i]);
  }
  EXPECT_EQ(b.gaps.size(), 2u);
  // The whole timeline is still there for export.
  EXPECT_EQ(store.Load(id).timeline.time_s.size(), 20000u);
}

}  // namespace
}  // namespace joulebench::store
