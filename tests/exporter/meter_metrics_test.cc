// The meter's metrics as a scrape shows them (MetricsServer::Scrape, and over HTTP): energy
// counters that survive a sensor's wrap-around, power, the machine total, source health.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "energy/powercap_source.h"
#include "exporter/exposition_text.h"
#include "joulebench/exporter/metrics_server.h"
#include "joulebench/sampling/meter.h"
#include "support/fake_powercap.h"
#include "support/temp_dir.h"

namespace joulebench::exporter {
namespace {

using joulebench::testing::FakePowercap;
using joulebench::testing::SampleCount;
using joulebench::testing::SampleValue;
using joulebench::testing::TempDir;
using namespace std::chrono_literals;

constexpr std::uint64_t kRange = 262143328850;

sampling::Meter MeterOn(const TempDir& dir, std::chrono::nanoseconds interval = 1h) {
  energy::SourceOptions o;
  o.sysfs_root = dir.path();
  std::vector<energy::ProbeResult> probes;
  probes.push_back(energy::ProbePowercap(o));
  EXPECT_EQ(probes[0].status, energy::ProbeStatus::kAvailable) << probes[0].reason;
  return sampling::Meter::FromProbe(std::move(probes), sampling::MeterOptions{interval});
}

double Energy(const std::string& text, const std::string& domain) {
  const auto v = SampleValue(text, "joulebench_energy_joules_total", {{"domain", domain}});
  EXPECT_TRUE(v) << "no energy of " << domain << " in\n" << text;
  return v.value_or(-1);
}

TEST(MeterMetrics, EnergyCounterKeepsGrowingWhenTheSensorCounterWraps) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", 100'000'000, 90'000'000);  // wraps at 100 J
  sampling::Meter meter = MeterOn(dir, 10ms);
  meter.Start();
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "test"));
  server.ExportMeter(meter);
  EXPECT_DOUBLE_EQ(Energy(server.Scrape(), "rapl/package-0"), 0);
  double fed = 0;
  double previous = 0;
  for (int step = 0; step < 5; ++step) {  // 5 x 30 J: the raw counter wraps twice
    fake.AddEnergy("intel-rapl:0", 30);
    fed += 30;
    std::this_thread::sleep_for(60ms);  // a few samples
    meter.EndWindow(meter.BeginWindow("one more sample"));
    const double exported = Energy(server.Scrape(), "rapl/package-0");
    EXPECT_GE(exported, previous) << "the counter went down at step " << step;
    EXPECT_NEAR(exported, fed, 1e-6);
    previous = exported;
  }
  EXPECT_LT(fake.Energy("intel-rapl:0"), 90'000'000U) << "the raw counter did not wrap";
}

TEST(MeterMetrics, MachineTotalAddsPackagesButNotTheCoresInsideThem) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:0:0", "core", kRange);
  fake.AddZone("intel-rapl:1", "package-1", kRange);
  sampling::Meter meter = MeterOn(dir);
  meter.Start();
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "test"));
  server.ExportMeter(meter);
  const auto w = meter.BeginWindow("all");
  fake.AddEnergy("intel-rapl:0", 10);
  fake.AddEnergy("intel-rapl:0:0", 6);
  fake.AddEnergy("intel-rapl:1", 3);
  const sampling::EnergyReport report = meter.EndWindow(w);
  const std::string text = server.Scrape();
  EXPECT_NEAR(SampleValue(text, "joulebench_machine_energy_joules_total").value_or(-1), 13, 1e-6);
  EXPECT_NEAR(SampleValue(text, "joulebench_machine_energy_joules_total").value_or(-1),
              report.total_joules, 1e-6);
  EXPECT_NEAR(Energy(text, "rapl/package-0/core"), 6, 1e-6);
  EXPECT_EQ(SampleValue(text, "joulebench_domain_info",
                        {{"domain", "rapl/package-0/core"}, {"counted_in_total", "false"}}),
            1);
  EXPECT_EQ(SampleValue(text, "joulebench_domain_info",
                        {{"domain", "rapl/package-1"}, {"counted_in_total", "true"}}),
            1);
}

