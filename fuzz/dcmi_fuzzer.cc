// IPMI DCMI "Get Power Reading" replies as the BMC sends them (bytes): decoded into a reading
// or refused with a reason; the reading and its description must be sane.
#include <cstdint>
#include <span>
#include <string>

#include "energy/dcmi_power_reading.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using joulebench::fuzz::Check;
  using joulebench::fuzz::CheckStorable;
  namespace dcmi = joulebench::energy::dcmi;
  const auto d = dcmi::DecodeGetPowerReading(std::span<const std::uint8_t>(data, size));
  CheckStorable(d.error, "error");
  CheckStorable(d.caveat, "caveat");
  Check(d.reading.has_value() == d.error.empty(), "a reading and an error, or neither");
  if (d.reading) {
    const auto& r = *d.reading;
    Check(r.current_watts >= 0 && r.current_watts < 65535, "current watts out of range");
    Check(r.statistics_period_s >= 0, "negative statistics period");
    CheckStorable(dcmi::DescribeTimestamp(r.timestamp), "timestamp");
  }
  if (size >= 4) {
    std::uint32_t timestamp = 0;
    for (int i = 0; i < 4; ++i) timestamp |= static_cast<std::uint32_t>(data[i]) << (8 * i);
    const std::string t = dcmi::DescribeTimestamp(timestamp);
    CheckStorable(t, "timestamp");
    Check(!t.empty(), "empty timestamp");
  }
  return 0;
}
