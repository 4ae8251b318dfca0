// Which process is writing a run, precisely enough to tell later whether it is still alive:
// a pid alone may be reused, so the boot id and the process's start time go with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace joulebench::store {

struct ProcessOwner {
  std::int64_t pid = 0;
  std::string boot_id;           // /proc/sys/kernel/random/boot_id
  std::int64_t start_ticks = 0;  // field 22 of /proc/<pid>/stat (clock ticks since boot)
};

ProcessOwner CurrentProcessOwner();
// True when `owner` is a live (not zombie) process of this boot with the same start time.
bool IsAlive(const ProcessOwner& owner);

}  // namespace joulebench::store
