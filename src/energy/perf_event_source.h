// perf_event power PMU: the same RAPL counters read through perf_event_open(2), for machines
// where powercap is missing or unreadable but perf events are allowed. Event codes, scale and
// unit come from <sysfs_root>/bus/event_source/devices/power/ (events/energy-pkg, .scale,
// .unit; cpumask names one CPU per package). The kernel extends the counters to 64 bits, so
// there is no wrap-around to correct.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"

namespace joulebench::energy {

// One energy event as the power PMU describes it in sysfs.
struct PowerPmuEvent {
  std::string name;          // "energy-pkg"
  std::uint64_t config = 0;  // from "event=0x02"
  double scale = 0;          // joules per count, e.g. 2.3283064365386962890625e-10
  std::string unit;          // "Joules"
};

struct PowerPmu {
  std::uint32_t type = 0;  // perf_event_attr.type
  std::vector<PowerPmuEvent> events;
  std::vector<int> cpus;              // cpumask: one CPU per package
  std::vector<std::string> problems;  // events skipped and why (bad scale, unknown unit)
};

// Parses <sysfs_root>/bus/event_source/devices/power. Returns std::nullopt when there is no
// power PMU; throws nothing.
std::optional<PowerPmu> ParsePowerPmu(const std::filesystem::path& sysfs_root);

// The event code of an events/<name> file: "event=0x02" (other terms, comma-separated, are
// ignored); nullopt when there is none.
std::optional<std::uint64_t> ParsePerfEventConfig(std::string_view text);

// Parses a cpumask/cpulist such as "0", "0,28" or "0-3,8".
std::vector<int> ParseCpuList(std::string_view text);

class PerfEventSource final : public Source {
 public:
  struct Counter {
    int fd = -1;
    double scale = 0;  // joules per count
  };
  PerfEventSource(std::vector<Counter> counters, std::vector<DomainInfo> domains);
  ~PerfEventSource() override;
  PerfEventSource(const PerfEventSource&) = delete;
  PerfEventSource& operator=(const PerfEventSource&) = delete;

  std::string_view name() const override { return "perf_event"; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  void Read(std::span<Reading> out) override;
  std::vector<std::string> TakeWarnings() override;

 private:
  std::vector<Counter> counters_;
  std::vector<DomainInfo> domains_;
  std::vector<bool> warned_;
  std::vector<std::string> warnings_;
};

// Reads every counter twice, `wait` apart, and leaves out (closing its fd, with a line in
// `details`) each one that did not advance: some hypervisors expose the power PMU and count
// nothing. A kept domain whose parent was left out loses its parent.
void DropStuckCounters(std::vector<PerfEventSource::Counter>& counters,
                       std::vector<DomainInfo>& domains, std::vector<std::string>& details,
                       std::chrono::milliseconds wait);

ProbeResult ProbePerfEvent(const SourceOptions& options);

}  // namespace joulebench::energy
