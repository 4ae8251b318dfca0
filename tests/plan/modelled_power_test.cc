#include "joulebench/plan/modelled_power.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace joulebench::plan {
namespace {

const std::filesystem::path kData = std::filesystem::path(JOULEBENCH_SOURCE_DIR) / "data";

class ModelledPowerTest : public ::testing::Test {
 protected:
  Catalog catalog_ = Catalog::Load(kData / "instances.csv", kData / "instance_power_curves.csv",
                                   kData / "gpu_power.csv");
  energy::CcfCoefficients ccf_ = energy::CcfCoefficients::LoadFrom(
      kData / "cpu_coefficients_ccf.csv", kData / "constants.csv");
};

TEST_F(ModelledPowerTest, SumsCpuMemoryAndAcceleratorsLinearlyInLoad) {
  // g5.2xlarge: 8 vCPUs AMD EPYC 2nd Gen (0.47-1.69 W), 32 GiB x 0.392 W/GB, 1 A10G (18-153 W).
  std::string why;
  const auto curve = ModelledPowerCurve(catalog_.Find("g5.2xlarge"), ccf_, &why);
  ASSERT_TRUE(curve) << why;
  EXPECT_EQ(curve->kind(), CurveKind::kModelled);
  EXPECT_NEAR(curve->WattsAt(0), 8 * 0.47 + 32 * 0.392 + 18, 1e-9);
  EXPECT_NEAR(curve->WattsAt(1), 8 * 1.69 + 32 * 0.392 + 153, 1e-9);
  EXPECT_NE(curve->provenance().find("modelled: Cloud Carbon Footprint"), std::string::npos);
}

TEST_F(ModelledPowerTest, CpuOnlyMachine) {
  std::string why;
  const auto curve = ModelledPowerCurve(catalog_.Find("c7g.xlarge"), ccf_, &why);
  ASSERT_TRUE(curve) << why;
  EXPECT_NEAR(curve->WattsAt(0.5), 4 * (0.4743 + 0.5 * (1.6930 - 0.4743)) + 8 * 0.392, 1e-9);
}

TEST_F(ModelledPowerTest, UnpublishedAcceleratorPowerMeansNoModel) {
  std::string why;
  EXPECT_FALSE(ModelledPowerCurve(catalog_.Find("trn1.32xlarge"), ccf_, &why));
  EXPECT_NE(why.find("AWS Trainium power is not published"), std::string::npos) << why;
}

}  // namespace
}  // namespace joulebench::plan
