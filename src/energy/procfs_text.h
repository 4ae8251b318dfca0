// Parsers of the procfs (and cgroupfs) files that the CPU model, the CPU-share sampler and the
// run store read (proc(5), Documentation/admin-guide/cgroup-v2.rst). They take the text and
// allocate nothing, so that the sampler thread can call them at every sample, and so that
// tests and fuzz targets can call them without a procfs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace joulebench::energy {

// The aggregate "cpu" line at the start of /proc/stat, in USER_HZ ticks: user nice system idle
// iowait irq softirq steal (guest and guest_nice are already inside user and nice). Kernels
// before 2.6.33 print fewer fields; those absent are 0.
struct ProcStatCpuTicks {
  std::array<std::uint64_t, 8> fields{};
  int count = 0;  // how many the line has (4..8)
};
// nullopt unless the text starts with "cpu " and at least 4 numbers follow on that line.
std::optional<ProcStatCpuTicks> ParseProcStatCpuLine(std::string_view text);

// The number of "cpuN" lines of /proc/stat (one per online CPU).
int CountProcStatCpus(std::string_view text);

// MemTotal of /proc/meminfo, in kB as the kernel writes it (KiB); nullopt when absent.
std::optional<std::uint64_t> ParseMemTotalKib(std::string_view text);

// One interface line of /proc/net/dev: "  eth0: rx_bytes rx_packets ... tx_bytes ...".
struct NetDevCounters {
  std::string_view name;  // points into the text
  std::uint64_t receive_bytes = 0;
  std::uint64_t transmit_bytes = 0;
};
// The next interface line of `text`, which is advanced past it; false when no complete line
// is left. Header lines and lines without the counters are skipped; a last line without its
// '\n' (a read cut short) is left out.
bool NextNetDevInterface(std::string_view& text, NetDevCounters& out);

// /proc/<pid>/stat: "pid (comm) state ppid ... utime stime ... starttime ...". comm may hold
// spaces and parentheses, so fields are counted from the last ')'.
struct ProcPidStat {
  std::string_view comm;  // points into the text
  char state = '?';
  std::uint64_t utime_ticks = 0;             // field 14
  std::uint64_t stime_ticks = 0;             // field 15
  std::optional<std::uint64_t> start_ticks;  // field 22, since boot
};
// nullopt unless the text has "(comm)" and numbers for utime and stime.
std::optional<ProcPidStat> ParseProcPidStat(std::string_view text);

// usage_usec of a cgroup v2 cpu.stat ("usage_usec 123\nuser_usec ..."); nullopt when absent.
std::optional<std::uint64_t> ParseCgroupCpuUsageUsec(std::string_view text);

}  // namespace joulebench::energy
