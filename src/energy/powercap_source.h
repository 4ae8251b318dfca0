// powercap RAPL: every intel-rapl:* and intel-rapl-mmio:* zone and subzone under
// <sysfs_root>/class/powercap (Intel, and AMD Zen which uses the same tree). Each zone's
// energy_uj is a cumulative counter in microjoules that wraps at max_energy_range_uj
// (Documentation/power/powercap/powercap.rst in the kernel tree).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"

namespace joulebench::energy {

// A zone directory's name: "intel-rapl:0:1" is family "intel-rapl", path {0, 1}.
struct PowercapZoneId {
  std::string id;
  std::string family;     // "intel-rapl" or "intel-rapl-mmio"
  std::vector<int> path;  // intel-rapl:0:1 -> {0, 1}
};
// nullopt for any other name.
std::optional<PowercapZoneId> ParsePowercapZoneId(const std::string& id);

// One zone's open counter file. Built by ProbePowercap; public for tests and benchmarks.
struct PowercapZone {
  std::string id;             // "intel-rapl:0:1"
  std::filesystem::path dir;  // <sysfs_root>/class/powercap/intel-rapl:0:1
  int energy_fd = -1;         // energy_uj, kept open and pread at every sample
};

class PowercapSource final : public Source {
 public:
  // Takes ownership of the zones' file descriptors; domains[i] describes zones[i].
  PowercapSource(std::vector<PowercapZone> zones, std::vector<DomainInfo> domains);
  ~PowercapSource() override;
  PowercapSource(const PowercapSource&) = delete;
  PowercapSource& operator=(const PowercapSource&) = delete;

  std::string_view name() const override { return "powercap"; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  // One pread per zone, no allocation. A zone whose file holds garbage gives ok=false (and
  // one warning); a zone that vanished gives ok=false from then on (and one warning).
  void Read(std::span<Reading> out) override;
  std::vector<std::string> TakeWarnings() override;

 private:
  struct ZoneState {
    PowercapZone zone;
    std::uint64_t last_uj = 0;
    std::uint32_t unchanged_reads = 0;
    bool has_last = false;
    bool vanished = false;
    bool garbage_warned = false;
  };
  void Warn(std::string message);

  std::vector<ZoneState> zones_;
  std::vector<DomainInfo> domains_;
  std::vector<std::string> warnings_;
};

// ProbePowercap (declared in joulebench/energy/source.h) opens every zone whose energy_uj
// this process can read and reports the others.

// The shell recipe that lets a group read the counters (printed by probe, docs/permissions.md).
std::string PowercapPermissionFix(const std::filesystem::path& powercap_dir);

}  // namespace joulebench::energy
