// A whole-machine reading (a BMC, through the local Redfish service) with component sensors
// (a fake powercap tree, the model): the components go inside the whole, the total is the
// whole, and the rest of the system is whole minus the measured components.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "joulebench/energy/source.h"
#include "joulebench/sampling/meter.h"
#include "support/fake_powercap.h"
#include "support/redfish_test_server.h"
#include "support/temp_dir.h"

namespace joulebench::sampling {
namespace {

using joulebench::testing::FakePowercap;
using joulebench::testing::RedfishTestServer;
using joulebench::testing::TempDir;
using namespace std::chrono_literals;

constexpr std::uint64_t kRange = 262143328850;

struct Machine {
  TempDir dir;
  FakePowercap powercap{dir.path() / "sys"};
  energy::SourceOptions options;

  explicit Machine(const RedfishTestServer* bmc) {
    options.sysfs_root = dir.path() / "sys";
    options.procfs_root = dir.path() / "proc";
    std::filesystem::create_directories(options.procfs_root);
    if (bmc != nullptr) {
      options.bmc.url = bmc->url();
      options.bmc.user = bmc->options().user;
      options.bmc.password = bmc->options().password;
      options.bmc.ca_file = RedfishTestServer::CertificateFile();
      options.bmc.poll_interval = 100ms;
    }
  }
  Meter Open(std::chrono::nanoseconds interval = 100ms) {
    std::vector<energy::ProbeResult> probes;
    probes.push_back(energy::ProbePowercap(options));
    EXPECT_EQ(probes.back().status, energy::ProbeStatus::kAvailable) << probes.back().reason;
    if (!options.bmc.url.empty()) {
      probes.push_back(energy::ProbeRedfish(options));
      EXPECT_EQ(probes.back().status, energy::ProbeStatus::kAvailable) << probes.back().reason;
    }
    return Meter::FromProbe(std::move(probes), MeterOptions{interval});
  }
};

const DomainEnergy& Domain(const EnergyReport& r, const std::string& name) {
  for (const auto& d : r.domains) {
    if (d.domain.name == name) return d;
  }
  throw std::runtime_error("no domain " + name);
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(WholeSystemSplit, ComponentsGoInsideTheWholeMachineAndTheRestIsTheDifference) {
  RedfishTestServer bmc;  // 250 W
  Machine m(&bmc);
  m.powercap.AddZone("intel-rapl:0", "package-0", kRange);
  m.powercap.AddZone("intel-rapl:0:0", "dram", kRange);
  Meter meter = m.Open();
  const WindowId w = meter.BeginWindow("w");
  m.powercap.AddEnergy("intel-rapl:0", 10);
  m.powercap.AddEnergy("intel-rapl:0:0", 3);
  std::this_thread::sleep_for(300ms);
  const EnergyReport r = meter.EndWindow(w);

  EXPECT_EQ(r.total_domains, (std::vector<std::string>{"redfish/1"}));
  EXPECT_EQ(Domain(r, "rapl/package-0").domain.parent, "redfish/1");
  EXPECT_EQ(Domain(r, "rapl/package-0/dram").domain.parent, "redfish/1");
  EXPECT_FALSE(Domain(r, "rapl/package-0").in_total);
  const double whole = Domain(r, "redfish/1").joules;
  EXPECT_NEAR(whole, 250 * r.duration_s, 0.005 * whole);  // constant power: held exactly
  EXPECT_DOUBLE_EQ(r.total_joules, whole);
  ASSERT_TRUE(r.whole_system.has_value());
  const WholeSystemSplit& s = *r.whole_system;
  EXPECT_EQ(s.whole_domains, (std::vector<std::string>{"redfish/1"}));
  EXPECT_TRUE(s.whole_machine);
  EXPECT_EQ(s.component_domains,
            (std::vector<std::string>{"rapl/package-0", "rapl/package-0/dram"}));
  EXPECT_NEAR(s.component_joules, 13, 1e-9);
  EXPECT_DOUBLE_EQ(s.whole_joules, whole);
  EXPECT_NEAR(s.rest_joules, whole - 13, 1e-9);
  EXPECT_NEAR(s.rest_mean_watts, (whole - 13) / r.duration_s, 1e-9);
  EXPECT_FALSE(s.rest_attributable_joules.has_value());
  EXPECT_TRUE(s.unsubtracted_domains.empty());
}

TEST(WholeSystemSplit, PsysAloneSplitsIntoItsPackagesAndTheRestOfThePlatform) {
  Machine m(nullptr);
  m.powercap.AddZone("intel-rapl:0", "package-0", kRange);
  m.powercap.AddZone("intel-rapl:0:0", "dram", kRange);
  m.powercap.AddZone("intel-rapl:1", "psys", kRange);
  Meter meter = m.Open();
  const WindowId w = meter.BeginWindow("w");
  m.powercap.AddEnergy("intel-rapl:0", 10);
  m.powercap.AddEnergy("intel-rapl:0:0", 3);
  m.powercap.AddEnergy("intel-rapl:1", 25);
  const EnergyReport r = meter.EndWindow(w);
  EXPECT_EQ(r.total_domains, (std::vector<std::string>{"rapl/psys"}));
  ASSERT_TRUE(r.whole_system.has_value());
  EXPECT_FALSE(r.whole_system->whole_machine);
  EXPECT_EQ(r.whole_system->component_domains,
            (std::vector<std::string>{"rapl/package-0", "rapl/package-0/dram"}));
  EXPECT_NEAR(r.whole_system->rest_joules, 12, 1e-9);
}

TEST(WholeSystemSplit, PsysGoesInsideTheBmcsWholeMachineWithItsPackagesInsideIt) {
  RedfishTestServer bmc;
  Machine m(&bmc);
  m.powercap.AddZone("intel-rapl:0", "package-0", kRange);
  m.powercap.AddZone("intel-rapl:1", "psys", kRange);
  Meter meter = m.Open();
  const WindowId w = meter.BeginWindow("w");
  m.powercap.AddEnergy("intel-rapl:0", 10);
  m.powercap.AddEnergy("intel-rapl:1", 25);
  std::this_thread::sleep_for(200ms);
  const EnergyReport r = meter.EndWindow(w);
  EXPECT_EQ(r.total_domains, (std::vector<std::string>{"redfish/1"}));
  EXPECT_EQ(Domain(r, "rapl/psys").domain.parent, "redfish/1");
  EXPECT_EQ(Domain(r, "rapl/package-0").domain.parent, "rapl/psys");
  ASSERT_TRUE(r.whole_system.has_value());
  EXPECT_EQ(r.whole_system->component_domains, (std::vector<std::string>{"rapl/psys"}));
  EXPECT_NEAR(r.whole_system->rest_joules, Domain(r, "redfish/1").joules - 25, 1e-9);
}

// The model's CPU and memory inside a measured whole are estimates: shown, not subtracted.
// Its network traffic is energy outside the machine: added to the whole.
TEST(WholeSystemSplit, ModelledComponentsAreNotSubtractedAndModelledNetworkStaysOutside) {
  RedfishTestServer bmc;
  Machine m(&bmc);
  m.powercap.AddZone("intel-rapl:0", "package-0", kRange);
  m.dir.Write("proc/stat",
              "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n"
              "cpu1 50 0 50 400 0 0 0 0 0 0\n");
  m.dir.Write("proc/meminfo", "MemTotal:        8388608 kB\n");
  m.dir.Write("proc/net/dev",
              "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n"
              "  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n");
  m.options.cpu_family = "Cascade Lake";
  std::vector<energy::ProbeResult> probes;
  probes.push_back(energy::ProbePowercap(m.options));
  probes.push_back(energy::ProbeRedfish(m.options));
  probes.push_back(energy::ProbeModel(m.options, {}));  // as if nothing measured CPU or memory
  for (const auto& p : probes) ASSERT_EQ(p.status, energy::ProbeStatus::kAvailable) << p.reason;
  Meter meter = Meter::FromProbe(std::move(probes), MeterOptions{});
  const WindowId w = meter.BeginWindow("w");
  m.powercap.AddEnergy("intel-rapl:0", 10);
  std::this_thread::sleep_for(200ms);
  const EnergyReport r = meter.EndWindow(w);
  EXPECT_EQ(Domain(r, "model/cpu").domain.parent, "redfish/1");
  EXPECT_EQ(Domain(r, "model/memory").domain.parent, "redfish/1");
  EXPECT_EQ(Domain(r, "model/network").domain.parent, "");
  EXPECT_EQ(r.total_domains, (std::vector<std::string>{"redfish/1", "model/network"}));
  ASSERT_TRUE(r.whole_system.has_value());
  EXPECT_EQ(r.whole_system->component_domains, (std::vector<std::string>{"rapl/package-0"}));
  EXPECT_EQ(r.whole_system->unsubtracted_domains,
            (std::vector<std::string>{"model/cpu", "model/memory"}));
  EXPECT_NEAR(r.whole_system->rest_joules, Domain(r, "redfish/1").joules - 10, 1e-9);
}

TEST(WholeSystemSplit, ComponentsAboveTheWholeAreWarned) {
  RedfishTestServer::Options o;
  o.profile = "100:1";
  RedfishTestServer bmc(o);
  Machine m(&bmc);
  m.powercap.AddZone("intel-rapl:0", "package-0", kRange);
  Meter meter = m.Open();
  const WindowId w = meter.BeginWindow("w");
  m.powercap.AddEnergy("intel-rapl:0", 300);
  std::this_thread::sleep_for(200ms);
  const EnergyReport r = meter.EndWindow(w);
  ASSERT_TRUE(r.whole_system.has_value());
  EXPECT_LT(r.whole_system->rest_joules, -250);
  bool warned = false;
  for (const auto& text : r.warnings) {
    warned = warned || text.find("the rest of the system is negative") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

TEST(WholeSystemSplit, BaselineGivesTheRestItsAttributableEnergy) {
  RedfishTestServer bmc;
  Machine m(&bmc);
  m.powercap.AddZone("intel-rapl:0", "package-0", kRange);
  Meter meter = m.Open();
  meter.SetBaseline({{"redfish/1", 200.0}, {"rapl/package-0", 5.0}});
  const WindowId w = meter.BeginWindow("w");
  m.powercap.AddEnergy("intel-rapl:0", 10);
  std::this_thread::sleep_for(200ms);
  const EnergyReport r = meter.EndWindow(w);
  ASSERT_TRUE(r.whole_system.has_value());
  ASSERT_TRUE(r.whole_system->rest_attributable_joules.has_value());
  const double d = r.duration_s;
  EXPECT_NEAR(*r.whole_system->rest_attributable_joules,
              (Domain(r, "redfish/1").joules - 200 * d) - (10 - 5 * d), 1e-9);
  EXPECT_NEAR(*r.total_attributable_joules, Domain(r, "redfish/1").joules - 200 * d, 1e-9);
}

// Power steps between 200 and 300 W every second on the BMC; the meter samples every 10 ms
// and the source polls every 100 ms. The window's energy is within 2 % of the profile's.
TEST(WholeSystemSplit, KnownPowerProfileIsIntegratedWithinTwoPercent) {
  RedfishTestServer::Options o;
  o.profile = "200:1,300:1";
  RedfishTestServer bmc(o);
  Machine m(&bmc);  // polls every 100 ms
  m.powercap.AddZone("intel-rapl:0", "package-0", kRange);
  Meter meter = m.Open(10ms);
  meter.Start();
  const WindowId w = meter.BeginWindow("profile");
  const double begin_unix_s = UnixNow();
  std::this_thread::sleep_for(5s);
  const double end_unix_s = UnixNow();
  const EnergyReport r = meter.EndWindow(w);
  meter.Stop();
  const double truth = bmc.ProfileJoules(begin_unix_s, end_unix_s);
  const double measured = Domain(r, "redfish/1").joules;
  RecordProperty("measured_over_truth", std::to_string(measured / truth));
  EXPECT_NEAR(measured, truth, 0.02 * truth) << "profile energy " << truth << " J";
  EXPECT_NEAR(r.duration_s, end_unix_s - begin_unix_s, 0.05);
}

}  // namespace
}  // namespace joulebench::sampling
