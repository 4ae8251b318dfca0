#include "store/process_owner.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace joulebench::store {
namespace {

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// /proc/<pid>/stat: "pid (comm) state ppid ... starttime ..."; comm may contain spaces and
// parentheses, so fields are counted from the last ')'. proc(5): state is field 3, starttime
// field 22.
struct StatFields {
  char state = '?';
  std::int64_t start_ticks = 0;
};

std::optional<StatFields> ReadStat(std::int64_t pid) {
  std::string line = ReadFirstLine("/proc/" + std::to_string(pid) + "/stat");
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  std::string field;
  while (rest >> field) fields.push_back(field);
  constexpr std::size_t kStateIndex = 0;   // field 3
  constexpr std::size_t kStartIndex = 19;  // field 22
  if (fields.size() <= kStartIndex) return std::nullopt;
  StatFields out;
  out.state = fields[kStateIndex].empty() ? '?' : fields[kStateIndex][0];
  out.start_ticks = std::stoll(fields[kStartIndex]);
  return out;
}

}  // namespace

ProcessOwner CurrentProcessOwner() {
  ProcessOwner owner;
  owner.pid = getpid();
  owner.boot_id = ReadFirstLine("/proc/sys/kernel/random/boot_id");
  if (auto stat = ReadStat(owner.pid)) owner.start_ticks = stat->start_ticks;
  return owner;
}

bool IsAlive(const ProcessOwner& owner) {
  if (owner.pid <= 0) return false;
  if (owner.boot_id != ReadFirstLine("/proc/sys/kernel/random/boot_id")) return false;
  auto stat = ReadStat(owner.pid);
  if (!stat) return false;
  // Z: zombie (exited, not yet reaped), X: dead.
  if (stat->state == 'Z' || stat->state == 'X') return false;
  return stat->start_ticks == owner.start_ticks;
}

}  // namespace joulebench::store
