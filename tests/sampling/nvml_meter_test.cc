// The NVML source under the real Meter, with the fake libnvidia-ml.so: the energy of a window
// is the counter's difference, or the gauge's power times the window's duration.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "joulebench/energy/source.h"
#include "joulebench/sampling/meter.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::sampling {
namespace {

// Replaces the fake's control file atomically, since the sampler thread reads it meanwhile.
class FakeNvmlScript {
 public:
  FakeNvmlScript() {
    path_ = dir_.path() / "nvml.conf";
    ::setenv("JOULEBENCH_FAKE_NVML_CONFIG", path_.c_str(), 1);
  }
  ~FakeNvmlScript() { ::unsetenv("JOULEBENCH_FAKE_NVML_CONFIG"); }
  void Set(const std::string& config) {
    const auto staged = dir_.Write("nvml.conf.new", config);
    std::filesystem::rename(staged, path_);
  }

 private:
  testing::TempDir dir_;
  std::filesystem::path path_;
};

std::unique_ptr<energy::Source> ProbeFakeNvml() {
  energy::SourceOptions options;
  options.nvml_library = testing::FakeLibraryPath("fake_nvml");
  auto result = energy::ProbeNvml(options);
  EXPECT_EQ(result.status, energy::ProbeStatus::kAvailable) << result.reason;
  return std::move(result.source);
}

TEST(NvmlUnderMeter, WindowEnergyIsTheCounterDifference) {
  FakeNvmlScript script;
  script.Set("count=1\ngpu0.arch=9\ngpu0.energy_mj=1000\n");
  std::vector<std::unique_ptr<energy::Source>> sources;
  sources.push_back(ProbeFakeNvml());
  ASSERT_TRUE(sources[0]);
  Meter meter(std::move(sources), MeterOptions{std::chrono::milliseconds(5)});
  meter.Start();
  const WindowId w = meter.BeginWindow("counter");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  script.Set("count=1\ngpu0.arch=9\ngpu0.energy_mj=3500\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  script.Set("count=1\ngpu0.arch=9\ngpu0.energy_mj=6000\n");
  const EnergyReport report = meter.EndWindow(w);
  meter.Stop();
  ASSERT_EQ(report.domains.size(), 1u);
  EXPECT_EQ(report.domains[0].domain.name, "nvml/gpu0");
  EXPECT_NEAR(report.domains[0].joules, 5.0, 1e-9);
  // A Hopper GPU averages over 1 s: a 60 ms window is flagged.
  bool flagged = false;
  for (const auto& warning : report.warnings) {
    flagged |= warning.find("nvml/gpu0") != std::string::npos;
  }
  EXPECT_TRUE(flagged);
}

TEST(NvmlUnderMeter, WindowEnergyOfAConstantGaugeIsPowerTimesDuration) {
  FakeNvmlScript script;
  script.Set("count=1\ngpu0.arch=6\ngpu0.energy_error=3\ngpu0.power_mw=70000\n");
  std::vector<std::unique_ptr<energy::Source>> sources;
  sources.push_back(ProbeFakeNvml());
  ASSERT_TRUE(sources[0]);
  Meter meter(std::move(sources), MeterOptions{std::chrono::milliseconds(5)});
  meter.Start();
  const WindowId w = meter.BeginWindow("gauge");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const EnergyReport report = meter.EndWindow(w);
  meter.Stop();
  ASSERT_EQ(report.domains.size(), 1u);
  EXPECT_GT(report.duration_s, 0.04);
  EXPECT_NEAR(report.domains[0].joules, 70.0 * report.duration_s, 1e-6);
  EXPECT_NEAR(report.domains[0].mean_watts, 70.0, 1e-6);
}

}  // namespace
}  // namespace joulebench::sampling
