// The GPU power limit through the fake libnvidia-ml.so (tests/fakes/fake_nvml.c): its range,
// setting and restoring it, and NVML refusing.
#include "joulebench/energy/gpu_power_limit.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "joulebench/error.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::energy {
namespace {

class FakeGpu {
 public:
  explicit FakeGpu(const std::string& extra) {
    log_ = dir_.path() / "nvml.log";
    config_ = dir_.Write("nvml.conf",
                         "count=1\ngpu0.name=Fake H100\ngpu0.limit_mw=700000\n"
                         "gpu0.limit_min_mw=200000\ngpu0.limit_max_mw=700000\nlog=" +
                             log_.string() + "\n" + extra);
    ::setenv("JOULEBENCH_FAKE_NVML_CONFIG", config_.c_str(), 1);
  }
  ~FakeGpu() { ::unsetenv("JOULEBENCH_FAKE_NVML_CONFIG"); }
  SourceOptions Options() const {
    SourceOptions o;
    o.nvml_library = testing::FakeLibraryPath("fake_nvml");
    return o;
  }
  std::string Log() const { return testing::ReadFile(log_); }

 private:
  testing::TempDir dir_;
  std::filesystem::path log_, config_;
};

std::string Message(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(GpuPowerLimit, ReadsTheLimitAndItsRangeAndChecksPermissionWithoutChangingIt) {
  FakeGpu fake("");
  auto limit = GpuPowerLimit::Open(fake.Options(), 0);
  EXPECT_EQ(limit->gpu(), "gpu0 (Fake H100)");
  EXPECT_DOUBLE_EQ(limit->original_watts(), 700);
  EXPECT_DOUBLE_EQ(limit->min_watts(), 200);
  EXPECT_DOUBLE_EQ(limit->max_watts(), 700);
  // The permission check sets the limit it already has.
  EXPECT_EQ(fake.Log(), "init\nset_limit gpu0 700000\n");
}

TEST(GpuPowerLimit, SetsAndRestoresTheOriginalLimit) {
  FakeGpu fake("");
  {
    auto limit = GpuPowerLimit::Open(fake.Options(), 0);
    limit->Set(450);
    EXPECT_DOUBLE_EQ(limit->current_watts(), 450);
    limit->Set(450);  // unchanged: no NVML call
    limit->Restore();
    EXPECT_DOUBLE_EQ(limit->current_watts(), 700);
    limit->Set(300);
  }  // the destructor restores
  EXPECT_EQ(fake.Log(),
            "init\nset_limit gpu0 700000\nset_limit gpu0 450000\nset_limit gpu0 700000\n"
            "set_limit gpu0 300000\nset_limit gpu0 700000\nshutdown\n");
}

TEST(GpuPowerLimit, NoPermissionSaysSettingNeedsRoot) {
  FakeGpu fake("gpu0.set_limit_error=4\n");
  const std::string error = Message([&] { GpuPowerLimit::Open(fake.Options(), 0); });
  EXPECT_NE(error.find("NVML_ERROR_NO_PERMISSION"), std::string::npos) << error;
  EXPECT_NE(error.find("needs root"), std::string::npos) << error;
  EXPECT_NE(error.find("--power-limits none"), std::string::npos) << error;
  EXPECT_THROW(GpuPowerLimit::Open(fake.Options(), 0), EnvironmentError);
}

TEST(GpuPowerLimit, ALimitOutsideTheRangeIsAnInputError) {
  FakeGpu fake("");
  auto limit = GpuPowerLimit::Open(fake.Options(), 0);
  EXPECT_THROW(limit->Set(150), InputError);
  EXPECT_THROW(limit->Set(701), InputError);
  EXPECT_DOUBLE_EQ(limit->current_watts(), 700);
}

TEST(GpuPowerLimit, AGpuWithoutAPowerLimitOrAMissingGpuIsRefused) {
  FakeGpu fake("");
  EXPECT_NE(Message([&] { GpuPowerLimit::Open(fake.Options(), 3); }).find("no gpu3"),
            std::string::npos);
  testing::TempDir dir;
  const auto config = dir.Write("nvml.conf", "count=1\n");
  ::setenv("JOULEBENCH_FAKE_NVML_CONFIG", config.c_str(), 1);
  const std::string error = Message([&] { GpuPowerLimit::Open(fake.Options(), 0); });
  EXPECT_NE(error.find("NVML_ERROR_NOT_SUPPORTED"), std::string::npos) << error;
}

}  // namespace
}  // namespace joulebench::energy
