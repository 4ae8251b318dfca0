#include "energy/perf_event_source.h"

#include <fmt/format.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

#include "energy/sysfs_text.h"

namespace joulebench::energy {
namespace {

// The event names the power PMU exports (arch/x86/events/rapl.c) and what they cover.
struct KnownEvent {
  std::string_view event;
  std::string_view suffix;  // "" for the package itself
  Component component;
};
constexpr KnownEvent kKnownEvents[] = {
    {"energy-pkg", "", Component::kCpuPackage},    {"energy-cores", "cores", Component::kCpuCores},
    {"energy-gpu", "uncore", Component::kUncore},  {"energy-ram", "dram", Component::kDram},
    {"energy-psys", "psys", Component::kPlatform},
};

long PerfEventOpen(perf_event_attr* attr, int cpu) {
  return syscall(SYS_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

}  // namespace

std::optional<std::uint64_t> ParsePerfEventConfig(std::string_view text) {
  // "event=0x02" (possibly with other terms separated by commas; only event= matters here).
  const auto pos = text.find("event=");
  if (pos == std::string_view::npos) return std::nullopt;
  std::string_view value = text.substr(pos + 6);
  value = value.substr(0, value.find(','));
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  int base = 10;
  if (value.size() > 2 && value[0] == '0' && (value[1] == 'x' || value[1] == 'X')) {
    value.remove_prefix(2);
    base = 16;
  }
  std::uint64_t config = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), config, base);
  if (ec != std::errc() || ptr != value.data() + value.size() || value.empty()) return std::nullopt;
  return config;
}

std::vector<int> ParseCpuList(std::string_view text) {
  // Linux supports at most 8192 CPUs (CONFIG_NR_CPUS): a larger number is not a CPU, and a
  // range up to INT_MAX would never end.
  constexpr int kMaxCpus = 8192;
  std::vector<int> cpus;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    while (!item.empty() && (item.back() == '\n' || item.back() == ' ')) item.remove_suffix(1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.empty()) continue;
    const auto dash = item.find('-');
    int first = 0;
    int last = 0;
    auto parse = [](std::string_view s, int& v) {
      const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      return ec == std::errc() && ptr == s.data() + s.size() && !s.empty() && v >= 0 &&
             v < kMaxCpus;
    };
    if (dash == std::string_view::npos) {
      if (!parse(item, first)) return {};
      last = first;
    } else if (!parse(item.substr(0, dash), first) || !parse(item.substr(dash + 1), last) ||
               last < first) {
      return {};
    }
    for (int c = first; c <= last; ++c) cpus.push_back(c);
    if (cpus.size() > static_cast<std::size_t>(kMaxCpus)) return {};
  }
  return cpus;
}

std::optional<PowerPmu> ParsePowerPmu(const std::filesystem::path& sysfs_root) {
  const auto dir = sysfs_root / "bus" / "event_source" / "devices" / "power";
  const auto type_text = ReadSysfsText(dir / "type");
  if (!type_text) return std::nullopt;
  PowerPmu pmu;
  const auto type = ParseUnsigned(*type_text);
  if (!type) {
    pmu.problems.push_back(
        fmt::format("{}/type holds '{}', not a number", dir.string(), *type_text));
    return pmu;
  }
  pmu.type = static_cast<std::uint32_t>(*type);
  pmu.cpus = ParseCpuList(ReadSysfsText(dir / "cpumask").value_or("0"));
  if (pmu.cpus.empty()) pmu.cpus = {0};
  for (const auto& known : kKnownEvents) {
    const auto events_dir = dir / "events";
    const auto code = ReadSysfsText(events_dir / std::string(known.event));
    if (!code) continue;
    PowerPmuEvent e;
    e.name = std::string(known.event);
    const auto config = ParsePerfEventConfig(*code);
    if (!config) {
      pmu.problems.push_back(fmt::format("{}: cannot parse event code '{}'", e.name, *code));
      continue;
    }
    e.config = *config;
    const auto scale_text = ReadSysfsText(events_dir / (e.name + ".scale")).value_or("");
    double scale = 0;
    const auto [ptr, ec] =
        std::from_chars(scale_text.data(), scale_text.data() + scale_text.size(), scale);
    if (ec != std::errc() || ptr != scale_text.data() + scale_text.size() || !(scale > 0)) {
      pmu.problems.push_back(
          fmt::format("{}: scale '{}' is not a positive number", e.name, scale_text));
      continue;
    }
    e.scale = scale;
    e.unit = ReadSysfsText(events_dir / (e.name + ".unit")).value_or("");
    if (e.unit != "Joules") {
      pmu.problems.push_back(
          fmt::format("{}: unit '{}' is not Joules; event skipped", e.name, e.unit));
      continue;
    }
    pmu.events.push_back(std::move(e));
  }
  return pmu;
}

