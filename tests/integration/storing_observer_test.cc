// StoringObserver: a run's timeline reaches the database while the run is still going (what
// a SIGKILL would leave), and OnEnd stores every sample and the final status.
#include "joulebench/store/storing_observer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "joulebench/energy/source.h"
#include "joulebench/store/run_store.h"
#include "support/fake_powercap.h"
#include "support/temp_dir.h"

namespace joulebench::store {
namespace {

using namespace std::chrono_literals;
using testing::FakePowercap;
using testing::TempDir;

constexpr std::uint64_t kRange = 262143328850;

sampling::Meter MeterOn(const TempDir& dir) {
  energy::SourceOptions o;
  o.sysfs_root = dir.path() / "sys";
  std::vector<energy::ProbeResult> probes;
  probes.push_back(energy::ProbePowercap(o));
  EXPECT_EQ(probes[0].status, energy::ProbeStatus::kAvailable) << probes[0].reason;
  return sampling::Meter::FromProbe(std::move(probes), sampling::MeterOptions{10ms});
}

run::RunRecord Header() {
  run::RunRecord r;
  r.kind = "loadgen";
  r.name = "storing observer test";
  r.start_unix_s = 1.8e9;
  r.config = {{"workload", "sleep"}};
  return r;
}

TEST(StoringObserver, TimelineReachesTheDatabaseWhileTheRunIsGoing) {
  TempDir dir;
  FakePowercap powercap(dir.path() / "sys");
  powercap.AddZone("intel-rapl:0", "package-0", kRange);
  const auto db = dir.path() / "runs.db";
  sampling::Meter meter = MeterOn(dir);
  meter.Start();
  StoringObserver storing(RunStore::Open(db), /*flush_interval_s=*/0.05);
  run::RunRecord record = Header();
  storing.OnBegin(record, meter);
  ASSERT_EQ(storing.run_id(), "1") << storing.StoredLine();
  std::this_thread::sleep_for(300ms);

  // Another connection sees the run in progress with samples already committed.
  {
    RunStore reader = RunStore::Open(db);
    const run::RunRecord partial = reader.Load("1", /*allow_running=*/true);
    EXPECT_EQ(partial.status, run::RunStatus::kRunning);
    EXPECT_GE(partial.timeline.time_s.size(), 5u);
    ASSERT_EQ(partial.timeline.domains.size(), 1u);
    EXPECT_EQ(partial.timeline.domains[0].name, "rapl/package-0");
  }

  record.metrics.push_back({"throughput", 42, "1/s", "measured: test"});
  storing.OnPartial(record);
  meter.Stop();
  record.status = run::RunStatus::kIncomplete;
  storing.OnEnd(record);
  EXPECT_FALSE(storing.error()) << *storing.error();
  EXPECT_EQ(storing.StoredLine(), "stored as run 1 in " + db.string());

  RunStore reader = RunStore::Open(db);
  const run::RunRecord stored = reader.Load("1");
  EXPECT_EQ(stored.status, run::RunStatus::kIncomplete);
  EXPECT_EQ(stored.timeline.time_s.size(), meter.sample_count());
  EXPECT_EQ(stored.timeline.time_s, meter.Snapshot().time_s);
  ASSERT_NE(stored.FindMetric("throughput"), nullptr);
  EXPECT_EQ(stored.FindMetric("throughput")->value, 42);
}

TEST(StoringObserver, AGapStoredOpenIsStoredClosedOnceItEnds) {
  TempDir dir;
  FakePowercap powercap(dir.path() / "sys");
  powercap.AddZone("intel-rapl:0", "package-0", kRange);
  const auto db = dir.path() / "runs.db";
  sampling::Meter meter = MeterOn(dir);
  meter.Start();
  StoringObserver storing(RunStore::Open(db), /*flush_interval_s=*/0.05);
  run::RunRecord record = Header();
  storing.OnBegin(record, meter);
  std::this_thread::sleep_for(60ms);
  const std::uint64_t before = powercap.Energy("intel-rapl:0");
  powercap.SetRawEnergyContents("intel-rapl:0", "garbage\n");
  std::this_thread::sleep_for(200ms);  // flushes at 50 ms store the gap open
  {
    const run::RunRecord partial = RunStore::Open(db).Load("1", /*allow_running=*/true);
    ASSERT_EQ(partial.timeline.gaps.size(), 1u);
    EXPECT_TRUE(partial.timeline.gaps[0].open);
  }
  powercap.SetEnergy("intel-rapl:0", before + 1'000'000);
  std::this_thread::sleep_for(200ms);  // the gap closes; later flushes store no new gap
  const sampling::Timeline live = meter.Snapshot();
  ASSERT_EQ(live.gaps.size(), 1u);
  ASSERT_FALSE(live.gaps[0].open);
  {
    const run::RunRecord partial = RunStore::Open(db).Load("1", /*allow_running=*/true);
    ASSERT_EQ(partial.timeline.gaps.size(), 1u);
    EXPECT_FALSE(partial.timeline.gaps[0].open) << "the closed gap is still stored open";
    EXPECT_DOUBLE_EQ(partial.timeline.gaps[0].end_s, live.gaps[0].end_s);
  }
  meter.Stop();
  storing.OnEnd(record);
  const run::RunRecord stored = RunStore::Open(db).Load("1");
  ASSERT_EQ(stored.timeline.gaps.size(), 1u);
  EXPECT_FALSE(stored.timeline.gaps[0].open);
}

TEST(StoringObserver, RunThatNeverEndsIsLeftIncomplete) {
  TempDir dir;
  FakePowercap powercap(dir.path() / "sys");
  powercap.AddZone("intel-rapl:0", "package-0", kRange);
  const auto db = dir.path() / "runs.db";
  sampling::Meter meter = MeterOn(dir);
  meter.Start();
  {
    StoringObserver storing(RunStore::Open(db), 0.05);
    storing.OnBegin(Header(), meter);  // and the run throws before OnEnd
  }
  meter.Stop();
  RunStore reader = RunStore::Open(db);
  EXPECT_EQ(reader.Load("1").status, run::RunStatus::kIncomplete);
}

}  // namespace
}  // namespace joulebench::store
