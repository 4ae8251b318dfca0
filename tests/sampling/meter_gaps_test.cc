// Sensors that fail mid-run, under the real Meter: a powercap file that holds garbage or
// vanishes, a counter that jumps back further than a wrap allows, NVML returning an error or
// NVML_ERROR_GPU_IS_LOST (the fake libnvidia-ml.so), a BMC that stops answering (the Redfish
// test server). The other domains go on; the failing domain's timeline records the gap; its
// energy there is never interpolated: the total leaves out a lost domain and flags a partial one.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>
#include <thread>

#include "joulebench/energy/source.h"
#include "joulebench/sampling/meter.h"
#include "support/fake_powercap.h"
#include "support/redfish_test_server.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::sampling {
namespace {

using joulebench::testing::FakePowercap;
using joulebench::testing::TempDir;
using namespace std::chrono_literals;

constexpr std::uint64_t kRange = 262143328850;

const DomainEnergy& Domain(const EnergyReport& r, const std::string& name) {
  for (const auto& d : r.domains) {
    if (d.domain.name == name) return d;
  }
  throw std::runtime_error("no domain " + name);
}

bool AnyContains(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

std::vector<TimelineGap> GapsOf(const Meter& meter, const std::string& domain) {
  std::vector<TimelineGap> out;
  for (const auto& g : meter.Snapshot().gaps) {
    if (g.domain == domain) out.push_back(g);
  }
  return out;
}

std::unique_ptr<energy::Source> Powercap(const std::filesystem::path& root) {
  energy::SourceOptions o;
  o.sysfs_root = root;
  auto probe = energy::ProbePowercap(o);
  EXPECT_EQ(probe.status, energy::ProbeStatus::kAvailable) << probe.reason;
  return std::move(probe.source);
}

// The fake NVML's control file and the LOST_AFTER knob, set for this process and unset after.
class FakeNvml {
 public:
  explicit FakeNvml(const std::string& config, const std::string& lost_after = "") {
    path_ = dir_.path() / "nvml.conf";
    Set(config);
    ::setenv("JOULEBENCH_FAKE_NVML_CONFIG", path_.c_str(), 1);
    if (!lost_after.empty()) ::setenv("JOULEBENCH_FAKE_NVML_LOST_AFTER", lost_after.c_str(), 1);
  }
  ~FakeNvml() {
    ::unsetenv("JOULEBENCH_FAKE_NVML_CONFIG");
    ::unsetenv("JOULEBENCH_FAKE_NVML_LOST_AFTER");
  }
  // Replaced atomically: the library reads it at every call.
  void Set(const std::string& config) {
    std::filesystem::rename(dir_.Write("nvml.conf.new", config), path_);
  }
  std::unique_ptr<energy::Source> Probe() const {
    energy::SourceOptions options;
    options.nvml_library = testing::FakeLibraryPath("fake_nvml");
    auto result = energy::ProbeNvml(options);
    EXPECT_EQ(result.status, energy::ProbeStatus::kAvailable) << result.reason;
    return std::move(result.source);
  }

 private:
  TempDir dir_;
  std::filesystem::path path_;
};

// Each BeginWindow / EndWindow of a meter that is not started takes exactly one sample, so the
// tests below place every sample themselves.

TEST(MeterGaps, GarbageInACounterIsABridgedGapWhoseEnergyTheCounterMeasured) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 1000000);
  std::vector<std::unique_ptr<energy::Source>> sources;
  sources.push_back(Powercap(dir.path()));
  Meter meter(std::move(sources), MeterOptions{});
  const WindowId w = meter.BeginWindow("w");
  fake.SetRawEnergyContents("intel-rapl:0", "garbage\n");
  const WindowId mid = meter.BeginWindow("mid");  // begins inside the gap
  fake.SetEnergy("intel-rapl:0", 8000000);
  const EnergyReport r_mid = meter.EndWindow(mid);
  const EnergyReport r = meter.EndWindow(w);

