// MeasureSession (the Python binding's Meter in C++) against a fake powercap tree, stored by
// the real StoringObserver into a SQLite file.
#include "run/measure_session.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "joulebench/error.h"
#include "joulebench/store/run_store.h"
#include "joulebench/store/storing_observer.h"
#include "support/fake_powercap.h"
#include "support/temp_dir.h"

namespace joulebench::run {
namespace {

constexpr std::uint64_t kRange = 262143328850;

struct FakeMachine {
  testing::TempDir dir;
  testing::FakePowercap powercap{dir.path() / "sys"};
  FakeMachine() {
    std::filesystem::create_directories(dir.path() / "proc");
    powercap.AddZone("intel-rapl:0", "package-0", kRange);
  }
  MeasureSessionOptions Options() const {
    MeasureSessionOptions o;
    o.sources.sysfs_root = dir.path() / "sys";
    o.sources.procfs_root = dir.path() / "proc";
    o.sources.disabled = {"nvml", "neuron", "model"};
    o.meter.interval = std::chrono::milliseconds(5);
    o.workload = "python train.py";
    return o;
  }
};

double PackageJoules(const sampling::EnergyReport& r) {
  for (const auto& d : r.domains) {
    if (d.domain.name == "rapl/package-0") return d.joules;
  }
  ADD_FAILURE() << "no rapl/package-0 in " << r.name;
  return 0;
}

TEST(MeasureSession, WindowCountsTheWorkAndEnergyInsideIt) {
  FakeMachine m;
  MeasureSession session(m.Options());
  ASSERT_TRUE(session.Begin());
  session.Count(1);
  const auto w = session.BeginWindow("epoch");
  m.powercap.AddEnergy("intel-rapl:0", 9.0);
  session.Count(3);
  const WindowEnergy epoch = session.EndWindow(w);
  const RunRecord& record = session.End();
  EXPECT_NEAR(PackageJoules(epoch.energy), 9.0, 1e-6);
  EXPECT_EQ(epoch.work, 3);
  EXPECT_NEAR(*JoulesPerWork(epoch.energy, epoch.work), 3.0, 1e-6);
  EXPECT_EQ(record.kind, "measure");
  EXPECT_EQ(record.status, RunStatus::kComplete);
  EXPECT_EQ(record.name, "python train.py");
  ASSERT_NE(record.FindMetric("work"), nullptr);
  EXPECT_EQ(record.FindMetric("work")->value, 4);
  EXPECT_NEAR(record.FindMetric("energy_per_work")->value, 9.0 / 4, 1e-6);
  ASSERT_EQ(record.energy.size(), 2u);
  EXPECT_EQ(record.energy[0].name, "measurement");
  EXPECT_EQ(record.energy[1].name, "epoch");
}

TEST(MeasureSession, EndedWithAReasonIsStoredIncompleteWithWhatItMeasured) {
  FakeMachine m;
  const auto db = m.dir.path() / "runs.db";
  std::string id;
  {
    store::StoringObserver storing(store::RunStore::Open(db));
    MeasureSessionOptions options = m.Options();
    options.observer = &storing;
    MeasureSession session(options);
    ASSERT_TRUE(session.Begin());
    m.powercap.AddEnergy("intel-rapl:0", 2.5);
    session.End("interrupted by KeyboardInterrupt: the code did not run to its end");
    id = storing.run_id();
  }
  RunRecord stored = store::RunStore::OpenExisting(db).Load(id);
  EXPECT_EQ(stored.status, RunStatus::kIncomplete);
  ASSERT_NE(stored.FindMetric("energy"), nullptr);
  EXPECT_NEAR(stored.FindMetric("energy")->value, 2.5, 1e-6);
  EXPECT_EQ(stored.warnings.back(),
            "interrupted by KeyboardInterrupt: the code did not run to its end");
}

TEST(MeasureSession, InterruptedBaselineEndsBeforeItsTime) {
  FakeMachine m;
  MeasureSessionOptions options = m.Options();
  options.baseline = std::chrono::seconds(30);
  MeasureSession session(options);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(session.Begin([] { return true; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  const RunRecord& record = session.End("interrupted during the idle baseline");
  EXPECT_EQ(record.status, RunStatus::kIncomplete);
  ASSERT_EQ(record.energy.size(), 1u);
  EXPECT_EQ(record.energy[0].name, "baseline");
}

TEST(MeasureSession, ReservedWindowNamesAreRefused) {
  FakeMachine m;
  MeasureSession session(m.Options());
  ASSERT_TRUE(session.Begin());
  EXPECT_THROW(session.BeginWindow("measurement"), InputError);
  EXPECT_THROW(session.BeginWindow("baseline"), InputError);
  EXPECT_THROW(session.Count(-1), InputError);
  EXPECT_THROW(session.EndWindow(12345), InputError);
}

}  // namespace
}  // namespace joulebench::run