PerfEventSource::PerfEventSource(std::vector<Counter> counters, std::vector<DomainInfo> domains)
    : counters_(std::move(counters)), domains_(std::move(domains)), warned_(counters_.size()) {}

PerfEventSource::~PerfEventSource() {
  for (const auto& c : counters_) close(c.fd);
}

void PerfEventSource::Read(std::span<Reading> out) {
  for (std::size_t i = 0; i < counters_.size(); ++i) {
    std::uint64_t count = 0;
    const ssize_t n = read(counters_[i].fd, &count, sizeof count);
    if (n != static_cast<ssize_t>(sizeof count)) {
      out[i].ok = false;
      if (!warned_[i]) {
        warned_[i] = true;
        warnings_.push_back(fmt::format("{}: reading the perf event failed ({})", domains_[i].name,
                                        n < 0 ? std::strerror(errno) : "short read"));
      }
      continue;
    }
    out[i].value = static_cast<double>(count) * counters_[i].scale;
    out[i].ok = true;
  }
}

std::vector<std::string> PerfEventSource::TakeWarnings() {
  if (warnings_.empty()) return {};
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

namespace {

// RAPL updates its counters about every millisecond and no domain of a running machine draws
// nothing, so a counter that stands still this long does not count: some hypervisors expose
// the power PMU and return zeros.
constexpr std::chrono::milliseconds kLivenessCheck{25};

}  // namespace

void DropStuckCounters(std::vector<PerfEventSource::Counter>& counters,
                       std::vector<DomainInfo>& domains, std::vector<std::string>& details,
                       std::chrono::milliseconds wait) {
  auto read_all = [&](std::vector<std::uint64_t>& values) {
    values.assign(counters.size(), 0);
    for (std::size_t i = 0; i < counters.size(); ++i) {
      if (::read(counters[i].fd, &values[i], sizeof values[i]) != sizeof values[i]) values[i] = 0;
    }
  };
  std::vector<std::uint64_t> before, after;
  read_all(before);
  std::this_thread::sleep_for(wait);
  read_all(after);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < counters.size(); ++i) {
    if (after[i] == before[i]) {
      details.push_back(fmt::format("{}: left out, its counter did not advance in {} ms",
                                    domains[i].name, wait.count()));
      close(counters[i].fd);
      continue;
    }
    counters[kept] = counters[i];
    domains[kept] = std::move(domains[i]);
    ++kept;
  }
  counters.resize(kept);
  domains.resize(kept);
  // A parent that was left out no longer contains anything.
  for (auto& d : domains) {
    const bool parent_kept = std::any_of(domains.begin(), domains.end(),
                                         [&](const DomainInfo& p) { return p.name == d.parent; });
    if (!parent_kept) d.parent.clear();
  }
}

