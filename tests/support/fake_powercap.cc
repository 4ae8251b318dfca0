#include "support/fake_powercap.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <stdexcept>

namespace joulebench::testing {
namespace {

void WriteText(const std::filesystem::path& path, const std::string& text) {
  // Rewrite in place (same inode, as sysfs attributes keep theirs: a reader keeps its file
  // open). Write first and shrink after, so that a concurrent reader sees the new number on
  // the first line at every moment, never an empty file.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + path.string());
  const ssize_t n = pwrite(fd, text.data(), text.size(), 0);
  const int rc = ftruncate(fd, static_cast<off_t>(text.size()));
  close(fd);
  if (n != static_cast<ssize_t>(text.size()) || rc != 0) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

}  // namespace

FakePowercap::FakePowercap(std::filesystem::path root) : root_(std::move(root)) {
  std::filesystem::create_directories(root_ / "class" / "powercap");
}

std::filesystem::path FakePowercap::ZoneDir(const std::string& id) const {
  return root_ / "class" / "powercap" / id;
}

std::filesystem::path FakePowercap::AddZone(const std::string& id, const std::string& name,
                                            std::uint64_t max_energy_range_uj,
                                            std::uint64_t energy_uj) {
  const auto dir = ZoneDir(id);
  std::filesystem::create_directories(dir);
  WriteText(dir / "name", name + "\n");
  WriteText(dir / "max_energy_range_uj", std::to_string(max_energy_range_uj) + "\n");
  WriteText(dir / "energy_uj", std::to_string(energy_uj) + "\n");
  WriteText(dir / "enabled", "1\n");
  // The kernel also shows a subzone inside its parent's directory (intel-rapl:0/intel-rapl:0:0).
  const auto last_colon = id.rfind(':');
  const auto first_colon = id.find(':');
  if (last_colon != std::string::npos && last_colon != first_colon) {
    const auto parent_dir = ZoneDir(id.substr(0, last_colon));
    std::error_code ec;
    std::filesystem::create_directory_symlink(dir, parent_dir / id, ec);
  }
  return dir;
}

void FakePowercap::SetEnergy(const std::string& id, std::uint64_t energy_uj) {
  WriteText(ZoneDir(id) / "energy_uj", std::to_string(energy_uj) + "\n");
}

std::uint64_t FakePowercap::Energy(const std::string& id) const {
  return std::stoull(ReadText(ZoneDir(id) / "energy_uj"));
}

void FakePowercap::AddEnergy(const std::string& id, double joules) {
  const std::uint64_t range = std::stoull(ReadText(ZoneDir(id) / "max_energy_range_uj"));
  const auto add = static_cast<std::uint64_t>(std::llround(joules * 1e6));
  SetEnergy(id, (Energy(id) + add) % (range + 1));
}

void FakePowercap::SetRawEnergyContents(const std::string& id, const std::string& contents) {
  WriteText(ZoneDir(id) / "energy_uj", contents);
}

void FakePowercap::SetMaxPower(const std::string& id, int constraint, std::uint64_t max_power_uw) {
  WriteText(ZoneDir(id) / ("constraint_" + std::to_string(constraint) + "_max_power_uw"),
            std::to_string(max_power_uw) + "\n");
}

void FakePowercap::MakeUnreadable(const std::string& id) {
  std::filesystem::permissions(ZoneDir(id) / "energy_uj", std::filesystem::perms::none);
}

void FakePowercap::RemoveZone(const std::string& id) {
  std::filesystem::remove_all(ZoneDir(id));
}

}  // namespace joulebench::testing
