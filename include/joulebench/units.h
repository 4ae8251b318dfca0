// Parsing and formatting of quantities with units: durations, rates, counts, energies.
// Every parser throws joulebench::InputError naming the input and what is accepted.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace joulebench {

// "100ms", "1.5s", "2m", "1h", "250us", "10ns". A unit is required; the value must be > 0
// unless allow_zero. `what` names the input in the error message (e.g. "--interval").
std::chrono::nanoseconds ParseDuration(std::string_view text, std::string_view what,
                                       bool allow_zero = false);

// A rate with its time unit: "1000000/h", "278/s", "5/ms", "60/min". Returns per second.
// Must be > 0.
double ParseRatePerSecond(std::string_view text, std::string_view what);

// A count with an optional SI suffix: "450M", "1.5k", "2G", "12". Must be > 0.
double ParseCount(std::string_view text, std::string_view what);

// A plain number, e.g. "99.9"; rejects trailing garbage.
double ParseNumber(std::string_view text, std::string_view what);

// Human formatting with a unit that fits the magnitude: "12.3 ms", "1.20 kJ", "45.6 W".
std::string FormatDuration(double seconds);
std::string FormatJoules(double joules);
std::string FormatWatts(double watts);

// Seconds since the Unix epoch as ISO 8601 UTC ("2026-11-29T09:30:00Z").
std::string FormatIsoTime(double unix_seconds);

}  // namespace joulebench
