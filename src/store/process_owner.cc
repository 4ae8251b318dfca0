#include "store/process_owner.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "energy/procfs_text.h"

namespace joulebench::store {
namespace {

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

struct StatFields {
  char state = '?';
  std::int64_t start_ticks = 0;
};

// State and start time of /proc/<pid>/stat; the whole file, as a command name may hold a
// line break.
std::optional<StatFields> ReadStat(std::int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::ostringstream text;
  text << in.rdbuf();
  const auto stat = energy::ParseProcPidStat(text.str());
  if (!stat || !stat->start_ticks) return std::nullopt;
  return StatFields{stat->state, static_cast<std::int64_t>(*stat->start_ticks)};
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
