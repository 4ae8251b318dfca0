#include <fmt/format.h>

#include <charconv>
#include <string>

#include "joulebench/error.h"
#include "joulebench/load/builtin_suts.h"
#include "joulebench/units.h"

namespace joulebench::load {
namespace {

constexpr std::string_view kAccepted =
    "use 'null' or 'sleep:workers=N,service=DURATION[,dist=fixed|exp][,seed=N]'";

long long ParseInteger(std::string_view text, std::string_view what) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw InputError(fmt::format("SUT spec: {} must be an integer (got '{}')", what, text));
  }
  return value;
}

}  // namespace

std::unique_ptr<SystemUnderTest> MakeBuiltinSut(std::string_view spec) {
  if (spec == "null") return std::make_unique<NullSut>();
  return std::make_unique<SleepSut>(ParseSleepSutSpec(spec));
}

SleepSutOptions ParseSleepSutSpec(std::string_view spec) {
  const std::string_view prefix = "sleep";
  if (spec.substr(0, prefix.size()) != prefix) {
    throw InputError(fmt::format("unknown SUT '{}': {}", spec, kAccepted));
  }
  std::string_view rest = spec.substr(prefix.size());
  if (!rest.empty() && rest.front() != ':') {
    throw InputError(fmt::format("unknown SUT '{}': {}", spec, kAccepted));
  }
  if (!rest.empty()) rest.remove_prefix(1);
  SleepSutOptions options;
  bool have_workers = false;
  bool have_service = false;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw InputError(
          fmt::format("SUT spec '{}': '{}' is not key=value; {}", spec, item, kAccepted));
    }
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "workers") {
      const long long w = ParseInteger(value, "workers");
      if (w < 1 || w > 1024) {
        throw InputError(
            fmt::format("SUT spec '{}': workers must be between 1 and 1024 (got {})", spec, value));
      }
      options.workers = static_cast<int>(w);
      have_workers = true;
    } else if (key == "service") {
      options.service_ns = ParseDuration(value, "sleep SUT service").count();
      have_service = true;
    } else if (key == "dist") {
      if (value == "exp" || value == "exponential") {
        options.exponential = true;
      } else if (value == "fixed") {
        options.exponential = false;
      } else {
        throw InputError(
            fmt::format("SUT spec '{}': dist must be 'fixed' or 'exp' (got '{}')", spec, value));
      }
    } else if (key == "seed") {
      options.seed = static_cast<std::uint64_t>(ParseInteger(value, "seed"));
    } else {
      throw InputError(fmt::format("SUT spec '{}': unknown key '{}'; {}", spec, key, kAccepted));
    }
  }
  if (!have_workers || !have_service) {
    throw InputError(
        fmt::format("SUT spec '{}': workers and service are required; {}", spec, kAccepted));
  }
  return options;
}

}  // namespace joulebench::load
