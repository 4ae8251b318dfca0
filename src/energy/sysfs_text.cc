#include "energy/sysfs_text.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace joulebench::energy {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::string> ReadSysfsText(const std::filesystem::path& path, int& error) {
  error = 0;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = errno;
    return std::nullopt;
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > (1U << 20)) break;  // sysfs attributes are at most a page
  }
  close(fd);
  return std::string(Trim(text));
}

std::optional<std::string> ReadSysfsText(const std::filesystem::path& path) {
  int error = 0;
  return ReadSysfsText(path, error);
}

std::optional<std::uint64_t> ParseUnsigned(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

bool PreadUnsigned(int fd, std::uint64_t& value, int& error) {
  char buf[64];
  ssize_t n = 0;
  do {
    n = pread(fd, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    error = errno;
    return false;
  }
  error = 0;
  // A sysfs attribute is one line; anything after the first newline is not part of it.
  std::string_view text(buf, static_cast<std::size_t>(n));
  text = text.substr(0, text.find('\n'));
  const auto parsed = ParseUnsigned(text);
  if (!parsed) return false;
  value = *parsed;
  return true;
}

}  // namespace joulebench::energy
