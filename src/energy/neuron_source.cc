#include "energy/neuron_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "joulebench/error.h"
#include "joulebench/units.h"

namespace joulebench::energy {
namespace {

using Status = NeuronPowerUtilization::Status;

// The driver refreshes the file at each wall-clock minute (neuron_power.c,
// npower_passed_minute_boundary).
constexpr double kRefreshPeriodS = 60.0;

std::string_view NextField(std::string_view& text) {
  const std::size_t comma = text.find(',');
  std::string_view field = text.substr(0, comma);
  text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  while (!field.empty() && (field.back() == '\n' || field.back() == ' ')) field.remove_suffix(1);
  while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
  return field;
}

template <typename T>
bool ParseField(std::string_view field, T& value) {
  if (field.empty()) return false;
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  return ec == std::errc() && ptr == field.data() + field.size();
}

}  // namespace

NeuronPowerUtilization ParseNeuronPowerUtilization(std::string_view text) {
  NeuronPowerUtilization result;
  const std::string_view status = NextField(text);
  const std::string_view time = NextField(text);
  const std::string_view min = NextField(text);
  const std::string_view max = NextField(text);
  const std::string_view avg = NextField(text);
  // A percentage of maximum power is a number >= 0 ("nan", "inf" and "-2" parse as doubles).
  auto percent = [](std::string_view field, double& value) {
    return ParseField(field, value) && std::isfinite(value) && value >= 0;
  };
  if (!text.empty() || !ParseField(time, result.unix_time_s) || !percent(min, result.min_percent) ||
      !percent(max, result.max_percent) || !percent(avg, result.avg_percent)) {
    result = {};
    return result;
  }
  if (status == "POWER_STATUS_VALID") {
    result.status = Status::kValid;
  } else if (status == "POWER_STATUS_NO_DATA") {
    result.status = Status::kNoData;
  } else if (status == "POWER_STATUS_INVALID") {
    result.status = Status::kInvalid;
  } else if (status == "POWER_STATUS_MAX") {
    result.status = Status::kMax;
  } else {
    result.status = Status::kUnknown;
  }
  return result;
}

std::string_view NeuronPowerStatusName(Status status) {
  switch (status) {
    case Status::kValid:
      return "POWER_STATUS_VALID";
    case Status::kNoData:
      return "POWER_STATUS_NO_DATA";
    case Status::kInvalid:
      return "POWER_STATUS_INVALID";
    case Status::kMax:
      return "POWER_STATUS_MAX";
    case Status::kUnknown:
      return "unknown status";
    case Status::kMalformed:
      return "malformed";
  }
  return "malformed";
}

namespace {

// Why a status gives no reading, for warnings and probe details.
std::string_view StatusMeaning(Status status) {
  switch (status) {
    case Status::kValid:
      return "valid";
    case Status::kNoData:
      return "the driver has no power data for the last minute (fewer than 60 firmware "
             "samples, the device was resetting, or its firmware does not publish power)";
    case Status::kInvalid:
      return "the driver marked the last minute's power data invalid";
    case Status::kMax:
      return "the driver held an out-of-range status (POWER_STATUS_MAX): no valid data";
    case Status::kUnknown:
      return "a status this joulebench does not know: treated as no data";
    case Status::kMalformed:
      return "the file could not be read or does not hold <status>,<time>,<min>,<max>,<avg>";
  }
  return "";
}

}  // namespace

std::string DescribeNeuronPowerUtilization(int index, const NeuronPowerUtilization& u) {
  if (u.status == Status::kValid) {
    std::string time = FormatIsoTime(static_cast<double>(u.unix_time_s));
    if (time.empty()) {
      time = fmt::format("the driver's time {}, which is not a date", u.unix_time_s);
    }
    return fmt::format(
        "neuron{}: {:.2f} % of maximum device power (average of the minute before {}; min "
        "{:.2f} %, max {:.2f} %)",
        index, u.avg_percent, time, u.min_percent, u.max_percent);
  }
  return fmt::format("neuron{}: {}: {}", index, NeuronPowerStatusName(u.status),
                     StatusMeaning(u.status));
}

NeuronSource::NeuronSource(std::vector<Device> devices, double max_device_watts)
    : devices_(std::move(devices)),
      max_device_watts_(max_device_watts),
      bad_status_(new std::atomic<int>[devices_.size()]),
      reported_status_(devices_.size(), -1) {
  for (const auto& device : devices_) {
    const int fd = ::open(device.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      for (int open_fd : fds_) ::close(open_fd);
      throw EnvironmentError(
          fmt::format("cannot open {}: {}", device.file.string(), std::strerror(error)));
    }
    fds_.push_back(fd);
    DomainInfo d;
    d.name = fmt::format("neuron/neuron{}", device.index);
    d.component = Component::kAccelerator;
    d.signal = SignalKind::kGauge;
    d.provenance = {ProvenanceKind::kMeasured,
                    fmt::format("Neuron driver power utilisation, neuron{}, x {} W maximum "
                                "device power (configured)",
                                device.index, max_device_watts_)};
    d.max_watts = max_device_watts_;
    d.update_period_s = kRefreshPeriodS;
    d.min_window_s = kRefreshPeriodS;
    d.note =
        "coarse: a one-minute average percentage of maximum device power, refreshed once a "
        "minute and scaled by the configured maximum; windows under a minute are not resolved";
    domains_.push_back(std::move(d));
  }
  for (std::size_t i = 0; i < devices_.size(); ++i) bad_status_[i].store(-1);
}

NeuronSource::~NeuronSource() {
  for (int fd : fds_) ::close(fd);
}

void NeuronSource::Read(std::span<Reading> out) {
  std::array<char, 256> buffer;
  for (std::size_t i = 0; i < fds_.size(); ++i) {
    const ssize_t n = ::pread(fds_[i], buffer.data(), buffer.size(), 0);
    const NeuronPowerUtilization u =
        n > 0 ? ParseNeuronPowerUtilization(std::string_view(buffer.data(), n))
              : NeuronPowerUtilization{};
    if (u.status == Status::kValid) {
      out[i] = {u.avg_percent / 100.0 * max_device_watts_, true};
    } else {
      out[i] = {0, false};
      bad_status_[i].store(static_cast<int>(u.status), std::memory_order_relaxed);
    }
  }
}

std::vector<std::string> NeuronSource::TakeWarnings() {
  std::vector<std::string> warnings;
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    const int status = bad_status_[i].load(std::memory_order_relaxed);
    if (status < 0 || status == reported_status_[i]) continue;
    reported_status_[i] = status;
    warnings.push_back(fmt::format("{}: {} ({}); the last valid reading is kept", domains_[i].name,
                                   NeuronPowerStatusName(static_cast<Status>(status)),
                                   StatusMeaning(static_cast<Status>(status))));
  }
  return warnings;
}

