#include "energy/dcmi_power_reading.h"

#include <fmt/format.h>

#include "joulebench/units.h"

namespace joulebench::energy::dcmi {
namespace {

// Reply layout after the command byte (offsets into the raw reply).
constexpr std::size_t kCompletionCode = 1;
constexpr std::size_t kGroupId = 2;
constexpr std::size_t kCurrent = 3;
constexpr std::size_t kMinimum = 5;
constexpr std::size_t kMaximum = 7;
constexpr std::size_t kAverage = 9;
constexpr std::size_t kTimestamp = 11;
constexpr std::size_t kPeriod = 15;
constexpr std::size_t kState = 19;
constexpr std::size_t kReplySize = 20;
constexpr std::uint8_t kMeasurementActiveBit = 1 << 6;
constexpr std::uint16_t kFaultWatts = 0xFFFF;
// IPMI 2.0, section 37: time stamps up to this value count seconds since initialisation.
constexpr std::uint32_t kLastRelativeTimestamp = 0x20000000;

std::uint16_t U16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}

std::uint32_t U32(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8) |
         (static_cast<std::uint32_t>(b[at + 2]) << 16) |
         (static_cast<std::uint32_t>(b[at + 3]) << 24);
}

}  // namespace

std::array<std::uint8_t, 5> GetPowerReadingRequest() {
  return {kCmdGetPowerReading, kGroupExtensionId, kModeSystemPowerStatistics, 0x00, 0x00};
}

std::string CompletionCodeText(std::uint8_t code) {
  // IPMI 2.0, table 5-2 "Completion Codes".
  switch (code) {
    case 0x00:
      return "command completed normally";
    case 0xC0:
      return "node busy";
    case 0xC1:
      return "invalid command (the BMC does not implement DCMI power readings)";
    case 0xC2:
      return "command invalid for the given LUN";
    case 0xC3:
      return "timeout while processing the command";
    case 0xC4:
      return "out of space";
    case 0xC5:
      return "reservation cancelled or invalid";
    case 0xC6:
      return "request data truncated";
    case 0xC7:
      return "request data length invalid";
    case 0xC8:
      return "request data field length limit exceeded";
    case 0xC9:
      return "parameter out of range";
    case 0xCA:
      return "cannot return the number of requested data bytes";
    case 0xCB:
      return "requested sensor, data or record not present";
    case 0xCC:
      return "invalid data field in the request (power readings not supported in this mode)";
    case 0xCD:
      return "command illegal for the specified sensor or record type";
    case 0xCE:
      return "command response could not be provided";
    case 0xCF:
      return "cannot execute a duplicated request";
    case 0xD0:
      return "SDR repository in update mode";
    case 0xD1:
      return "device in firmware update mode";
    case 0xD2:
      return "BMC initialisation in progress";
    case 0xD3:
      return "destination unavailable";
    case 0xD4:
      return "insufficient privilege level";
    case 0xD5:
      return "command not supported in the present state";
    case 0xD6:
      return "sub-function disabled or unavailable";
    case 0xFF:
      return "unspecified error";
    default:
      return code >= 0x01 && code <= 0x7E ? "OEM completion code" : "unknown completion code";
  }
}

std::string DescribeTimestamp(std::uint32_t timestamp) {
  if (timestamp == 0xFFFFFFFF) return "unspecified";
  if (timestamp <= kLastRelativeTimestamp) {
    return fmt::format("{} s after the BMC started", timestamp);
  }
  return FormatIsoTime(static_cast<double>(timestamp));
}

Decoded DecodeGetPowerReading(std::span<const std::uint8_t> reply) {
  Decoded d;
  if (reply.size() < 2) {
    d.error = fmt::format("the reply has {} byte{}, too short for a completion code", reply.size(),
                          reply.size() == 1 ? "" : "s");
    return d;
  }
  d.completion_code = reply[kCompletionCode];
  if (reply[0] != kCmdGetPowerReading) {
    d.error =
        fmt::format("the reply is for command 0x{:02X}, not Get Power Reading (0x02)", reply[0]);
    return d;
  }
  if (d.completion_code != 0x00) {
    d.error = fmt::format("the BMC answered completion code 0x{:02X}: {}", d.completion_code,
                          CompletionCodeText(d.completion_code));
    return d;
  }
  if (reply.size() < kReplySize) {
    d.error =
        fmt::format("the reply has {} bytes; Get Power Reading's has {}", reply.size(), kReplySize);
    return d;
  }
  if (reply[kGroupId] != kGroupExtensionId) {
    d.error =
        fmt::format("the reply's group extension id is 0x{:02X}, not DCMI's 0xDC", reply[kGroupId]);
    return d;
  }
  PowerReading r;
  const std::uint16_t current = U16(reply, kCurrent);
  r.current_watts = current;
  r.minimum_watts = U16(reply, kMinimum);
  r.maximum_watts = U16(reply, kMaximum);
  r.average_watts = U16(reply, kAverage);
  r.timestamp = U32(reply, kTimestamp);
  r.statistics_period_s = U32(reply, kPeriod) / 1000.0;
  r.measurement_active = (reply[kState] & kMeasurementActiveBit) != 0;
  if (current == kFaultWatts) {
    d.error = "the BMC reports 65535 W, a firmware fault value, not a reading";
    return d;
  }
  if (!r.measurement_active) {
    if (current == 0 && r.average_watts == 0) {
      d.error = "the BMC says no power measurement is available (reading state: not active)";
      return d;
    }
    d.caveat = fmt::format(
        "the BMC marks power measurement as not active yet reports {}; the reading is used "
        "(some BMC firmware, e.g. older OpenBMC, never sets the bit)",
        FormatWatts(r.current_watts));
  }
  d.reading = r;
  return d;
}

}  // namespace joulebench::energy::dcmi
