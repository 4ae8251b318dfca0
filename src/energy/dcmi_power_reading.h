// DCMI "Get Power Reading" (DCMI 1.5, section 6.6.1): the request's bytes and the decoding of
// the BMC's reply, kept apart from the transport (FreeIPMI) so that recorded replies can be
// decoded in tests.
//
// Request (NetFn 0x2C Group Extension, command 0x02): group extension id 0xDC, mode 0x01
// ("system power statistics"), mode attributes 0x00, reserved 0x00.
// Reply: completion code, 0xDC, then little-endian: current power (W, 16 bit), minimum,
// maximum and average over the statistics period (W, 16 bit each), IPMI time stamp (32 bit),
// statistics reporting period (ms, 32 bit), power reading state (bit 6: measurement active).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace joulebench::energy::dcmi {

constexpr std::uint8_t kNetFnGroupExtension = 0x2C;
constexpr std::uint8_t kCmdGetPowerReading = 0x02;
constexpr std::uint8_t kGroupExtensionId = 0xDC;
constexpr std::uint8_t kModeSystemPowerStatistics = 0x01;

// As FreeIPMI's ipmi_cmd_raw takes it: the command byte, then the request data.
std::array<std::uint8_t, 5> GetPowerReadingRequest();

struct PowerReading {
  double current_watts = 0;
  double minimum_watts = 0;  // over the statistics period
  double maximum_watts = 0;
  double average_watts = 0;
  // IPMI time stamp (IPMI 2.0, section 37): seconds since 1970 UTC; 0x00000000-0x20000000 are
  // seconds since the BMC initialised; 0xFFFFFFFF means unspecified.
  std::uint32_t timestamp = 0;
  double statistics_period_s = 0;  // the period of minimum, maximum and average
  bool measurement_active = false;
};

struct Decoded {
  std::optional<PowerReading> reading;  // set when the reply carries a usable reading
  std::uint8_t completion_code = 0;
  std::string error;   // why there is no reading: one clause for a message
  std::string caveat;  // a usable reading the BMC marked oddly (e.g. measurement not active)
};

// Decodes a reply as ipmi_cmd_raw returns it: the command byte, the completion code, then the
// data. A reply with the "measurement active" bit clear but non-zero powers is accepted with
// a caveat: OpenBMC's DCMI handler long reported valid readings with that bit clear
// (openbmc/openbmc#3257). 0xFFFF W (a known firmware fault value) is refused.
Decoded DecodeGetPowerReading(std::span<const std::uint8_t> reply);

// The IPMI 2.0 completion code's meaning, e.g. 0xC1 "invalid command".
std::string CompletionCodeText(std::uint8_t code);

// "2022-03-06T14:13:42Z", "1234 s after the BMC started", or "unspecified".
std::string DescribeTimestamp(std::uint32_t timestamp);

}  // namespace joulebench::energy::dcmi
