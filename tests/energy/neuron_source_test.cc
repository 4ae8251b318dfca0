// The Neuron source against a fake sysfs tree holding neuron<N>/stats/power/utilization files
// in every status the driver writes (aws-neuron-driver neuron_power.h).
#include "energy/neuron_source.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "joulebench/energy/source.h"
#include "joulebench/error.h"
#include "support/temp_dir.h"

namespace joulebench::energy {
namespace {

using testing::TempDir;
using Status = NeuronPowerUtilization::Status;

class FakeNeuronSysfs {
 public:
  void SetUtilization(int device, const std::string& contents) {
    dir_.Write(Relative(device), contents);
  }
  void AddDeviceWithoutPowerFile(int device) {
    dir_.Write("sys/devices/virtual/neuron_device/neuron" + std::to_string(device) + "/core_count",
               "2\n");
  }
  SourceOptions Options(std::optional<double> max_watts = std::nullopt) const {
    SourceOptions options;
    options.sysfs_root = dir_.path() / "sys";
    options.neuron_max_device_watts = max_watts;
    return options;
  }

 private:
  static std::string Relative(int device) {
    return "sys/devices/virtual/neuron_device/neuron" + std::to_string(device) +
           "/stats/power/utilization";
  }
  TempDir dir_;
};

std::vector<Reading> ReadAll(Source& source) {
  std::vector<Reading> out(source.domains().size());
  source.Read(out);
  return out;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

constexpr const char* kValid = "POWER_STATUS_VALID,1732870860,12.34,56.78,34.56\n";

TEST(ParseNeuronPowerUtilization, APercentageThatIsNegativeOrNotANumberIsMalformed) {
  // Found by fuzzing: "-2" was read as a valid minimum, "nan" as a valid maximum, and both
  // were printed by probe; a negative average would have been a negative power.
  EXPECT_EQ(ParseNeuronPowerUtilization("POWER_STATUS_VALID,17,-2,6,76").status,
            Status::kMalformed);
  EXPECT_EQ(ParseNeuronPowerUtilization("POWER_STATUS_VALID,17,1,nan,76").status,
            Status::kMalformed);
  EXPECT_EQ(ParseNeuronPowerUtilization("POWER_STATUS_VALID,17,1,2,-0.5").status,
            Status::kMalformed);
  EXPECT_EQ(ParseNeuronPowerUtilization("POWER_STATUS_VALID,17,0,0,0").status, Status::kValid);
}

TEST(DescribeNeuronPowerUtilization, ATimeThatIsNotADateIsSaidSo) {
  const auto u = ParseNeuronPowerUtilization("POWER_STATUS_VALID,9223372036854775807,1,2,3\n");
  ASSERT_EQ(u.status, Status::kValid);
  const std::string line = DescribeNeuronPowerUtilization(0, u);
  EXPECT_TRUE(Contains(line, "9223372036854775807, which is not a date")) << line;
  EXPECT_TRUE(Contains(line, "3.00 % of maximum device power")) << line;
}

TEST(ParseNeuronPowerUtilization, ReadsEveryField) {
  const auto u = ParseNeuronPowerUtilization(kValid);
  EXPECT_EQ(u.status, Status::kValid);
  EXPECT_EQ(u.unix_time_s, 1732870860);
  EXPECT_DOUBLE_EQ(u.min_percent, 12.34);
  EXPECT_DOUBLE_EQ(u.max_percent, 56.78);
  EXPECT_DOUBLE_EQ(u.avg_percent, 34.56);
}

TEST(ParseNeuronPowerUtilization, KnowsEachDriverStatus) {
  EXPECT_EQ(ParseNeuronPowerUtilization("POWER_STATUS_NO_DATA,60,0.00,0.00,0.00\n").status,
            Status::kNoData);
  EXPECT_EQ(ParseNeuronPowerUtilization("POWER_STATUS_INVALID,60,0.00,0.00,0.00").status,
            Status::kInvalid);
  EXPECT_EQ(ParseNeuronPowerUtilization("POWER_STATUS_MAX,60,0.00,0.00,0.00").status, Status::kMax);
  EXPECT_EQ(ParseNeuronPowerUtilization("POWER_STATUS_THROTTLED,60,1.00,2.00,3.00").status,
            Status::kUnknown);
}

TEST(ParseNeuronPowerUtilization, RejectsMalformedText) {
  for (const char* text :
       {"", "garbage", "POWER_STATUS_VALID,abc,1,2,3", "POWER_STATUS_VALID,60,1,2",
        "POWER_STATUS_VALID,60,1,2,3,4", "POWER_STATUS_VALID,60,1,2,x"}) {
    EXPECT_EQ(ParseNeuronPowerUtilization(text).status, Status::kMalformed) << text;
  }
}

TEST(NeuronSource, ValidStatusGivesWattsFromTheConfiguredMaximum) {
  FakeNeuronSysfs sysfs;
  sysfs.SetUtilization(0, kValid);
  auto result = ProbeNeuron(sysfs.Options(75.0));
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  ASSERT_EQ(result.source->domains().size(), 1u);
  auto r = ReadAll(*result.source);
  EXPECT_TRUE(r[0].ok);
  EXPECT_NEAR(r[0].value, 0.3456 * 75.0, 1e-9);
  sysfs.SetUtilization(0, "POWER_STATUS_VALID,1732870920,50.00,90.00,80.00\n");
  r = ReadAll(*result.source);
  EXPECT_NEAR(r[0].value, 60.0, 1e-9);
}

TEST(NeuronSource, DomainSaysItIsCoarseAndNeedsMinuteLongWindows) {
  FakeNeuronSysfs sysfs;
  sysfs.SetUtilization(0, kValid);
  auto result = ProbeNeuron(sysfs.Options(75.0));
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  const auto& d = result.source->domains()[0];
  EXPECT_EQ(d.name, "neuron/neuron0");
  EXPECT_EQ(d.component, Component::kAccelerator);
  EXPECT_EQ(d.signal, SignalKind::kGauge);
  EXPECT_DOUBLE_EQ(d.min_window_s, 60.0);
  EXPECT_DOUBLE_EQ(d.update_period_s, 60.0);
  EXPECT_DOUBLE_EQ(d.max_watts, 75.0);
  EXPECT_TRUE(Contains(d.note, "coarse")) << d.note;
  EXPECT_TRUE(Contains(d.provenance.by, "x 75 W maximum device power (configured)"))
      << d.provenance.by;
}

TEST(NeuronSource, WithoutMaximumWattsProbeReportsThePercentageAndHowToGetWatts) {
  FakeNeuronSysfs sysfs;
  sysfs.SetUtilization(0, kValid);
  auto result = ProbeNeuron(sysfs.Options());
  EXPECT_EQ(result.status, ProbeStatus::kUnsupported);
  EXPECT_EQ(result.source, nullptr);
  EXPECT_TRUE(Contains(result.reason, "percentage")) << result.reason;
  EXPECT_TRUE(Contains(result.reason, "coarse")) << result.reason;
  EXPECT_TRUE(Contains(result.fix, "--neuron-max-watts")) << result.fix;
  ASSERT_FALSE(result.details.empty());
  EXPECT_TRUE(Contains(result.details[0], "neuron0: 34.56 % of maximum device power"))
      << result.details[0];
  EXPECT_TRUE(Contains(result.details[0], "2024-11-29T09:01:00Z")) << result.details[0];
}

struct StatusCase {
  std::string contents;
  std::string in_warning;
};

class NeuronStatusWithoutReading : public ::testing::TestWithParam<StatusCase> {};

TEST_P(NeuronStatusWithoutReading, IsNotOkAndWarnsOnceSayingWhy) {
  FakeNeuronSysfs sysfs;
  sysfs.SetUtilization(0, kValid);
  auto result = ProbeNeuron(sysfs.Options(100.0));
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  sysfs.SetUtilization(0, GetParam().contents);
  auto r = ReadAll(*result.source);
  EXPECT_FALSE(r[0].ok);
  r = ReadAll(*result.source);
  EXPECT_FALSE(r[0].ok);
  auto warnings = result.source->TakeWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(Contains(warnings[0], "neuron/neuron0")) << warnings[0];
  EXPECT_TRUE(Contains(warnings[0], GetParam().in_warning)) << warnings[0];
  EXPECT_TRUE(result.source->TakeWarnings().empty());
  // The next valid minute reads again.
  sysfs.SetUtilization(0, "POWER_STATUS_VALID,1732870980,10.00,30.00,20.00\n");
  r = ReadAll(*result.source);
  EXPECT_TRUE(r[0].ok);
  EXPECT_NEAR(r[0].value, 20.0, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(
    Statuses, NeuronStatusWithoutReading,
    ::testing::Values(
        StatusCase{"POWER_STATUS_NO_DATA,1732870920,0.00,0.00,0.00\n", "fewer than 60"},
        StatusCase{"POWER_STATUS_INVALID,1732870920,0.00,0.00,0.00\n", "invalid"},
        StatusCase{"POWER_STATUS_MAX,1732870920,0.00,0.00,0.00\n", "out-of-range"},
        StatusCase{"POWER_STATUS_NEW_IN_2027,1732870920,1.00,2.00,3.00\n", "does not know"},
        StatusCase{"garbage\n", "does not hold <status>"}, StatusCase{"", "could not be read"}));

TEST(NeuronSource, ProbeDetailsNameTheStatusOfEachDevice) {
  FakeNeuronSysfs sysfs;
  sysfs.SetUtilization(0, "POWER_STATUS_NO_DATA,60,0.00,0.00,0.00\n");
  sysfs.SetUtilization(1, kValid);
  auto result = ProbeNeuron(sysfs.Options(100.0));
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  ASSERT_GE(result.details.size(), 2u);
  EXPECT_TRUE(Contains(result.details[0], "neuron0: POWER_STATUS_NO_DATA")) << result.details[0];
  EXPECT_TRUE(Contains(result.details[1], "neuron1: 34.56 %")) << result.details[1];
}

TEST(NeuronSource, DevicesAreOrderedByNumber) {
  FakeNeuronSysfs sysfs;
  sysfs.SetUtilization(10, kValid);
  sysfs.SetUtilization(2, "POWER_STATUS_VALID,60,1.00,1.00,1.00\n");
  auto result = ProbeNeuron(sysfs.Options(50.0));
  ASSERT_EQ(result.status, ProbeStatus::kAvailable) << result.reason;
  ASSERT_EQ(result.source->domains().size(), 2u);
  EXPECT_EQ(result.source->domains()[0].name, "neuron/neuron2");
  EXPECT_EQ(result.source->domains()[1].name, "neuron/neuron10");
  auto r = ReadAll(*result.source);
  EXPECT_NEAR(r[0].value, 0.5, 1e-9);
  EXPECT_NEAR(r[1].value, 17.28, 1e-9);
}

TEST(NeuronSource, NoDeviceIsAbsent) {
  FakeNeuronSysfs sysfs;
  auto result = ProbeNeuron(sysfs.Options(100.0));
  EXPECT_EQ(result.status, ProbeStatus::kAbsent);
  EXPECT_TRUE(Contains(result.reason, "no Neuron device")) << result.reason;
}

TEST(NeuronSource, DriverWithoutPowerFileIsUnsupportedWithTheFix) {
  FakeNeuronSysfs sysfs;
  sysfs.AddDeviceWithoutPowerFile(0);
  auto result = ProbeNeuron(sysfs.Options(100.0));
  EXPECT_EQ(result.status, ProbeStatus::kUnsupported);
  EXPECT_TRUE(Contains(result.fix, "update the Neuron driver")) << result.fix;
  ASSERT_EQ(result.details.size(), 1u);
  EXPECT_TRUE(Contains(result.details[0], "stats/power/utilization")) << result.details[0];
}

TEST(NeuronSource, NonPositiveMaximumWattsIsAnInputError) {
  FakeNeuronSysfs sysfs;
  sysfs.SetUtilization(0, kValid);
  EXPECT_THROW(ProbeNeuron(sysfs.Options(0.0)), InputError);
  EXPECT_THROW(ProbeNeuron(sysfs.Options(-5.0)), InputError);
}

}  // namespace
}  // namespace joulebench::energy