ProbeResult ProbePerfEvent(const SourceOptions& options) {
  ProbeResult result;
  result.source_name = "perf_event";
  const auto dir = options.sysfs_root / "bus" / "event_source" / "devices" / "power";
  auto pmu = ParsePowerPmu(options.sysfs_root);
  if (!pmu) {
    result.status = ProbeStatus::kAbsent;
    result.reason = fmt::format(
        "no power PMU at {}: the kernel's RAPL perf driver is not "
        "loaded, or this CPU or virtual machine has no RAPL",
        dir.string());
    result.fix =
        "on bare-metal x86, use a kernel with CONFIG_PERF_EVENTS_INTEL_RAPL; virtual "
        "machines usually do not expose it";
    return result;
  }
  result.details = pmu->problems;
  if (pmu->events.empty()) {
    result.status = ProbeStatus::kUnsupported;
    result.reason = fmt::format("the power PMU at {} lists no usable energy event", dir.string());
    return result;
  }

  std::vector<PerfEventSource::Counter> counters;
  std::vector<DomainInfo> domains;
  int denied_errno = 0;
  int other_errno = 0;
  std::string other_what;
  for (std::size_t package = 0; package < pmu->cpus.size(); ++package) {
    const int cpu = pmu->cpus[package];
    const std::string package_name = fmt::format("perf/package-{}", package);
    for (const auto& event : pmu->events) {
      perf_event_attr attr{};
      attr.size = sizeof attr;
      attr.type = pmu->type;
      attr.config = event.config;
      const long fd = PerfEventOpen(&attr, cpu);
      if (fd < 0) {
        const int error = errno;
        if (error == EACCES || error == EPERM) {
          denied_errno = error;
        } else {
          other_errno = error;
          other_what = event.name;
        }
        continue;
      }
      const KnownEvent* known = nullptr;
      for (const auto& k : kKnownEvents) {
        if (k.event == event.name) known = &k;
      }
      DomainInfo d;
      d.component = known->component;
      d.signal = SignalKind::kCounter;
      d.counter_range_joules = 0;  // the kernel extends the counter to 64 bits
      d.update_period_s = 0.001;   // same RAPL hardware counters, ~1 kHz
      d.provenance = {ProvenanceKind::kMeasured,
                      fmt::format("perf_event power/{} cpu{}", event.name, cpu)};
      if (known->component == Component::kPlatform) {
        d.name = pmu->cpus.size() > 1 ? fmt::format("perf/psys-{}", package) : "perf/psys";
      } else if (known->suffix.empty()) {
        d.name = package_name;
      } else {
        d.name = package_name + "/" + std::string(known->suffix);
        // Cores and uncore are inside the package; DRAM is not (Intel SDM vol. 3B, "RAPL
        // Domains and Platform Scope").
        if (known->component != Component::kDram) d.parent = package_name;
      }
      counters.push_back({static_cast<int>(fd), event.scale});
      domains.push_back(std::move(d));
    }
  }
  // psys contains the packages and memory: parent them to it when it is measured.
  std::string psys;
  for (const auto& d : domains) {
    if (d.component == Component::kPlatform && psys.empty()) psys = d.name;
  }
  if (!psys.empty()) {
    for (auto& d : domains) {
      if (d.component == Component::kCpuPackage || d.component == Component::kDram) d.parent = psys;
    }
  }

  if (domains.empty()) {
    if (denied_errno != 0) {
      result.status = ProbeStatus::kPermissionDenied;
      result.reason =
          "perf_event_open of the power PMU is not allowed for this user "
          "(system-wide events need CAP_PERFMON or kernel.perf_event_paranoid <= 0)";
      result.fix =
          "run as root, or: sudo sysctl -w kernel.perf_event_paranoid=0, or give the "
          "binary the capability: sudo setcap cap_perfmon+ep $(command -v joulebench)";
    } else {
      result.status = ProbeStatus::kUnsupported;
      result.reason = fmt::format("perf_event_open of power/{} failed: {}", other_what,
                                  std::strerror(other_errno));
      result.fix = "the kernel lists a power PMU it cannot open; check dmesg for RAPL errors";
    }
    return result;
  }
  DropStuckCounters(counters, domains, result.details, kLivenessCheck);
  if (domains.empty()) {
    result.status = ProbeStatus::kUnsupported;
    result.reason = fmt::format(
        "the power PMU's counters did not advance in {} ms: this machine (typically a virtual "
        "machine) exposes the PMU but does not count energy with it",
        kLivenessCheck.count());
    result.fix = "none on this machine; use bare metal, or let the model estimate";
    return result;
  }
  result.status = ProbeStatus::kAvailable;
  result.source = std::make_unique<PerfEventSource>(std::move(counters), std::move(domains));
  return result;
}

}  // namespace joulebench::energy
