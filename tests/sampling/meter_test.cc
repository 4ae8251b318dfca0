#include "joulebench/sampling/meter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <new>
#include <thread>

#include "energy/powercap_source.h"
#include "support/fake_powercap.h"
#include "support/temp_dir.h"

// Counts every allocation in this test program, to show that sampling does not allocate.
#include "support/counting_allocations.h"

namespace joulebench::sampling {
namespace {

using joulebench::testing::FakePowercap;
using joulebench::testing::TempDir;
using namespace std::chrono_literals;

constexpr std::uint64_t kRange = 262143328850;

Meter MeterOn(const TempDir& dir, std::chrono::nanoseconds interval = 100ms) {
  energy::SourceOptions o;
  o.sysfs_root = dir.path();
  std::vector<energy::ProbeResult> probes;
  probes.push_back(energy::ProbePowercap(o));
  EXPECT_EQ(probes[0].status, energy::ProbeStatus::kAvailable) << probes[0].reason;
  return Meter::FromProbe(std::move(probes), MeterOptions{interval});
}

const DomainEnergy& Domain(const EnergyReport& r, const std::string& name) {
  for (const auto& d : r.domains) {
    if (d.domain.name == name) return d;
  }
  throw std::runtime_error("no domain " + name);
}

bool AnyWarningContains(const std::vector<std::string>& warnings, const std::string& text) {
  for (const auto& w : warnings) {
    if (w.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(Meter, WindowEnergyIsTheCountersAdvance) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 1000000);
  Meter meter = MeterOn(dir);
  const WindowId w = meter.BeginWindow("work");
  fake.AddEnergy("intel-rapl:0", 12.5);
  const EnergyReport r = meter.EndWindow(w);
  EXPECT_EQ(r.name, "work");
  EXPECT_NEAR(Domain(r, "rapl/package-0").joules, 12.5, 1e-9);
  EXPECT_NEAR(r.total_joules, 12.5, 1e-9);
  EXPECT_EQ(Domain(r, "rapl/package-0").samples, 2U);
  EXPECT_EQ(Domain(r, "rapl/package-0").domain.provenance.kind, energy::ProvenanceKind::kMeasured);
}

TEST(Meter, TotalAddsPackagesAndMemoryButNotTheCoresInsideThePackage) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:0:0", "core", kRange);
  fake.AddZone("intel-rapl:0:1", "dram", kRange);
  fake.AddZone("intel-rapl:1", "package-1", kRange);
  Meter meter = MeterOn(dir);
  const WindowId w = meter.BeginWindow("w");
  fake.AddEnergy("intel-rapl:0", 10);
  fake.AddEnergy("intel-rapl:0:0", 6);
  fake.AddEnergy("intel-rapl:0:1", 3);
  fake.AddEnergy("intel-rapl:1", 7);
  const EnergyReport r = meter.EndWindow(w);
  EXPECT_NEAR(r.total_joules, 20, 1e-9);
  EXPECT_EQ(r.total_domains,
            (std::vector<std::string>{"rapl/package-0", "rapl/package-0/dram", "rapl/package-1"}));
  EXPECT_FALSE(Domain(r, "rapl/package-0/core").in_total);
  EXPECT_NEAR(Domain(r, "rapl/package-0/core").joules, 6, 1e-9);
}

TEST(Meter, PsysAloneIsTheTotalWhenItIsMeasured) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:0:0", "dram", kRange);
  fake.AddZone("intel-rapl:1", "psys", kRange);
  Meter meter = MeterOn(dir);
  const WindowId w = meter.BeginWindow("w");
  fake.AddEnergy("intel-rapl:0", 10);
  fake.AddEnergy("intel-rapl:0:0", 3);
  fake.AddEnergy("intel-rapl:1", 25);
  const EnergyReport r = meter.EndWindow(w);
  EXPECT_NEAR(r.total_joules, 25, 1e-9);
  EXPECT_EQ(r.total_domains, (std::vector<std::string>{"rapl/psys"}));
}

TEST(Meter, CounterWrapBetweenSamplesLosesNoEnergy) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", 9999999, 9000000);  // wraps after 10 J
  Meter meter = MeterOn(dir);
  const WindowId w = meter.BeginWindow("w");
  fake.AddEnergy("intel-rapl:0", 4);  // 9 J -> 13 J == 3 J after the wrap
  EXPECT_EQ(fake.Energy("intel-rapl:0"), 3000000U);
  const EnergyReport r = meter.EndWindow(w);
  EXPECT_NEAR(r.total_joules, 4, 1e-9);
}

TEST(Meter, CounterThatWrapsSeveralTimesDuringALongGapIsEstimatedAndWarned) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", 1999999, 0);  // wraps after 2 J
  fake.SetMaxPower("intel-rapl:0", 0, 10000000);          // 10 W
  Meter meter = MeterOn(dir, std::chrono::hours(1));
  const WindowId w = meter.BeginWindow("gap");
  // 0.65 s at 10 W: 6.5 J, three whole ranges more than the raw counter shows (0.5 J).
  std::this_thread::sleep_for(650ms);
  fake.AddEnergy("intel-rapl:0", 6.5);
  const EnergyReport r = meter.EndWindow(w);
  EXPECT_NEAR(r.total_joules, 6.5, 1e-9);
  EXPECT_TRUE(AnyWarningContains(r.warnings, "wrapped 3 more time(s)"));
}