  const auto gaps = GapsOf(meter, "rapl/package-0");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_TRUE(gaps[0].bridged);
  EXPECT_FALSE(gaps[0].open);
  EXPECT_NE(gaps[0].reason.find("does not hold a number"), std::string::npos) << gaps[0].reason;
  // The window that holds the whole gap has the counter's 7 J, measured.
  EXPECT_NEAR(r.total_joules, 7, 1e-9);
  EXPECT_TRUE(r.total_complete);
  EXPECT_EQ(Domain(r, "rapl/package-0").unmeasured_s, 0);
  // The one that begins inside it cannot split the gap's energy at its edge: none of it.
  EXPECT_NEAR(Domain(r_mid, "rapl/package-0").joules, 0, 1e-9);
  EXPECT_NEAR(Domain(r_mid, "rapl/package-0").unmeasured_s, r_mid.duration_s, 1e-9);
  EXPECT_FALSE(r_mid.total_complete);
  EXPECT_TRUE(AnyContains(r_mid.warnings, "the total is a lower bound: rapl/package-0"));
}

TEST(MeterGaps, CounterThatJumpsBackMoreThanAWrapAllowsIsAFaultGapNotAWrap) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 100000000);  // 100 J
  fake.SetMaxPower("intel-rapl:0", 0, 10000000);                 // 10 W
  std::vector<std::unique_ptr<energy::Source>> sources;
  sources.push_back(Powercap(dir.path()));
  Meter meter(std::move(sources), MeterOptions{});
  const WindowId w = meter.BeginWindow("w");
  std::this_thread::sleep_for(20ms);
  fake.AddEnergy("intel-rapl:0", 0.1);
  meter.EndWindow(meter.BeginWindow("a"));
  std::this_thread::sleep_for(20ms);
  fake.SetEnergy("intel-rapl:0", 50000000);  // back 50.1 J: a wrap would be 262 kJ in 20 ms
  meter.EndWindow(meter.BeginWindow("b"));
  std::this_thread::sleep_for(20ms);
  fake.AddEnergy("intel-rapl:0", 0.2);
  const EnergyReport r = meter.EndWindow(w);

  const DomainEnergy& pkg = Domain(r, "rapl/package-0");
  EXPECT_NEAR(pkg.joules, 0.3, 1e-9);  // the fault's interval is not counted as 262 kJ
  ASSERT_EQ(pkg.gaps.size(), 1u);
  EXPECT_FALSE(pkg.gaps[0].bridged);
  EXPECT_NE(pkg.gaps[0].reason.find("counter fault: it went back 50.1"), std::string::npos)
      << pkg.gaps[0].reason;
  EXPECT_GT(pkg.unmeasured_s, 0.015);
  EXPECT_LT(pkg.unmeasured_s, r.duration_s);
  EXPECT_EQ(r.partial_domains, (std::vector<std::string>{"rapl/package-0"}));
  EXPECT_FALSE(r.total_complete);
}

TEST(MeterGaps, VanishedPsysIsLostAndThePackageInsideItIsCountedInstead) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:1", "psys", kRange);
  std::vector<std::unique_ptr<energy::Source>> sources;
  sources.push_back(Powercap(dir.path()));
  Meter meter(std::move(sources), MeterOptions{});
  const WindowId w = meter.BeginWindow("w");
  fake.AddEnergy("intel-rapl:0", 10);
  fake.AddEnergy("intel-rapl:1", 25);
  const WindowId before = meter.BeginWindow("before");
  fake.AddEnergy("intel-rapl:0", 1);
  fake.AddEnergy("intel-rapl:1", 2);
  const EnergyReport r_before = meter.EndWindow(before);
  fake.RemoveZone("intel-rapl:1");
  fake.AddEnergy("intel-rapl:0", 5);
  const WindowId after = meter.BeginWindow("after");  // psys is found gone here
  fake.AddEnergy("intel-rapl:0", 4);
  const EnergyReport r_after = meter.EndWindow(after);
  const EnergyReport r = meter.EndWindow(w);

  // Before the loss psys is the total, the package inside it.
  EXPECT_EQ(r_before.total_domains, (std::vector<std::string>{"rapl/psys"}));
  EXPECT_TRUE(r_before.total_complete);
  // Over the loss: psys is left out (its 27 J are on its line), the package counted instead.
  const DomainEnergy& psys = Domain(r, "rapl/psys");
  EXPECT_TRUE(psys.excluded_from_total);
  EXPECT_FALSE(psys.in_total);
  EXPECT_NEAR(psys.joules, 27, 1e-9);
  ASSERT_TRUE(psys.lost_at_s.has_value());
  EXPECT_EQ(r.total_domains, (std::vector<std::string>{"rapl/package-0"}));
  EXPECT_NEAR(r.total_joules, 20, 1e-9);
  EXPECT_EQ(r.excluded_domains, (std::vector<std::string>{"rapl/psys"}));
  EXPECT_FALSE(r.total_complete);
  EXPECT_TRUE(AnyContains(r.warnings, "the total leaves out rapl/psys: lost at"));
  // After the loss psys has no measurement at all.
  EXPECT_NEAR(Domain(r_after, "rapl/psys").unmeasured_s, r_after.duration_s, 1e-9);
  EXPECT_NEAR(r_after.total_joules, 4, 1e-9);
  const auto gaps = GapsOf(meter, "rapl/psys");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_TRUE(gaps[0].lost);
  EXPECT_TRUE(gaps[0].open);
  EXPECT_NE(gaps[0].reason.find("disappeared"), std::string::npos) << gaps[0].reason;
}

