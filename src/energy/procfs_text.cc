#include "energy/procfs_text.h"

#include <charconv>

namespace joulebench::energy {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Skips blanks, then parses one unsigned number; false at the end of the line or on anything
// else.
bool NextNumber(std::string_view& line, std::uint64_t& value) {
  while (!line.empty() && IsBlank(line.front())) line.remove_prefix(1);
  if (line.empty()) return false;
  const auto [next, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
  if (ec != std::errc()) return false;
  line.remove_prefix(static_cast<std::size_t>(next - line.data()));
  return true;
}

// The next blank-separated token of `line`, which is advanced past it; "" at the end.
std::string_view NextToken(std::string_view& line) {
  while (!line.empty() && (IsBlank(line.front()) || line.front() == '\n')) line.remove_prefix(1);
  std::size_t end = 0;
  while (end < line.size() && !IsBlank(line[end]) && line[end] != '\n') ++end;
  const std::string_view token = line.substr(0, end);
  line.remove_prefix(end);
  return token;
}

std::optional<std::uint64_t> WholeNumber(std::string_view token) {
  std::uint64_t value = 0;
  const auto [next, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (token.empty() || ec != std::errc() || next != token.data() + token.size()) {
    return std::nullopt;
  }
  return value;
}

std::string_view FirstLine(std::string_view text) { return text.substr(0, text.find('\n')); }

}  // namespace

std::optional<ProcStatCpuTicks> ParseProcStatCpuLine(std::string_view text) {
  if (!text.starts_with("cpu ")) return std::nullopt;
  std::string_view line = FirstLine(text).substr(4);
  ProcStatCpuTicks ticks;
  while (ticks.count < 8 && NextNumber(line, ticks.fields[ticks.count])) ++ticks.count;
  if (ticks.count < 4) return std::nullopt;
  return ticks;
}

int CountProcStatCpus(std::string_view text) {
  int count = 0;
  while (!text.empty()) {
    if (text.size() > 3 && text.starts_with("cpu") && text[3] >= '0' && text[3] <= '9') ++count;
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return count;
}

std::optional<std::uint64_t> ParseMemTotalKib(std::string_view text) {
  constexpr std::string_view kKey = "MemTotal:";
  const std::size_t at = text.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view line = FirstLine(text.substr(at + kKey.size()));
  std::uint64_t kib = 0;
  if (!NextNumber(line, kib)) return std::nullopt;
  return kib;
}

bool NextNetDevInterface(std::string_view& text, NetDevCounters& out) {
  while (true) {
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return false;
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    const std::size_t colon = line.find(':');
    // The two header lines name the columns, separated by '|'.
    if (colon == std::string_view::npos || line.find('|') != std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    std::string_view rest = line.substr(colon + 1);
    // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes ...
    std::uint64_t field[9] = {};
    int count = 0;
    while (count < 9 && NextNumber(rest, field[count])) ++count;
    if (count < 9) continue;
    out.name = name;
    out.receive_bytes = field[0];
    out.transmit_bytes = field[8];
    return true;
  }
}

std::optional<ProcPidStat> ParseProcPidStat(std::string_view text) {
  const std::size_t open = text.find('(');
  const std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcPidStat stat;
  stat.comm = text.substr(open + 1, close - open - 1);
  std::string_view rest = text.substr(close + 1);
  // After ')': state is field 3; utime 14, stime 15, starttime 22 (proc(5)).
  bool have_times = false;
  for (int field = 3; field <= 22; ++field) {
    const std::string_view token = NextToken(rest);
    if (token.empty()) break;
    if (field == 3) stat.state = token.front();
    if (field != 14 && field != 15 && field != 22) continue;
    const auto value = WholeNumber(token);
    if (!value) {
      if (field == 22) break;
      return std::nullopt;
    }
    if (field == 14) stat.utime_ticks = *value;
    if (field == 15) {
      stat.stime_ticks = *value;
      have_times = true;
    }
    if (field == 22) stat.start_ticks = *value;
  }
  if (!have_times) return std::nullopt;
  return stat;
}

std::optional<std::uint64_t> ParseCgroupCpuUsageUsec(std::string_view text) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (NextToken(line) == "usage_usec") return WholeNumber(NextToken(line));
  }
  return std::nullopt;
}

}  // namespace joulebench::energy