TEST(Meter, ZoneThatDisappearsKeepsTheEnergyMeasuredUntilThen) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:1", "package-1", kRange);
  Meter meter = MeterOn(dir);
  const WindowId w = meter.BeginWindow("w");
  fake.AddEnergy("intel-rapl:0", 5);
  fake.AddEnergy("intel-rapl:1", 4);
  const WindowId mid = meter.BeginWindow("mid");
  fake.RemoveZone("intel-rapl:1");
  fake.AddEnergy("intel-rapl:0", 5);
  meter.EndWindow(mid);
  const EnergyReport r = meter.EndWindow(w);
  EXPECT_NEAR(Domain(r, "rapl/package-0").joules, 10, 1e-9);
  EXPECT_NEAR(Domain(r, "rapl/package-1").joules, 4, 1e-9);
  EXPECT_TRUE(AnyWarningContains(r.warnings, "disappeared"));
}

TEST(Meter, GarbageReadingIsSkippedAndTheNextGoodOneCoversIt) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 1000000);
  Meter meter = MeterOn(dir);
  const WindowId w = meter.BeginWindow("w");
  fake.SetRawEnergyContents("intel-rapl:0", "garbage\n");
  const WindowId mid = meter.BeginWindow("mid");
  fake.SetEnergy("intel-rapl:0", 8000000);
  meter.EndWindow(mid);
  const EnergyReport r = meter.EndWindow(w);
  EXPECT_NEAR(r.total_joules, 7, 1e-9);
  EXPECT_TRUE(AnyWarningContains(r.warnings, "does not hold a number"));
}

TEST(Meter, OverlappingWindowsEachGetTheirOwnEnergy) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  Meter meter = MeterOn(dir);
  const WindowId a = meter.BeginWindow("a");
  fake.AddEnergy("intel-rapl:0", 5);
  const WindowId b = meter.BeginWindow("b");
  fake.AddEnergy("intel-rapl:0", 7);
  const EnergyReport ra = meter.EndWindow(a);
  fake.AddEnergy("intel-rapl:0", 3);
  const EnergyReport rb = meter.EndWindow(b);
  EXPECT_NEAR(ra.total_joules, 12, 1e-9);
  EXPECT_NEAR(rb.total_joules, 10, 1e-9);
}

TEST(Meter, BaselineGivesAttributableEnergyPerDomainAndInTotal) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:1", "package-1", kRange);
  Meter meter = MeterOn(dir);
  meter.SetBaseline({{"rapl/package-0", 5.0}, {"rapl/package-1", 2.0}});
  const WindowId w = meter.BeginWindow("w");
  std::this_thread::sleep_for(50ms);
  fake.AddEnergy("intel-rapl:0", 10);
  fake.AddEnergy("intel-rapl:1", 1);
  const EnergyReport r = meter.EndWindow(w);
  const double d = r.duration_s;
  ASSERT_GT(d, 0.04);
  EXPECT_NEAR(*Domain(r, "rapl/package-0").attributable_joules, 10 - 5 * d, 1e-9);
  EXPECT_NEAR(*Domain(r, "rapl/package-1").attributable_joules, 1 - 2 * d, 1e-9);
  EXPECT_NEAR(*r.total_attributable_joules, 11 - 7 * d, 1e-9);
  EXPECT_DOUBLE_EQ(*Domain(r, "rapl/package-0").baseline_watts, 5.0);
}

TEST(Meter, MeasuredBaselineIsTheIdleMeanPower) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  Meter meter = MeterOn(dir, 10ms);
  std::atomic<bool> stop{false};
  // 20 W, advanced every millisecond by a thread playing the hardware.
  std::thread hardware([&] {
    auto last = std::chrono::steady_clock::now();
    while (!stop) {
      std::this_thread::sleep_for(1ms);
      const auto now = std::chrono::steady_clock::now();
      fake.AddEnergy("intel-rapl:0", 20.0 * std::chrono::duration<double>(now - last).count());
      last = now;
    }
  });
  meter.Start();
  const EnergyReport baseline = meter.MeasureBaseline(300ms);
  stop = true;
  hardware.join();
  meter.Stop();
  EXPECT_NEAR(Domain(baseline, "rapl/package-0").mean_watts, 20.0, 20.0 * 0.03);
  EXPECT_GE(baseline.duration_s, 0.3);
}

TEST(Meter, ShortWindowIsFlagged) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  Meter meter = MeterOn(dir, 100ms);
  const EnergyReport r = meter.EndWindow(meter.BeginWindow("blink"));
  EXPECT_TRUE(AnyWarningContains(r.warnings, "less than two sampling intervals"));
}