ProbeResult ProbeNeuron(const SourceOptions& options) {
  ProbeResult result;
  result.source_name = "neuron";
  const auto root = options.sysfs_root / "devices" / "virtual" / "neuron_device";
  std::error_code ec;
  std::vector<NeuronSource::Device> devices;
  if (std::filesystem::is_directory(root, ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
      const std::string name = entry.path().filename().string();
      int index = -1;
      if (name.rfind("neuron", 0) != 0 ||
          std::from_chars(name.data() + 6, name.data() + name.size(), index).ec != std::errc()) {
        continue;
      }
      devices.push_back({index, entry.path() / "stats" / "power" / "utilization"});
    }
  }
  if (devices.empty()) {
    result.status = ProbeStatus::kAbsent;
    result.reason = fmt::format("no Neuron device ({} has no neuron<N>)", root.string());
    result.fix =
        "nothing to do unless this is an Inf1/Inf2/Trn1/Trn2 instance; there install "
        "the Neuron driver (aws-neuronx-dkms)";
    return result;
  }
  std::sort(devices.begin(), devices.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });

  std::vector<NeuronSource::Device> readable;
  bool permission_denied = false;
  for (const auto& device : devices) {
    std::ifstream in(device.file);
    if (!in) {
      const int error = errno;
      const bool exists = std::filesystem::exists(device.file, ec);
      permission_denied |= exists && error == EACCES;
      result.details.push_back(fmt::format(
          "neuron{}: {}", device.index,
          exists ? fmt::format("cannot read {}: {}", device.file.string(), std::strerror(error))
                 : fmt::format("no {} (driver without power utilisation)", device.file.string())));
      continue;
    }
    std::ostringstream text;
    text << in.rdbuf();
    result.details.push_back(
        DescribeNeuronPowerUtilization(device.index, ParseNeuronPowerUtilization(text.str())));
    readable.push_back(device);
  }
  if (readable.empty()) {
    result.status = permission_denied ? ProbeStatus::kPermissionDenied : ProbeStatus::kUnsupported;
    result.reason = permission_denied
                        ? "the Neuron power utilisation files are not readable by this user"
                        : "this Neuron driver publishes no power utilisation";
    result.fix = permission_denied
                     ? "make stats/power/utilization readable (chmod a+r, or a udev rule) or "
                       "run as a user who can read it"
                     : "update the Neuron driver (aws-neuronx-dkms) to a version with "
                       "stats/power/utilization";
    return result;
  }
  const std::string coarse =
      "coarse: the driver gives one average a minute, as a percentage of the device's maximum "
      "power (it publishes no watts)";
  if (!options.neuron_max_device_watts) {
    result.status = ProbeStatus::kUnsupported;
    result.reason =
        "Neuron reports power only as a percentage of maximum device power; "
        "without that maximum in watts it cannot be measured as energy (" +
        coarse + ")";
    result.fix =
        "give --neuron-max-watts W (or JOULEBENCH_NEURON_MAX_WATTS) with the device's "
        "maximum power to turn the percentage into watts";
    return result;
  }
  const double max_watts = *options.neuron_max_device_watts;
  if (!(max_watts > 0) || !std::isfinite(max_watts)) {
    throw InputError(fmt::format(
        "--neuron-max-watts: {} is not a power; give the device's maximum power in watts, "
        "e.g. 100",
        max_watts));
  }
  result.details.push_back(coarse +
                           fmt::format("; watts = percentage x {} W (configured)", max_watts));
  try {
    result.source = std::make_unique<NeuronSource>(std::move(readable), max_watts);
    result.status = ProbeStatus::kAvailable;
  } catch (const EnvironmentError& e) {
    result.status = ProbeStatus::kError;
    result.reason = e.what();
    result.fix = "check the Neuron driver (neuron-ls) and the file's permissions";
  }
  return result;
}

}  // namespace joulebench::energy
