// Small helpers for reading sysfs attribute files (one short line of text each).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace joulebench::energy {

// Reads a whole small file, trailing whitespace removed. Returns std::nullopt and sets
// `error` to the errno value when it cannot be opened or read.
std::optional<std::string> ReadSysfsText(const std::filesystem::path& path, int& error);
std::optional<std::string> ReadSysfsText(const std::filesystem::path& path);

// Parses an unsigned decimal integer that fills the whole text (surrounding whitespace
// allowed). Returns std::nullopt for empty or non-numeric text.
std::optional<std::uint64_t> ParseUnsigned(std::string_view text);

// Reads `fd` from offset 0 into buf with pread and parses one unsigned decimal integer.
// No allocation. Returns false and sets `error` (errno, or 0 for unparsable contents).
bool PreadUnsigned(int fd, std::uint64_t& value, int& error);

}  // namespace joulebench::energy
