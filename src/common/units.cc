#include "joulebench/units.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <ctime>

#include "joulebench/error.h"

namespace joulebench {
namespace {

// Splits "12.5ms" into 12.5 and "ms". Returns false when there is no leading number.
bool SplitNumberAndUnit(std::string_view text, double& value, std::string_view& unit) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || !std::isfinite(value)) return false;
  unit = std::string_view(ptr, static_cast<size_t>(end - ptr));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return true;
}

}  // namespace

std::chrono::nanoseconds ParseDuration(std::string_view text, std::string_view what,
                                       bool allow_zero) {
  double value = 0;
  std::string_view unit;
  if (!SplitNumberAndUnit(text, value, unit)) {
    throw InputError(fmt::format(
        "{}: '{}' is not a duration; give a number with a unit, e.g. 100ms, 2s, 5m", what, text));
  }
  struct UnitScale {
    std::string_view name;
    double ns;
  };
  static constexpr std::array<UnitScale, 9> kUnits{{{"ns", 1.0},
                                                    {"us", 1e3},
                                                    {"µs", 1e3},
                                                    {"ms", 1e6},
                                                    {"s", 1e9},
                                                    {"m", 60e9},
                                                    {"min", 60e9},
                                                    {"h", 3600e9},
                                                    {"d", 86400e9}}};
  if (unit.empty()) {
    throw InputError(fmt::format("{}: '{}' has no unit; write it with one, e.g. {}ms or {}s", what,
                                 text, text, text));
  }
  for (const auto& u : kUnits) {
    if (unit == u.name) {
      if (value < 0 || (value == 0 && !allow_zero)) {
        throw InputError(fmt::format("{}: '{}' must be greater than zero, e.g. 100ms", what, text));
      }
      const double ns = value * u.ns;
      if (ns > 9.2e18) throw InputError(fmt::format("{}: '{}' is too long", what, text));
      const auto rounded = static_cast<int64_t>(std::llround(ns));
      if (rounded == 0 && value > 0 && !allow_zero) {
        throw InputError(
            fmt::format("{}: '{}' is shorter than 1 ns, the finest resolution", what, text));
      }
      return std::chrono::nanoseconds(rounded);
    }
  }
  throw InputError(
      fmt::format("{}: unknown unit '{}' in '{}'; use ns, us, ms, s, m, h or d", what, unit, text));
}

double ParseRatePerSecond(std::string_view text, std::string_view what) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    throw InputError(fmt::format(
        "{}: '{}' has no time unit; write a rate such as 278/s or 1000000/h", what, text));
  }
  const double count = ParseCount(text.substr(0, slash), what);
  const std::string_view unit = text.substr(slash + 1);
  double per_seconds = 0;
  if (unit == "s" || unit == "sec") {
    per_seconds = 1;
  } else if (unit == "ms") {
    per_seconds = 1e-3;
  } else if (unit == "us") {
    per_seconds = 1e-6;
  } else if (unit == "m" || unit == "min") {
    per_seconds = 60;
  } else if (unit == "h" || unit == "hour") {
    per_seconds = 3600;
  } else if (unit == "d" || unit == "day") {
    per_seconds = 86400;
  } else {
    throw InputError(fmt::format("{}: unknown time unit '/{}' in '{}'; use /s, /min, /h or /d",
                                 what, unit, text));
  }
  const double rate = count / per_seconds;
  if (!std::isfinite(rate) || !(rate > 0)) {
    throw InputError(fmt::format("{}: '{}' is out of range", what, text));
  }
  return rate;
}

double ParseCount(std::string_view text, std::string_view what) {
  double value = 0;
  std::string_view unit;
  if (!SplitNumberAndUnit(text, value, unit)) {
    throw InputError(fmt::format("{}: '{}' is not a number", what, text));
  }
  double scale = 1;
  if (unit.empty()) {
    scale = 1;
  } else if (unit == "k" || unit == "K") {
    scale = 1e3;
  } else if (unit == "M") {
    scale = 1e6;
  } else if (unit == "G" || unit == "B") {
    scale = 1e9;
  } else if (unit == "T") {
    scale = 1e12;
  } else {
    throw InputError(
        fmt::format("{}: unknown suffix '{}' in '{}'; use k, M, G or T", what, unit, text));
  }
  if (value <= 0) {
    throw InputError(fmt::format("{}: '{}' must be greater than zero", what, text));
  }
  if (!std::isfinite(value * scale)) {
    throw InputError(fmt::format("{}: '{}' is too large", what, text));
  }
  return value * scale;
}

double ParseNumber(std::string_view text, std::string_view what) {
  double value = 0;
  std::string_view unit;
  if (!SplitNumberAndUnit(text, value, unit) || !unit.empty()) {
    throw InputError(fmt::format("{}: '{}' is not a number", what, text));
  }
  return value;
}

std::string FormatDuration(double seconds) {
  const double a = std::fabs(seconds);
  if (a >= 3600) return fmt::format("{:.2f} h", seconds / 3600);
  if (a >= 60) return fmt::format("{:.1f} min", seconds / 60);
  if (a >= 1) return fmt::format("{:.3f} s", seconds);
  if (a >= 1e-3) return fmt::format("{:.3f} ms", seconds * 1e3);
  if (a >= 1e-6) return fmt::format("{:.2f} us", seconds * 1e6);
  return fmt::format("{:.0f} ns", seconds * 1e9);
}

std::string FormatJoules(double joules) {
  const double a = std::fabs(joules);
  if (a >= 3.6e9) return fmt::format("{:.3f} MWh", joules / 3.6e9);
  if (a >= 3.6e6) return fmt::format("{:.3f} kWh", joules / 3.6e6);
  if (a >= 1e3) return fmt::format("{:.3f} kJ", joules / 1e3);
  if (a >= 1) return fmt::format("{:.3f} J", joules);
  return fmt::format("{:.3f} mJ", joules * 1e3);
}

std::string FormatWatts(double watts) {
  const double a = std::fabs(watts);
  if (a >= 1e3) return fmt::format("{:.3f} kW", watts / 1e3);
  if (a >= 1) return fmt::format("{:.2f} W", watts);
  return fmt::format("{:.1f} mW", watts * 1e3);
}

std::string FormatIsoTime(double unix_seconds) {
  // ISO 8601's four-digit years: 1970-01-01 up to 9999-12-31. Converting a larger double (a
  // corrupt run file's start time) to time_t would be undefined behaviour.
  constexpr double kYear10000 = 253402300800.0;
  if (!(unix_seconds >= 0 && unix_seconds < kYear10000)) return "";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

}  // namespace joulebench
