// Quantities users type on the command line and in plan files: durations, rates, counts,
// plain numbers, powers, prices, and TorchScript input specs. Each parser must either return a
// value in its documented range or throw InputError; the value must print as a finite figure.
#include <chrono>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "joulebench/error.h"
#include "joulebench/plan/candidate_spec.h"
#include "joulebench/units.h"
#include "joulebench/workloads/input_spec.h"

namespace {

using joulebench::InputError;
using joulebench::fuzz::Check;
using joulebench::fuzz::CheckFinite;
using joulebench::fuzz::CheckStorable;

// The formatted figure of a parsed quantity is what a user reads: it must be a number.
void CheckFormatted(const std::string& text) {
  CheckStorable(text, "formatted figure");
  Check(text.find("inf") == std::string::npos && text.find("nan") == std::string::npos,
        "formatted figure is not a number: " + text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = joulebench::fuzz::AsText(data, size);
  for (const bool allow_zero : {false, true}) {
    try {
      const auto d = joulebench::ParseDuration(text, "fuzz", allow_zero);
      Check(allow_zero ? d.count() >= 0 : d.count() > 0, "ParseDuration out of range");
      CheckFormatted(joulebench::FormatDuration(std::chrono::duration<double>(d).count()));
    } catch (const InputError&) {
    }
  }
  try {
    const double rate = joulebench::ParseRatePerSecond(text, "fuzz");
    CheckFinite(rate, "ParseRatePerSecond");
    Check(rate > 0, "ParseRatePerSecond <= 0");
  } catch (const InputError&) {
  }
  try {
    const double count = joulebench::ParseCount(text, "fuzz");
    CheckFinite(count, "ParseCount");
    Check(count > 0, "ParseCount <= 0");
  } catch (const InputError&) {
  }
  try {
    const double number = joulebench::ParseNumber(text, "fuzz");
    CheckFinite(number, "ParseNumber");
    // Any number may reach the time formatter (a run file's start_unix_s).
    CheckFormatted(joulebench::FormatIsoTime(number));
    CheckFormatted(joulebench::FormatJoules(number));
  } catch (const InputError&) {
  }
  try {
    const double watts = joulebench::plan::ParsePowerWatts(text, "fuzz");
    CheckFinite(watts, "ParsePowerWatts");
    Check(watts > 0, "ParsePowerWatts <= 0");
    CheckFormatted(joulebench::FormatWatts(watts));
  } catch (const InputError&) {
  }
  try {
    const double usd = joulebench::plan::ParsePriceUsdPerHour(text, "fuzz");
    CheckFinite(usd, "ParsePriceUsdPerHour");
    Check(usd > 0, "ParsePriceUsdPerHour <= 0");
  } catch (const InputError&) {
  }
  try {
    const auto spec = joulebench::workloads::ParseInputSpec(text);
    Check(!spec.name.empty(), "ParseInputSpec: empty name");
    std::int64_t elements = 1;
    for (const auto d : spec.shape) {
      Check(d >= 1, "ParseInputSpec: dimension < 1");
      elements *= d;
    }
    Check(elements == spec.element_count() && elements <= (std::int64_t{1} << 34),
          "ParseInputSpec: element count");
  } catch (const InputError&) {
  }
  return 0;
}
