// Meter::WindowSoFar: an open window's energy to the latest sample, without ending it.
#include <gtest/gtest.h>

#include <thread>

#include "joulebench/error.h"
#include "joulebench/sampling/meter.h"
#include "support/fake_powercap.h"
#include "support/temp_dir.h"

namespace joulebench::sampling {
namespace {

using namespace std::chrono_literals;

TEST(MeterWindowSoFar, SeesTheEnergySoFarAndLeavesTheWindowOpen) {
  testing::TempDir dir;
  testing::FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", 262143328850);
  energy::SourceOptions o;
  o.sysfs_root = dir.path();
  std::vector<energy::ProbeResult> probes;
  probes.push_back(energy::ProbePowercap(o));
  ASSERT_EQ(probes[0].status, energy::ProbeStatus::kAvailable) << probes[0].reason;
  Meter meter = Meter::FromProbe(std::move(probes), MeterOptions{5ms});
  meter.Start();
  const WindowId w = meter.BeginWindow("live");
  fake.AddEnergy("intel-rapl:0", 4.0);
  const std::size_t samples = meter.sample_count();
  while (meter.sample_count() < samples + 2) std::this_thread::sleep_for(1ms);
  const EnergyReport so_far = meter.WindowSoFar(w);
  fake.AddEnergy("intel-rapl:0", 1.0);
  const EnergyReport ended = meter.EndWindow(w);
  meter.Stop();
  EXPECT_EQ(so_far.name, "live");
  ASSERT_EQ(so_far.domains.size(), 1u);
  EXPECT_NEAR(so_far.domains[0].joules, 4.0, 1e-9);
  EXPECT_DOUBLE_EQ(so_far.begin_s, ended.begin_s);
  EXPECT_NEAR(ended.domains[0].joules, 5.0, 1e-9);
  EXPECT_THROW(meter.WindowSoFar(w), InputError);
}

}  // namespace
}  // namespace joulebench::sampling