TEST(MeterMetrics, EnergyLabelsNameDomainComponentAndProvenance) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:0:1", "dram", kRange);
  sampling::Meter meter = MeterOn(dir);
  meter.Start();
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "test"));
  server.ExportMeter(meter);
  const std::string text = server.Scrape();
  EXPECT_TRUE(SampleValue(
      text, "joulebench_energy_joules_total",
      {{"domain", "rapl/package-0/dram"}, {"component", "dram"}, {"provenance", "measured"}}));
  EXPECT_TRUE(SampleValue(text, "joulebench_domain_info",
                          {{"domain", "rapl/package-0"},
                           {"source", "powercap"},
                           {"sensor", "powercap RAPL intel-rapl:0"}}))
      << text;
  EXPECT_EQ(SampleCount(text, "joulebench_energy_joules_total"), 2U);
}

TEST(MeterMetrics, PowerIsTheMeanOverTheLastSecond) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  sampling::Meter meter = MeterOn(dir, 10ms);
  meter.Start();
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "test"));
  server.ExportMeter(meter);
  // 25 W for 1.5 s, fed every 5 ms. The tolerance covers a late feeder on a loaded machine
  // (50 ms late is 5 % of the second the power is averaged over).
  const auto begin = std::chrono::steady_clock::now();
  double fed = 0;
  while (std::chrono::steady_clock::now() - begin < 1500ms) {
    std::this_thread::sleep_for(5ms);
    const double due =
        25.0 * std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    fake.AddEnergy("intel-rapl:0", due - fed);
    fed = due;
  }
  const std::string text = server.Scrape();
  EXPECT_NEAR(
      SampleValue(text, "joulebench_power_watts", {{"domain", "rapl/package-0"}}).value_or(-1), 25,
      25 * 0.08);
  EXPECT_NEAR(SampleValue(text, "joulebench_machine_power_watts").value_or(-1), 25, 25 * 0.08);
}

TEST(MeterMetrics, SourceIsDownWhileItsCounterCannotBeRead) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 1000);
  sampling::Meter meter = MeterOn(dir);
  meter.Start();
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "test"));
  server.ExportMeter(meter);
  EXPECT_EQ(SampleValue(server.Scrape(), "joulebench_source_up", {{"source", "powercap"}}), 1);
  fake.SetRawEnergyContents("intel-rapl:0", "garbage\n");
  meter.EndWindow(meter.BeginWindow("bad read"));
  std::string text = server.Scrape();
  EXPECT_EQ(SampleValue(text, "joulebench_source_up", {{"source", "powercap"}}), 0);
  EXPECT_GE(SampleValue(text, "joulebench_domain_read_errors_total", {{"domain", "rapl/package-0"}})
                .value_or(0),
            1);
  fake.SetEnergy("intel-rapl:0", 2000);
  meter.EndWindow(meter.BeginWindow("good again"));
  EXPECT_EQ(SampleValue(server.Scrape(), "joulebench_source_up", {{"source", "powercap"}}), 1);
}

TEST(MeterMetrics, WhileADomainHasAGapItsPowerIsAbsentAndItIsNotMeasuring) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange, 1000);
  fake.AddZone("intel-rapl:1", "package-1", kRange, 1000);
  sampling::Meter meter = MeterOn(dir);
  meter.Start();
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "test"));
  server.ExportMeter(meter);
  fake.AddEnergy("intel-rapl:0", 5);
  fake.AddEnergy("intel-rapl:1", 5);
  meter.EndWindow(meter.BeginWindow("good"));
  std::string text = server.Scrape();
  EXPECT_EQ(SampleValue(text, "joulebench_domain_measuring", {{"domain", "rapl/package-0"}}), 1);
  EXPECT_TRUE(SampleValue(text, "joulebench_power_watts", {{"domain", "rapl/package-0"}}));
  EXPECT_TRUE(SampleValue(text, "joulebench_machine_power_watts"));

  fake.SetRawEnergyContents("intel-rapl:0", "garbage\n");
  fake.AddEnergy("intel-rapl:1", 5);
  meter.EndWindow(meter.BeginWindow("gap in package-0"));
  text = server.Scrape();
  EXPECT_EQ(SampleValue(text, "joulebench_domain_measuring", {{"domain", "rapl/package-0"}}), 0);
  EXPECT_EQ(SampleValue(text, "joulebench_domain_measuring", {{"domain", "rapl/package-1"}}), 1);
  // No power of a domain whose energy over the span is not measured, and so no machine power
  // (it would be the other domains' only, under the machine's label).
  EXPECT_FALSE(SampleValue(text, "joulebench_power_watts", {{"domain", "rapl/package-0"}})) << text;
  EXPECT_TRUE(SampleValue(text, "joulebench_power_watts", {{"domain", "rapl/package-1"}}));
  EXPECT_FALSE(SampleValue(text, "joulebench_machine_power_watts")) << text;

  fake.SetEnergy("intel-rapl:0", 2000);
  meter.EndWindow(meter.BeginWindow("good again"));
  EXPECT_EQ(
      SampleValue(server.Scrape(), "joulebench_domain_measuring", {{"domain", "rapl/package-0"}}),
      1);
}

