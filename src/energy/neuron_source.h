// AWS Inferentia / Trainium power through the Neuron driver's sysfs file
// <sysfs>/devices/virtual/neuron_device/neuron<N>/stats/power/utilization, which holds
// "<status>,<unix time>,<min>,<max>,<avg>": percentages of the device's maximum power over the
// last wall-clock minute (aws-neuron-driver, neuron_power.c). A coarse reading: one average a
// minute, and a percentage, which becomes watts only with a configured maximum device power.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/energy/source.h"

namespace joulebench::energy {

// One parsed utilization file.
struct NeuronPowerUtilization {
  // The driver's statuses (neuron_power.h): VALID when at least 60 firmware samples fell in the
  // minute, NO_DATA when fewer did (or the firmware does not publish power), INVALID, and MAX,
  // which the driver prints for any out-of-range status. kUnknown: a status this build does not
  // know; kMalformed: the text does not have the five fields.
  enum class Status { kValid, kNoData, kInvalid, kMax, kUnknown, kMalformed };
  Status status = Status::kMalformed;
  std::int64_t unix_time_s = 0;  // when the driver aggregated the minute
  double min_percent = 0;        // of maximum device power
  double max_percent = 0;
  double avg_percent = 0;
};

// Parses "POWER_STATUS_VALID,1732870000,12.34,56.78,34.56" (no allocation).
NeuronPowerUtilization ParseNeuronPowerUtilization(std::string_view text);
// "POWER_STATUS_VALID", ... as the driver writes them; "unknown status" / "malformed".
std::string_view NeuronPowerStatusName(NeuronPowerUtilization::Status status);
// One line for `probe`: "neuron0: 34.56 % of maximum device power (...)" or why there is no
// reading.
std::string DescribeNeuronPowerUtilization(int index, const NeuronPowerUtilization& u);

class NeuronSource final : public Source {
 public:
  struct Device {
    int index = 0;               // N of neuron<N>
    std::filesystem::path file;  // its stats/power/utilization
  };

  // Opens every device's file; throws EnvironmentError naming a file that cannot be opened.
  NeuronSource(std::vector<Device> devices, double max_device_watts);
  ~NeuronSource() override;
  NeuronSource(const NeuronSource&) = delete;
  NeuronSource& operator=(const NeuronSource&) = delete;

  std::string_view name() const override { return "neuron"; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  // Gauges: the last minute's average percentage x the maximum device power, in watts. Not ok
  // while the driver's status is anything but VALID.
  void Read(std::span<Reading> out) override;
  std::vector<std::string> TakeWarnings() override;

 private:
  std::vector<Device> devices_;
  std::vector<int> fds_;
  double max_device_watts_;
  std::vector<DomainInfo> domains_;
  // Last status that was not VALID per device (written by Read, reported by TakeWarnings), as
  // an int of Status, -1 for none.
  std::unique_ptr<std::atomic<int>[]> bad_status_;
  std::vector<int> reported_status_;
};

}  // namespace joulebench::energy