TEST(MeterGaps, GpuLostAfterSomeReadsIsLeftOutOfTheTotalAndTheOtherDomainsGoOn) {
  TempDir dir;
  FakePowercap fake(dir.path() / "sys");
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  // The probe reads the counter once, each sample once more: lost at the 4th read.
  FakeNvml nvml("count=1\ngpu0.arch=7\ngpu0.energy_mj=5000\ngpu0.energy_step_mj=2000\n", "3");
  std::vector<std::unique_ptr<energy::Source>> sources;
  sources.push_back(Powercap(dir.path() / "sys"));
  sources.push_back(nvml.Probe());
  ASSERT_TRUE(sources[1]);
  Meter meter(std::move(sources), MeterOptions{});
  const WindowId w = meter.BeginWindow("w");  // gpu read 2
  fake.AddEnergy("intel-rapl:0", 5);
  const WindowId until = meter.BeginWindow("until");  // gpu read 3: +2 J
  fake.AddEnergy("intel-rapl:0", 5);
  const EnergyReport r_until = meter.EndWindow(until);  // gpu read 4: lost
  fake.AddEnergy("intel-rapl:0", 5);
  const EnergyReport r = meter.EndWindow(w);

  const DomainEnergy& gpu = Domain(r, "nvml/gpu0");
  EXPECT_TRUE(gpu.excluded_from_total);
  EXPECT_NEAR(gpu.joules, 2, 1e-9);
  EXPECT_EQ(r.total_domains, (std::vector<std::string>{"rapl/package-0"}));
  EXPECT_NEAR(r.total_joules, 15, 1e-9);
  EXPECT_EQ(r.excluded_domains, (std::vector<std::string>{"nvml/gpu0"}));
  EXPECT_TRUE(AnyContains(r.warnings, "the total leaves out nvml/gpu0"));
  EXPECT_NEAR(Domain(r_until, "nvml/gpu0").unmeasured_s, r_until.duration_s, 1e-9);
  const auto gaps = GapsOf(meter, "nvml/gpu0");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_TRUE(gaps[0].lost);
  EXPECT_NE(gaps[0].reason.find("NVML_ERROR_GPU_IS_LOST"), std::string::npos) << gaps[0].reason;
  EXPECT_TRUE(AnyContains(meter.TakeWarnings(), "nvml/gpu0: lost: the GPU is lost"));
}