TEST(MeterMetrics, MachineEnergyKeepsGrowingWhenAContainingDomainIsLost) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  fake.AddZone("intel-rapl:1", "psys", kRange);
  sampling::Meter meter = MeterOn(dir);
  meter.Start();
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "test"));
  server.ExportMeter(meter);
  const auto counts = meter.BeginWindow("psys counts");
  fake.AddEnergy("intel-rapl:0", 10);
  fake.AddEnergy("intel-rapl:1", 25);
  meter.EndWindow(counts);
  std::string text = server.Scrape();
  const double before = SampleValue(text, "joulebench_machine_energy_joules_total").value_or(-1);
  EXPECT_NEAR(before, 25, 1e-6) << "psys is the machine; the package is inside it";

  fake.RemoveZone("intel-rapl:1");
  fake.AddEnergy("intel-rapl:0", 4);
  // psys's unchanged counter is checked at the next sample: its file is gone, it is lost.
  const auto gone = meter.BeginWindow("psys found gone");
  fake.AddEnergy("intel-rapl:0", 6);
  meter.EndWindow(gone);
  text = server.Scrape();
  const double after = SampleValue(text, "joulebench_machine_energy_joules_total").value_or(-1);
  // The package's 10 J since psys was lost join the total; psys's own series (flat since the
  // loss) no longer counts, and the counter never goes down to the package's 20 J.
  EXPECT_NEAR(after, 35, 1e-6) << text;
  EXPECT_EQ(SampleValue(text, "joulebench_domain_measuring", {{"domain", "rapl/psys"}}), 0);
}

TEST(MeterMetrics, SamplerSettingsAndCostAreExported) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  sampling::Meter meter = MeterOn(dir, 250ms);
  meter.Start();
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "test"));
  server.ExportMeter(meter);
  meter.EndWindow(meter.BeginWindow("one more sample"));
  const std::string text = server.Scrape();
  EXPECT_DOUBLE_EQ(SampleValue(text, "joulebench_sampler_interval_seconds").value_or(-1), 0.25);
  EXPECT_EQ(SampleValue(text, "joulebench_sampler_samples_total").value_or(-1),
            static_cast<double>(meter.sample_count()));
  EXPECT_GE(SampleValue(text, "joulebench_sampler_cpu_seconds_total").value_or(-1), 0);
  const double now_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(SampleValue(text, "joulebench_sampler_last_sample_timestamp_seconds").value_or(0),
              now_s, 5);
}

TEST(MeterMetrics, FrozenMeterKeepsServingItsLastValuesAfterItIsGone) {
  TempDir dir;
  FakePowercap fake(dir.path());
  fake.AddZone("intel-rapl:0", "package-0", kRange);
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "test"));
  {
    sampling::Meter meter = MeterOn(dir);
    meter.Start();
    server.ExportMeter(meter);
    fake.AddEnergy("intel-rapl:0", 42);
    meter.Stop();  // takes a last sample
    server.FreezeMeter();
  }
  EXPECT_NEAR(Energy(server.Scrape(), "rapl/package-0"), 42, 1e-6);
}

TEST(MeterMetrics, MeterWithoutDomainsExportsNoEnergy) {
  sampling::Meter meter(std::vector<std::unique_ptr<energy::Source>>{}, sampling::MeterOptions{});
  MetricsServer server(ParseListenAddress("127.0.0.1:0", "test"));
  server.ExportMeter(meter);
  const std::string text = server.Scrape();
  EXPECT_FALSE(SampleValue(text, "joulebench_machine_energy_joules_total"));
  EXPECT_TRUE(SampleValue(text, "joulebench_build_info"));
}

}  // namespace
}  // namespace joulebench::exporter
