#include "energy/powercap_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include "energy/sysfs_text.h"

namespace joulebench::energy {
namespace {

// RAPL updates its energy counters about every millisecond (Intel SDM vol. 3B, "RAPL
// Interfaces": the energy status MSRs are updated at ~1 kHz).
constexpr double kRaplUpdatePeriodS = 0.001;

Component ComponentOf(const std::string& zone_name, bool top_level, bool& known) {
  known = true;
  if (zone_name.rfind("package", 0) == 0) return Component::kCpuPackage;
  if (zone_name == "core") return Component::kCpuCores;
  if (zone_name == "uncore") return Component::kUncore;
  if (zone_name == "dram") return Component::kDram;
  if (zone_name == "psys") return Component::kPlatform;
  known = false;
  return top_level ? Component::kCpuPackage : Component::kUncore;
}

std::string ErrnoText(int error) { return std::strerror(error); }

// Highest constraint_*_max_power_uw of a zone, in watts; 0 when none is given.
double MaxWatts(const std::filesystem::path& dir) {
  double best_uw = 0;
  for (int i = 0; i < 8; ++i) {
    const auto text = ReadSysfsText(dir / fmt::format("constraint_{}_max_power_uw", i));
    if (!text) continue;
    if (const auto uw = ParseUnsigned(*text)) best_uw = std::max(best_uw, double(*uw));
  }
  return best_uw / 1e6;
}

}  // namespace

std::optional<PowercapZoneId> ParsePowercapZoneId(const std::string& id) {
  PowercapZoneId z;
  std::string_view rest = id;
  for (const std::string_view family : {"intel-rapl-mmio", "intel-rapl"}) {
    if (rest.starts_with(family)) {
      z.family = std::string(family);
      rest.remove_prefix(family.size());
      break;
    }
  }
  if (z.family.empty() || rest.empty()) return std::nullopt;
  // ":<index>" once per level; an index too large for an int is not a zone (std::stoi threw).
  while (!rest.empty()) {
    if (rest.size() < 2 || rest[0] != ':' || rest[1] < '0' || rest[1] > '9') return std::nullopt;
    rest.remove_prefix(1);
    int index = 0;
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), index);
    if (ec != std::errc()) return std::nullopt;
    z.path.push_back(index);
    rest.remove_prefix(static_cast<std::size_t>(ptr - rest.data()));
  }
  z.id = id;
  return z;
}

std::string PowercapPermissionFix(const std::filesystem::path& powercap_dir) {
  const std::string files = (powercap_dir / "intel-rapl*/energy_uj").string();
  return fmt::format(
      "run as root, or let a group read the counters: sudo groupadd -f powercap && "
      "sudo usermod -aG powercap $USER && sudo chgrp powercap {0} && sudo chmod g+r {0} "
      "(log in again for the group; this lasts until reboot, docs/permissions.md has a udev "
      "rule that makes it permanent)",
      files);
}

PowercapSource::PowercapSource(std::vector<PowercapZone> zones, std::vector<DomainInfo> domains)
    : domains_(std::move(domains)) {
  zones_.reserve(zones.size());
  for (auto& z : zones) zones_.push_back(ZoneState{std::move(z)});
}

PowercapSource::~PowercapSource() {
  for (auto& z : zones_) {
    if (z.zone.energy_fd >= 0) close(z.zone.energy_fd);
  }
}

void PowercapSource::Warn(std::string message) { warnings_.push_back(std::move(message)); }

