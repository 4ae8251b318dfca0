// A powercap tree in a temp dir (the layout of /sys/class/powercap/intel-rapl:*), whose
// counters a test advances. Files are rewritten in place, as the kernel's would read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace joulebench::testing {

class FakePowercap {
 public:
  // root plays the role of /sys: zones live under root/class/powercap/.
  explicit FakePowercap(std::filesystem::path root);

  // Adds a zone, e.g. AddZone("intel-rapl:0", "package-0", 262143328850) or a subzone
  // AddZone("intel-rapl:0:0", "core", ...). Returns its directory. The kernel also links
  // subzones inside their parent's directory; so does this fake.
  std::filesystem::path AddZone(const std::string& id, const std::string& name,
                                std::uint64_t max_energy_range_uj,
                                std::uint64_t energy_uj = 0);
  // Sets a zone's energy_uj counter (raw, the caller wraps it if it wants a wrap).
  void SetEnergy(const std::string& id, std::uint64_t energy_uj);
  // Adds joules to a zone's counter, wrapping at max_energy_range_uj like the hardware.
  void AddEnergy(const std::string& id, double joules);
  std::uint64_t Energy(const std::string& id) const;
  // Writes arbitrary contents into energy_uj (garbage, empty).
  void SetRawEnergyContents(const std::string& id, const std::string& contents);
  // Writes constraint_<constraint>_max_power_uw (the zone's max_watts).
  void SetMaxPower(const std::string& id, int constraint, std::uint64_t max_power_uw);
  // Makes energy_uj unreadable for the current user (chmod 000); only meaningful when not root
  // unless the reader honours the mode bits itself.
  void MakeUnreadable(const std::string& id);
  // Removes a zone's directory (a zone that disappears mid-run).
  void RemoveZone(const std::string& id);
  std::filesystem::path ZoneDir(const std::string& id) const;
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace joulebench::testing