// Power changes every 100 ms between 10 W, 80 W and 35 W (counter wrapping every 3 J, i.e.
// often between samples); the energy of a 1.5 s window must be within 1 % of the profile's.
TEST(Meter, ScriptedPowerProfileIsIntegratedWithinOnePercent) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", 2999999);
  Meter meter = MeterOn(dir, 10ms);
  const auto t0 = std::chrono::steady_clock::now();
  auto energy_at = [&](std::chrono::steady_clock::time_point t) {
    const double s = std::chrono::duration<double>(t - t0).count();
    constexpr double kWatts[3] = {10, 80, 35};
    const auto step = static_cast<long>(s / 0.1);
    double joules = 0;
    for (long i = 0; i < step; ++i) joules += kWatts[i % 3] * 0.1;
    return joules + kWatts[step % 3] * (s - step * 0.1);
  };
  std::atomic<bool> stop{false};
  std::thread hardware([&] {
    double written = 0;
    while (!stop) {
      const double target = energy_at(std::chrono::steady_clock::now());
      fake.AddEnergy("intel-rapl:0", target - written);
      written = target;
      std::this_thread::sleep_for(500us);
    }
  });
  meter.Start();
  std::this_thread::sleep_for(50ms);
  const auto begin = std::chrono::steady_clock::now();
  const WindowId w = meter.BeginWindow("profile");
  std::this_thread::sleep_for(1500ms);
  const EnergyReport r = meter.EndWindow(w);
  const auto end = std::chrono::steady_clock::now();
  stop = true;
  hardware.join();
  meter.Stop();
  const double truth = energy_at(end) - energy_at(begin);
  EXPECT_NEAR(r.total_joules, truth, truth * 0.01);
  // The 80 W steps show as the peak (no upper bound: a stalled "hardware" thread catches up in
  // bursts on a busy machine).
  EXPECT_GT(Domain(r, "rapl/package-0").peak_watts, 60);
  EXPECT_LT(r.mean_watts, 80);
}

TEST(Meter, RecentTotalWattsFollowsTheCurrentPower) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  Meter meter = MeterOn(dir, 10ms);
  std::atomic<double> watts{5};
  std::atomic<bool> stop{false};
  std::thread hardware([&] {
    auto last = std::chrono::steady_clock::now();
    while (!stop) {
      std::this_thread::sleep_for(1ms);
      const auto now = std::chrono::steady_clock::now();
      fake.AddEnergy("intel-rapl:0", watts * std::chrono::duration<double>(now - last).count());
      last = now;
    }
  });
  meter.Start();
  std::this_thread::sleep_for(300ms);
  watts = 50;
  std::this_thread::sleep_for(400ms);
  const double recent = meter.RecentTotalWatts(200ms);
  const double earlier = meter.Between(0.05, 0.25).mean_watts;
  stop = true;
  hardware.join();
  meter.Stop();
  EXPECT_NEAR(recent, 50, 50 * 0.05);
  EXPECT_NEAR(earlier, 5, 5 * 0.1);
}

TEST(Meter, SamplingAllocatesNothingInSteadyState) {
  TempDir dir;
  FakePowercap fake(dir.path());
  for (int p = 0; p < 2; ++p) {
    const std::string id = "intel-rapl:" + std::to_string(p);
    fake.AddZone(id, "package-" + std::to_string(p), kRange);
    fake.AddZone(id + ":0", "core", kRange);
    fake.AddZone(id + ":1", "uncore", kRange);
    fake.AddZone(id + ":2", "dram", kRange);
  }
  Meter meter = MeterOn(dir, 1ms);
  meter.Start();
  std::this_thread::sleep_for(50ms);
  const std::size_t samples_before = meter.sample_count();
  const std::size_t allocations_before = joulebench::testing::Allocations();
  std::this_thread::sleep_for(400ms);
  const std::size_t allocations = joulebench::testing::Allocations() - allocations_before;
  const std::size_t samples = meter.sample_count() - samples_before;
  meter.Stop();
  EXPECT_GT(samples, 100U);
  // At most one timeline chunk (4096 samples) may be allocated in that span.
  EXPECT_LE(allocations, 1U) << allocations << " allocations during " << samples << " samples";
}

TEST(Meter, SnapshotHoldsEverySampleWithCumulativeJoules) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  Meter meter = MeterOn(dir);
  const WindowId w = meter.BeginWindow("w");
  fake.AddEnergy("intel-rapl:0", 2);
  const WindowId v = meter.BeginWindow("v");
  fake.AddEnergy("intel-rapl:0", 3);
  meter.EndWindow(v);
  meter.EndWindow(w);
  const Timeline t = meter.Snapshot();
  ASSERT_EQ(t.time_s.size(), 4U);
  ASSERT_EQ(t.joules.size(), 1U);
  EXPECT_DOUBLE_EQ(t.joules[0][0], 0);
  EXPECT_NEAR(t.joules[0][1], 2, 1e-9);
  EXPECT_NEAR(t.joules[0][3], 5, 1e-9);
  EXPECT_GT(t.start_unix_s, 1.7e9);
}

}  // namespace
}  // namespace joulebench::sampling