void PowercapSource::Read(std::span<Reading> out) {
  for (std::size_t i = 0; i < zones_.size(); ++i) {
    ZoneState& z = zones_[i];
    Reading& r = out[i];
    r.ok = false;
    r.lost = false;
    r.problem = nullptr;
    if (z.vanished) {
      r.lost = true;
      r.problem = "the powercap zone disappeared";
      continue;
    }
    std::uint64_t uj = 0;
    int error = 0;
    if (!PreadUnsigned(z.zone.energy_fd, uj, error)) {
      r.problem = error == 0 ? "energy_uj does not hold a number" : "energy_uj cannot be read";
      if (error == ENODEV || error == ENOENT || error == ENXIO) {
        z.vanished = true;
        r.lost = true;
        r.problem = "the powercap zone disappeared";
        Warn(fmt::format("{}: zone {} disappeared ({}); the energy measured until then is kept",
                         domains_[i].name, z.zone.id, ErrnoText(error)));
      } else if (!z.garbage_warned) {
        z.garbage_warned = true;
        Warn(error == 0 ? fmt::format("{}: {}/energy_uj does not hold a number; such readings "
                                      "are skipped",
                                      domains_[i].name, z.zone.dir.string())
                        : fmt::format("{}: cannot read {}/energy_uj ({}); such readings are "
                                      "skipped",
                                      domains_[i].name, z.zone.dir.string(), ErrnoText(error)));
      }
      continue;
    }
    // An unchanged counter may mean the zone's file is gone (a removed device keeps an open
    // file readable on some file systems): check the link count then, at the first unchanged
    // read and every 16th after, so that an idle domain costs no extra system call per sample.
    z.unchanged_reads = z.has_last && uj == z.last_uj ? z.unchanged_reads + 1 : 0;
    if (z.unchanged_reads % 16 == 1) {
      struct stat st {};
      if (fstat(z.zone.energy_fd, &st) == 0 && st.st_nlink == 0) {
        z.vanished = true;
        r.lost = true;
        r.problem = "the powercap zone disappeared";
        Warn(fmt::format("{}: zone {} disappeared; energy measured until then is kept",
                         domains_[i].name, z.zone.id));
        continue;
      }
    }
    z.last_uj = uj;
    z.has_last = true;
    r.value = static_cast<double>(uj) * 1e-6;
    r.ok = true;
  }
}