TEST(MeterGaps, GaugeThatFailsForAWhileIsAPartialDomainNotInterpolated) {
  // energy_error=3 (not supported): the GPU is read through its power gauge, 100 W.
  FakeNvml nvml("count=1\ngpu0.arch=7\ngpu0.energy_error=3\ngpu0.power_mw=100000\n");
  std::vector<std::unique_ptr<energy::Source>> sources;
  sources.push_back(nvml.Probe());
  ASSERT_TRUE(sources[0]);
  Meter meter(std::move(sources), MeterOptions{});
  const WindowId w = meter.BeginWindow("w");
  std::this_thread::sleep_for(50ms);
  meter.EndWindow(meter.BeginWindow("ok"));
  nvml.Set("count=1\ngpu0.arch=7\ngpu0.energy_error=3\ngpu0.power_error=999\n");
  std::this_thread::sleep_for(100ms);
  meter.EndWindow(meter.BeginWindow("failing"));
  std::this_thread::sleep_for(100ms);
  nvml.Set("count=1\ngpu0.arch=7\ngpu0.energy_error=3\ngpu0.power_mw=100000\n");
  meter.EndWindow(meter.BeginWindow("back"));
  std::this_thread::sleep_for(50ms);
  const EnergyReport r = meter.EndWindow(w);

  const DomainEnergy& gpu = Domain(r, "nvml/gpu0");
  ASSERT_EQ(gpu.gaps.size(), 1u);
  EXPECT_FALSE(gpu.gaps[0].bridged);
  EXPECT_NE(gpu.gaps[0].reason.find("read failed: Unknown Error"), std::string::npos)
      << gpu.gaps[0].reason;
  EXPECT_GT(gpu.unmeasured_s, 0.19);
  // 100 W over the measured time only; a trapezoid across the gap would add 100 W x gap.
  EXPECT_NEAR(gpu.joules, 100 * (r.duration_s - gpu.unmeasured_s), 1e-6);
  EXPECT_NEAR(gpu.mean_watts, 100, 1e-6);
  EXPECT_EQ(r.partial_domains, (std::vector<std::string>{"nvml/gpu0"}));
  EXPECT_TRUE(AnyContains(r.warnings, "the total is a lower bound: nvml/gpu0 was measured over"));
}

TEST(MeterGaps, BmcThatStopsAnsweringIsAGapAndTheRestOfTheSystemIsNotComputed) {
  testing::RedfishTestServer server;  // 250 W
  TempDir dir;
  FakePowercap fake(dir.path() / "sys");
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  energy::SourceOptions o;
  o.bmc.url = server.url();
  o.bmc.user = server.options().user;
  o.bmc.password = server.options().password;
  o.bmc.ca_file = testing::RedfishTestServer::CertificateFile();
  o.bmc.poll_interval = 100ms;
  o.bmc.timeout = 1500ms;  // the probe's TLS handshake on a loaded machine
  auto bmc = energy::ProbeRedfish(o);
  ASSERT_EQ(bmc.status, energy::ProbeStatus::kAvailable) << bmc.reason;
  std::vector<std::unique_ptr<energy::Source>> sources;
  sources.push_back(Powercap(dir.path() / "sys"));
  sources.push_back(std::move(bmc.source));
  Meter meter(std::move(sources), MeterOptions{20ms});
  meter.Start();
  const WindowId w = meter.BeginWindow("w");
  std::this_thread::sleep_for(300ms);
  server.Stall();
  auto gap_state = [&](bool open) {
    for (const auto& g : meter.Snapshot().gaps) {
      if (g.domain == "redfish/1" && g.open == open) return true;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!gap_state(true) && std::chrono::steady_clock::now() < deadline) {
    fake.AddEnergy("intel-rapl:0", 1);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(gap_state(true)) << "the BMC's stall never became a gap";
  std::this_thread::sleep_for(300ms);
  server.Release();
  while (!gap_state(false) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(gap_state(false)) << "readings never resumed";
  std::this_thread::sleep_for(300ms);
  const EnergyReport r = meter.EndWindow(w);
  meter.Stop();

  const DomainEnergy& whole = Domain(r, "redfish/1");
  EXPECT_GT(whole.unmeasured_s, 0.25);
  // 250 W over the measured part only: nothing over the stall, nothing interpolated.
  const double measured_s = r.duration_s - whole.unmeasured_s;
  EXPECT_NEAR(whole.joules, 250 * measured_s, 250 * 0.2);
  EXPECT_LT(whole.joules, 250 * r.duration_s - 250 * 0.05);
  // The package went on being sampled through the stall.
  EXPECT_EQ(Domain(r, "rapl/package-0").unmeasured_s, 0);
  EXPECT_GE(Domain(r, "rapl/package-0").joules, 1.0);
  EXPECT_EQ(r.partial_domains, (std::vector<std::string>{"redfish/1"}));
  ASSERT_TRUE(r.whole_system.has_value());
  EXPECT_TRUE(std::isnan(r.whole_system->rest_joules));
  EXPECT_TRUE(AnyContains(r.warnings, "the rest of the system is not computed"));
}

}  // namespace
}  // namespace joulebench::sampling
