// NVML through a fake libnvidia-ml.so (tests/fakes/fake_nvml.c) loaded by the production dlopen
// path and scripted through its control file.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::energy {
namespace {

using testing::FakeLibraryPath;
using testing::TempDir;

// Writes the fake's control file and points the fake at it for the test's lifetime.
class FakeNvml {
 public:
  explicit FakeNvml(const std::string& config) {
    Set(config);
    ::setenv("JOULEBENCH_FAKE_NVML_CONFIG", path_.c_str(), 1);
  }
  ~FakeNvml() { ::unsetenv("JOULEBENCH_FAKE_NVML_CONFIG"); }
  void Set(const std::string& config) { path_ = dir_.Write("nvml.conf", config); }
  std::filesystem::path Path(const std::string& name) const { return dir_.path() / name; }
  SourceOptions Options(const std::string& library = "fake_nvml") const {
    SourceOptions options;
    options.nvml_library = FakeLibraryPath(library);
    return options;
  }

 private:
  TempDir dir_;
  std::filesystem::path path_;
};

std::vector<Reading> ReadAll(Source& source) {
  std::vector<Reading> out(source.domains().size());
  source.Read(out);
  return out;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

constexpr const char* kHopper =
    "count=1\n"
    "gpu0.name=NVIDIA H200\n"
    "gpu0.uuid=GPU-5f3c2a10-aaaa-bbbb-cccc-0123456789ab\n"
    "gpu0.arch=9\n"
    "gpu0.energy_mj=5000\n"
    "gpu0.energy_step_mj=1500\n"
    "gpu0.limit_mw=700000\n";

TEST(NvmlSource, CounterPathReportsJoulesFromTheMillijouleCounter) {
  FakeNvml fake(kHopper);
  auto result = ProbeNvml(fake.Options());
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  ASSERT_EQ(result.source->domains().size(), 1u);
  const auto& d = result.source->domains()[0];
  EXPECT_EQ(d.name, "nvml/gpu0");
  EXPECT_EQ(d.component, Component::kAccelerator);
  EXPECT_EQ(d.signal, SignalKind::kCounter);
  EXPECT_DOUBLE_EQ(d.counter_range_joules, 0.0);
  EXPECT_DOUBLE_EQ(d.max_watts, 700.0);
  // The probe read the counter once (5000 mJ); each call adds 1500 mJ.
  auto r = ReadAll(*result.source);
  EXPECT_TRUE(r[0].ok);
  EXPECT_DOUBLE_EQ(r[0].value, 6.5);
  r = ReadAll(*result.source);
  EXPECT_DOUBLE_EQ(r[0].value, 8.0);
  // A script step: the counter jumps to 100 J (+ 3 calls x 1.5 J).
  fake.Set(std::string(kHopper) + "gpu0.energy_mj=100000\n");
  r = ReadAll(*result.source);
  EXPECT_DOUBLE_EQ(r[0].value, 104.5);
}

TEST(NvmlSource, ProvenanceAndDetailsNameGpuIndexUuidAndDriver) {
  FakeNvml fake(std::string(kHopper) + "driver=560.35.03\n");
  auto result = ProbeNvml(fake.Options());
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  EXPECT_EQ(result.source->domains()[0].provenance.Describe(),
            "measured: NVML energy counter, GPU 0 NVIDIA H200 "
            "(GPU-5f3c2a10-aaaa-bbbb-cccc-0123456789ab), driver 560.35.03");
  ASSERT_EQ(result.details.size(), 2u);
  EXPECT_TRUE(Contains(result.details[0], "driver 560.35.03")) << result.details[0];
  EXPECT_TRUE(Contains(result.details[1], "gpu0: NVIDIA H200, GPU-5f3c2a10")) << result.details[1];
  EXPECT_TRUE(Contains(result.details[1], "Hopper")) << result.details[1];
  EXPECT_TRUE(Contains(result.details[1], "power limit 700 W")) << result.details[1];
}

TEST(NvmlSource, GaugePathWhenTheEnergyCounterIsNotSupported) {
  FakeNvml fake(
      "count=1\ngpu0.name=Tesla T4\ngpu0.arch=6\ngpu0.energy_error=3\ngpu0.power_mw=70250\n");
  auto result = ProbeNvml(fake.Options());
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const auto& d = result.source->domains()[0];
  EXPECT_EQ(d.signal, SignalKind::kGauge);
  EXPECT_TRUE(Contains(d.provenance.by, "NVML power gauge, GPU 0 Tesla T4")) << d.provenance.by;
  EXPECT_TRUE(Contains(d.note, "integrated")) << d.note;
  auto r = ReadAll(*result.source);
  EXPECT_TRUE(r[0].ok);
  EXPECT_DOUBLE_EQ(r[0].value, 70.25);
  fake.Set("count=1\ngpu0.arch=6\ngpu0.energy_error=3\ngpu0.power_mw=31000\n");
  r = ReadAll(*result.source);
  EXPECT_DOUBLE_EQ(r[0].value, 31.0);
}

TEST(NvmlSource, AmpereAndNewerAskForWindowsOfAtLeastOneSecond) {
  for (unsigned arch : {7u, 8u, 9u, 10u}) {
    FakeNvml fake("count=1\ngpu0.energy_mj=1\ngpu0.arch=" + std::to_string(arch) + "\n");
    auto result = ProbeNvml(fake.Options());
    ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
    const auto& d = result.source->domains()[0];
    EXPECT_DOUBLE_EQ(d.min_window_s, 1.0) << "arch " << arch;
    EXPECT_DOUBLE_EQ(d.update_period_s, 0.1) << "arch " << arch;
    EXPECT_TRUE(Contains(d.note, "averages power over 1 s")) << d.note;
  }
}

TEST(NvmlSource, VoltaAndTuringHaveNoMinimumWindow) {
  for (unsigned arch : {5u, 6u}) {
    FakeNvml fake("count=1\ngpu0.energy_mj=1\ngpu0.arch=" + std::to_string(arch) + "\n");
    auto result = ProbeNvml(fake.Options());
    ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
    EXPECT_DOUBLE_EQ(result.source->domains()[0].min_window_s, 0.0) << "arch " << arch;
  }
}

struct InitCase {
  int code;
  ProbeStatus status;
  std::string in_reason;
  std::string in_fix;
};

class NvmlInitFailure : public ::testing::TestWithParam<InitCase> {};

TEST_P(NvmlInitFailure, BecomesAStatusAReasonAndAFix) {
  const InitCase& c = GetParam();
  FakeNvml fake("init=" + std::to_string(c.code) + "\ncount=1\n");
  auto result = ProbeNvml(fake.Options());
  EXPECT_EQ(result.status, c.status);
  EXPECT_EQ(result.source, nullptr);
  EXPECT_TRUE(Contains(result.reason, "nvmlInit failed")) << result.reason;
  EXPECT_TRUE(Contains(result.reason, c.in_reason)) << result.reason;
  EXPECT_TRUE(Contains(result.fix, c.in_fix)) << result.fix;
}

INSTANTIATE_TEST_SUITE_P(
    Codes, NvmlInitFailure,
    ::testing::Values(
        InitCase{9, ProbeStatus::kAbsent, "Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)",
                 "modprobe nvidia"},
        InitCase{4, ProbeStatus::kPermissionDenied,
                 "Insufficient Permissions (NVML_ERROR_NO_PERMISSION)", "/dev/nvidia"},
        InitCase{18, ProbeStatus::kError, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", "reboot"},
        InitCase{15, ProbeStatus::kError, "GPU is lost (NVML_ERROR_GPU_IS_LOST)", "dmesg"},
        InitCase{17, ProbeStatus::kPermissionDenied, "NVML_ERROR_OPERATING_SYSTEM", "cgroup"},
        InitCase{999, ProbeStatus::kError, "NVML_ERROR_UNKNOWN", "driver"},
        InitCase{4242, ProbeStatus::kError, "NVML_ERROR_4242", "newer driver"}));

TEST(NvmlSource, NoGpuIsAbsent) {
  FakeNvml fake("count=0\n");
  auto result = ProbeNvml(fake.Options());
  EXPECT_EQ(result.status, ProbeStatus::kAbsent);
  EXPECT_TRUE(Contains(result.reason, "no GPU")) << result.reason;
}

TEST(NvmlSource, AGpuCountNoMachineHasIsAnErrorNotBillionsOfQueries) {
  // Found by fuzzing: a count of 4294967295 made the probe allocate 4 billion GPU records.
  FakeNvml fake("count=1\ncount_reported=4294967295\n");
  const ProbeResult r = ProbeNvml(fake.Options());
  EXPECT_EQ(r.status, ProbeStatus::kError);
  EXPECT_TRUE(Contains(r.reason, "reports 4294967295 GPUs")) << r.reason;
  EXPECT_EQ(r.source, nullptr);
}

TEST(NvmlSource, ANameThatFillsTheBufferWithoutANulIsCutAtTheBuffer) {
  // NVML may fill the caller's buffer without a NUL; reading it as a C string ran past the
  // buffer (AddressSanitizer: stack-buffer-overflow in the fuzz target).
  FakeNvml fake("count=1\ngpu0.name=ABCDEFGH\ngpu0.name_unterminated=1\ngpu0.energy_mj=1\n");
  const ProbeResult r = ProbeNvml(fake.Options());
  ASSERT_NE(r.source, nullptr) << r.reason;
  std::string pattern;
  while (pattern.size() < 96) pattern += "ABCDEFGH";
  EXPECT_TRUE(Contains(r.source->domains()[0].provenance.by, "GPU 0 " + pattern + " ("))
      << r.source->domains()[0].provenance.by;
}

TEST(NvmlSource, ANameThatIsNotUtf8IsMadePrintableSoTheRunCanBeStored) {
  FakeNvml fake("count=1\ngpu0.name=Tesla \xff\x1b[2J\ngpu0.energy_mj=1\n");
  const ProbeResult r = ProbeNvml(fake.Options());
  ASSERT_NE(r.source, nullptr) << r.reason;
  const std::string& by = r.source->domains()[0].provenance.by;
  EXPECT_TRUE(Contains(by, "GPU 0 Tesla ? [2J (")) << by;
  EXPECT_NO_THROW((void)nlohmann::json(by).dump());
}

TEST(NvmlSource, DeviceCountFailureIsReported) {
  FakeNvml fake("count=1\ncount_error=15\n");
  auto result = ProbeNvml(fake.Options());
  EXPECT_EQ(result.status, ProbeStatus::kError);
  EXPECT_TRUE(Contains(result.reason, "nvmlDeviceGetCount failed: GPU is lost")) << result.reason;
}

TEST(NvmlSource, GpuWithoutAnyReadingIsLeftOutAndSaysWhy) {
  FakeNvml fake(
      "count=2\ngpu0.name=Old GPU\ngpu0.energy_error=3\ngpu0.power_error=3\n"
      "gpu1.name=Good GPU\ngpu1.energy_mj=10\n");
  auto result = ProbeNvml(fake.Options());
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  ASSERT_EQ(result.source->domains().size(), 1u);
  EXPECT_EQ(result.source->domains()[0].name, "nvml/gpu1");
  ASSERT_EQ(result.details.size(), 3u);
  EXPECT_TRUE(Contains(result.details[1], "gpu0: Old GPU")) << result.details[1];
  EXPECT_TRUE(Contains(result.details[1], "Not Supported (NVML_ERROR_NOT_SUPPORTED)"))
      << result.details[1];
}

TEST(NvmlSource, NoGpuWithAReadingIsUnsupported) {
  FakeNvml fake("count=1\ngpu0.energy_error=3\ngpu0.power_error=3\n");
  auto result = ProbeNvml(fake.Options());
  EXPECT_EQ(result.status, ProbeStatus::kUnsupported);
  EXPECT_TRUE(Contains(result.reason, "no GPU reports power or energy")) << result.reason;
  EXPECT_FALSE(result.fix.empty());
}

TEST(NvmlSource, EnergyCounterErrorOtherThanNotSupportedFallsBackToPowerAndSaysSo) {
  FakeNvml fake("count=1\ngpu0.energy_error=4\ngpu0.power_mw=1000\n");
  auto result = ProbeNvml(fake.Options());
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const auto& d = result.source->domains()[0];
  EXPECT_EQ(d.signal, SignalKind::kGauge);
  EXPECT_TRUE(Contains(d.note, "energy counter failed: Insufficient Permissions")) << d.note;
}

TEST(NvmlSource, ReadFailureIsNotOkAndWarnedOnceWithTheFix) {
  FakeNvml fake(kHopper);
  auto result = ProbeNvml(fake.Options());
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  fake.Set(std::string(kHopper) + "gpu0.energy_error=15\n");
  auto r = ReadAll(*result.source);
  EXPECT_FALSE(r[0].ok);
  r = ReadAll(*result.source);
  auto warnings = result.source->TakeWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(Contains(warnings[0], "nvml/gpu0")) << warnings[0];
  EXPECT_TRUE(Contains(warnings[0], "GPU is lost (NVML_ERROR_GPU_IS_LOST)")) << warnings[0];
  EXPECT_TRUE(Contains(warnings[0], "nvidia-smi -r")) << warnings[0];
  EXPECT_TRUE(result.source->TakeWarnings().empty());
  // A lost GPU stays lost until it is reset: it is not asked again, and says why.
  EXPECT_TRUE(r[0].lost);
  ASSERT_NE(r[0].problem, nullptr);
  EXPECT_TRUE(Contains(r[0].problem, "NVML_ERROR_GPU_IS_LOST")) << r[0].problem;
  fake.Set(kHopper);
  r = ReadAll(*result.source);
  EXPECT_FALSE(r[0].ok);
  EXPECT_TRUE(r[0].lost);
}

TEST(NvmlSource, TransientReadFailureRecoversAndSaysWhy) {
  FakeNvml fake(kHopper);
  auto result = ProbeNvml(fake.Options());
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  fake.Set(std::string(kHopper) + "gpu0.energy_error=999\n");
  auto r = ReadAll(*result.source);
  EXPECT_FALSE(r[0].ok);
  EXPECT_FALSE(r[0].lost);
  ASSERT_NE(r[0].problem, nullptr);
  EXPECT_STREQ(r[0].problem, "Unknown Error");  // nvmlErrorString's own words
  fake.Set(kHopper);
  r = ReadAll(*result.source);
  EXPECT_TRUE(r[0].ok);
}

TEST(NvmlSource, ShutsNvmlDownWhenTheSourceIsDestroyed) {
  TempDir dir;
  const auto log = dir.path() / "calls.log";
  FakeNvml fake(std::string(kHopper) + "log=" + log.string() + "\n");
  auto result = ProbeNvml(fake.Options());
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  EXPECT_EQ(testing::ReadFile(log), "init\n");
  result.source.reset();
  EXPECT_EQ(testing::ReadFile(log), "init\nshutdown\n");
}

TEST(NvmlSource, FailedInitIsNotShutDown) {
  TempDir dir;
  const auto log = dir.path() / "calls.log";
  FakeNvml fake("init=9\nlog=" + log.string() + "\n");
  { auto result = ProbeNvml(fake.Options()); }
  EXPECT_EQ(testing::ReadFile(log), "init\n");
}

TEST(NvmlSource, OldNvmlWithoutV2EntryPointsOrEnergyCounterUsesThePowerGauge) {
  FakeNvml fake("count=1\ngpu0.name=Tesla K80\ngpu0.power_mw=149000\n");
  auto result = ProbeNvml(fake.Options("fake_nvml_old"));
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const auto& d = result.source->domains()[0];
  EXPECT_EQ(d.signal, SignalKind::kGauge);
  EXPECT_DOUBLE_EQ(d.min_window_s, 0.0);
  auto r = ReadAll(*result.source);
  EXPECT_DOUBLE_EQ(r[0].value, 149.0);
}

TEST(NvmlSource, PathThatIsNotALibraryIsAnErrorNamingThePath) {
  TempDir dir;
  const auto not_a_library = dir.Write("libnvidia-ml.so.1", "this is not an ELF file\n");
  SourceOptions options;
  options.nvml_library = not_a_library.string();
  auto result = ProbeNvml(options);
  EXPECT_EQ(result.status, ProbeStatus::kError);
  EXPECT_TRUE(Contains(result.reason, "cannot load the NVML library '" + not_a_library.string()))
      << result.reason;
  EXPECT_TRUE(Contains(result.fix, "--nvml-library")) << result.fix;
}

TEST(NvmlSource, MissingLibraryPathIsAnError) {
  TempDir dir;
  SourceOptions options;
  options.nvml_library = (dir.path() / "nope.so").string();
  auto result = ProbeNvml(options);
  EXPECT_EQ(result.status, ProbeStatus::kError);
  EXPECT_TRUE(Contains(result.reason, "nope.so")) << result.reason;
}

TEST(NvmlSource, EmptyLibraryPathIsAnError) {
  SourceOptions options;
  options.nvml_library = "";
  auto result = ProbeNvml(options);
  EXPECT_EQ(result.status, ProbeStatus::kError);
  EXPECT_TRUE(Contains(result.reason, "empty")) << result.reason;
}

TEST(NvmlSource, DefaultLibraryMissingMeansNoDriverNotAnError) {
  if (void* real = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
    ::dlclose(real);
    GTEST_SKIP() << "this machine has an NVIDIA driver";
  }
  auto result = ProbeNvml(SourceOptions{});
  EXPECT_EQ(result.status, ProbeStatus::kAbsent);
  EXPECT_TRUE(Contains(result.reason, "libnvidia-ml.so.1 not found")) << result.reason;
}

TEST(NvmlSource, LibraryWithoutNvmlFunctionsIsAnError) {
  SourceOptions options;
  options.nvml_library = "libm.so.6";
  auto result = ProbeNvml(options);
  EXPECT_EQ(result.status, ProbeStatus::kError);
  EXPECT_TRUE(Contains(result.reason,
                       "'libm.so.6' is not an NVML library: it has no function "
                       "nvmlInit_v2"))
      << result.reason;
}

}  // namespace
}  // namespace joulebench::energy