std::vector<std::string> PowercapSource::TakeWarnings() {
  if (warnings_.empty()) return {};
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

ProbeResult ProbePowercap(const SourceOptions& options) {
  ProbeResult result;
  result.source_name = "powercap";
  const std::filesystem::path dir = options.sysfs_root / "class" / "powercap";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    result.status = ProbeStatus::kAbsent;
    result.reason =
        fmt::format("{} does not exist: this kernel has no powercap framework", dir.string());
    result.fix = "use a Linux kernel built with CONFIG_POWERCAP and CONFIG_INTEL_RAPL (x86 only)";
    return result;
  }

  std::vector<PowercapZoneId> ids;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (auto id = ParsePowercapZoneId(entry.path().filename().string())) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end(), [](const PowercapZoneId& a, const PowercapZoneId& b) {
    return std::tie(a.family, a.path) < std::tie(b.family, b.path);
  });
  if (ids.empty()) {
    result.status = ProbeStatus::kAbsent;
    result.reason = fmt::format(
        "no intel-rapl zone under {}: the RAPL driver is not loaded, or "
        "this CPU or virtual machine does not expose RAPL",
        dir.string());
    result.fix =
        "on bare-metal x86 (Intel, or AMD Zen with Linux 5.8+): sudo modprobe "
        "intel_rapl_msr; virtual machines and most cloud instances do not expose RAPL";
    return result;
  }

  // First pass: names, so that parents and psys are known before domains are built.
  struct Found {
    PowercapZoneId id;
    std::string zone_name;
    std::string domain_name;
    bool top_level = true;
  };
  std::vector<Found> found;
  std::map<std::string, std::string> domain_of_id;
  std::map<std::string, int> name_uses;
  for (const auto& id : ids) {
    Found f{id, ReadSysfsText(dir / id.id / "name").value_or(""), "", id.path.size() == 1};
    if (f.zone_name.empty()) f.zone_name = id.id;
    const std::string prefix = id.family == "intel-rapl" ? "rapl" : "rapl-mmio";
    std::string parent_domain;
    if (!f.top_level) {
      const std::string parent_id = id.id.substr(0, id.id.rfind(':'));
      const auto it = domain_of_id.find(parent_id);
      parent_domain = it != domain_of_id.end() ? it->second : prefix + "/" + parent_id;
    }
    f.domain_name = (f.top_level ? prefix : parent_domain) + "/" + f.zone_name;
    if (name_uses[f.domain_name]++ > 0) f.domain_name += "-" + id.id;
    domain_of_id[id.id] = f.domain_name;
    found.push_back(std::move(f));
  }
  auto psys_of = [&](const std::string& family) -> std::string {
    for (const auto& f : found) {
      if (f.id.family == family && f.top_level && f.zone_name == "psys") return f.domain_name;
    }
    return "";
  };

  std::vector<PowercapZone> zones;
  std::vector<DomainInfo> domains;
  int denied = 0;
  for (const auto& f : found) {
    const std::filesystem::path zone_dir = dir / f.id.id;
    const int fd = open((zone_dir / "energy_uj").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      if (error == EACCES || error == EPERM) {
        ++denied;
        result.details.push_back(
            fmt::format("{} ({}): energy_uj is not readable by this user", f.domain_name, f.id.id));
      } else {
        result.details.push_back(fmt::format("{} ({}): cannot open energy_uj: {}", f.domain_name,
                                             f.id.id, ErrnoText(error)));
      }
      continue;
    }
    DomainInfo d;
    d.name = f.domain_name;
    bool known = true;
    d.component = ComponentOf(f.zone_name, f.top_level, known);
    d.signal = SignalKind::kCounter;
    d.provenance = {ProvenanceKind::kMeasured,
                    fmt::format("powercap RAPL {}{}", f.id.id,
                                f.id.family == "intel-rapl-mmio" ? " (MMIO)" : "")};
    if (const auto range =
            ParseUnsigned(ReadSysfsText(zone_dir / "max_energy_range_uj").value_or(""))) {
      d.counter_range_joules = static_cast<double>(*range + 1) * 1e-6;
    } else {
      result.details.push_back(fmt::format(
          "{}: max_energy_range_uj is missing or unreadable; wrap-around cannot be corrected",
          f.domain_name));
    }
    d.max_watts = MaxWatts(zone_dir);
    d.update_period_s = kRaplUpdatePeriodS;
    const std::string psys = psys_of(f.id.family);
    if (f.zone_name == "psys") {
      d.parent = "";
    } else if (f.zone_name == "dram") {
      // The package domain excludes DRAM (Intel SDM vol. 3B, "RAPL Domains and Platform
      // Scope"), even though sysfs lists dram under the package: count it separately.
      d.parent = psys;
      d.note = "memory; not part of the package's energy";
    } else if (f.top_level) {
      d.parent = psys;
    } else {
      d.parent = domain_of_id[f.id.id.substr(0, f.id.id.rfind(':'))];
    }
    if (f.id.family == "intel-rapl-mmio" && f.top_level) {
      // The MMIO interface reads the same package counter as the MSR one: never add both.
      for (const auto& g : found) {
        if (g.id.family == "intel-rapl" && g.top_level && g.zone_name == f.zone_name) {
          d.parent = g.domain_name;
          d.note = "same counter as " + g.domain_name + " read through MMIO";
        }
      }
    }
    if (!known) d.note = "unknown RAPL zone name '" + f.zone_name + "'";
    zones.push_back(PowercapZone{f.id.id, zone_dir, fd});
    domains.push_back(std::move(d));
  }

  if (domains.empty()) {
    if (denied > 0) {
      result.status = ProbeStatus::kPermissionDenied;
      result.reason = fmt::format(
          "energy_uj of the {} RAPL zones under {} is readable by root only (Linux 5.10 and "
          "newer, since CVE-2020-8694)",
          denied, dir.string());
      result.fix = PowercapPermissionFix(dir);
    } else {
      result.status = ProbeStatus::kError;
      result.reason = fmt::format("no RAPL zone under {} could be opened", dir.string());
      result.fix = "see the details; check that the intel_rapl driver works (dmesg)";
    }
    return result;
  }
  if (denied > 0) result.fix = PowercapPermissionFix(dir);
  result.status = ProbeStatus::kAvailable;
  result.source = std::make_unique<PowercapSource>(std::move(zones), std::move(domains));
  return result;
}

}  // namespace joulebench::energy
