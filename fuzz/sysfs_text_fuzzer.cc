// sysfs attribute files: unsigned counters (powercap energy_uj, max_energy_range_uj,
// constraint_*_max_power_uw, the power PMU's type) read as text and with pread, cpumask lists,
// perf event codes ("event=0x02") and powercap zone directory names ("intel-rapl:0:1").
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "energy/perf_event_source.h"
#include "energy/powercap_source.h"
#include "energy/sysfs_text.h"
#include "fuzz_support.h"

namespace {

using joulebench::fuzz::Check;
namespace energy = joulebench::energy;

// The Linux kernel supports at most 8192 CPUs (CONFIG_NR_CPUS); a list naming more is not a
// cpumask.
constexpr std::size_t kMaxCpus = 8192;

// The same text through the sampler's path: a file kept open and pread from offset 0.
void CheckPread(std::string_view text, const std::optional<std::uint64_t>& parsed) {
  static const int fd = memfd_create("sysfs_text_fuzzer", MFD_CLOEXEC);
  if (fd < 0) return;
  if (ftruncate(fd, 0) != 0) return;
  if (pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) return;
  std::uint64_t value = 0;
  int error = 0;
  const bool ok = energy::PreadUnsigned(fd, value, error);
  // pread reads the first line of at most 64 bytes: the same number as the whole text when
  // the text is one short line.
  if (text.size() < 64 && text.find('\n') == std::string_view::npos) {
    Check(ok == parsed.has_value() && (!ok || value == *parsed), "PreadUnsigned != ParseUnsigned");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = joulebench::fuzz::AsText(data, size);
  const auto parsed = energy::ParseUnsigned(text);
  CheckPread(text, parsed);

  const std::vector<int> cpus = energy::ParseCpuList(text);
  Check(cpus.size() <= kMaxCpus, "cpu list longer than any machine");
  for (int c : cpus) Check(c >= 0 && c < static_cast<int>(kMaxCpus), "cpu number out of range");

  (void)energy::ParsePerfEventConfig(text);

  if (const auto zone = energy::ParsePowercapZoneId(std::string(text))) {
    Check(!zone->path.empty(), "zone id without a path");
    for (int i : zone->path) Check(i >= 0, "negative zone index");
  }
  return 0;
}
