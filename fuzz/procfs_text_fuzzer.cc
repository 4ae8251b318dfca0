// procfs and cgroupfs text: /proc/stat (the cpu line, the cpuN lines), /proc/meminfo,
// /proc/net/dev, /proc/<pid>/stat, a cgroup's cpu.stat and /proc/cpuinfo (the CPU family of
// the modelled CPU power). A parser either finds what it looks for, in range, or says it is not
// there; it never throws.
#include <cstdint>
#include <string>

#include "energy/procfs_text.h"
#include "fuzz_support.h"
#include "joulebench/energy/ccf_coefficients.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using joulebench::fuzz::Check;
  namespace energy = joulebench::energy;
  const std::string_view text = joulebench::fuzz::AsText(data, size);
  auto inside = [&](std::string_view part) {
    return part.empty() ||
           (part.data() >= text.data() && part.data() + part.size() <= text.data() + text.size());
  };

  if (const auto ticks = energy::ParseProcStatCpuLine(text)) {
    Check(ticks->count >= 4 && ticks->count <= 8, "cpu line field count");
  }
  Check(energy::CountProcStatCpus(text) >= 0, "negative cpu count");
  (void)energy::ParseMemTotalKib(text);

  std::string_view rest = text;
  energy::NetDevCounters counters;
  std::size_t interfaces = 0;
  while (energy::NextNetDevInterface(rest, counters)) {
    Check(inside(counters.name), "interface name outside the text");
    Check(counters.name.find('\n') == std::string_view::npos, "interface name with a line break");
    Check(++interfaces <= text.size(), "more interfaces than lines");
  }

  if (const auto stat = energy::ParseProcPidStat(text)) {
    Check(inside(stat->comm), "comm outside the text");
  }
  (void)energy::ParseCgroupCpuUsageUsec(text);

  const std::string family = energy::DetectCpuFamily(text);
  Check(!family.empty(), "empty CPU family");
  joulebench::fuzz::CheckStorable(family, "CPU family");
  return 0;
}
