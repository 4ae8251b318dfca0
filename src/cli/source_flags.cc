#include "cli/source_flags.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>

#include "joulebench/error.h"
#include "joulebench/units.h"

namespace joulebench::cli {
namespace {

constexpr std::array<std::string_view, 5> kSourceNames = {"powercap", "perf_event", "nvml",
                                                          "neuron", "model"};

void CheckDirectory(const std::filesystem::path& path, std::string_view what,
                    std::string_view plays) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    throw InputError(
        fmt::format("{} '{}' is not a directory; give the directory that plays the "
                    "role of {}",
                    what, path.string(), plays));
  }
}

// A path (not a bare soname, which dlopen searches for) must name an ELF shared object.
void CheckLibrary(const std::string& path, std::string_view what) {
  if (path.find('/') == std::string::npos) return;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(
        fmt::format("{} '{}' does not exist; give the path of libnvidia-ml.so.1", what, path));
  }
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() != 4 || magic[0] != 0x7f || magic[1] != 'E' || magic[2] != 'L' ||
      magic[3] != 'F') {
    throw InputError(
        fmt::format("{} '{}' is not a shared library (no ELF header); give the "
                    "path of libnvidia-ml.so.1",
                    what, path));
  }
}

}  // namespace

void AddSourceFlags(CLI::App& app, SourceFlags& flags) {
  app.add_option("--sysfs-root", flags.sysfs_root,
                 "Directory to read instead of /sys (env JOULEBENCH_SYSFS_ROOT)");
  app.add_option("--procfs-root", flags.procfs_root,
                 "Directory to read instead of /proc (env JOULEBENCH_PROCFS_ROOT)");
  app.add_option("--nvml-library", flags.nvml_library,
                 "NVML library to load (default libnvidia-ml.so.1, env JOULEBENCH_NVML_LIBRARY)");
  app.add_option("--cpu-family", flags.cpu_family,
                 "CPU family for the power model instead of /proc/cpuinfo's "
                 "(env JOULEBENCH_CPU_FAMILY)");
  app.add_option("--neuron-max-watts", flags.neuron_max_watts,
                 "Maximum Neuron device power, to turn its percentages into watts "
                 "(env JOULEBENCH_NEURON_MAX_WATTS)");
  app.add_option("--disable", flags.disabled,
                 "Do not use this source (powercap, perf_event, nvml, neuron, model); repeatable")
      // One value per --disable, so that "--disable model -- CMD" leaves "--" alone.
      ->allow_extra_args(false);
}

energy::SourceOptions ResolveSourceOptions(const SourceFlags& flags) {
  energy::SourceOptions options = energy::SourceOptions::FromEnvironment();
  const bool sysfs_from_flag = !flags.sysfs_root.empty();
  if (sysfs_from_flag) options.sysfs_root = flags.sysfs_root;
  if (!flags.procfs_root.empty()) options.procfs_root = flags.procfs_root;
  if (!flags.nvml_library.empty()) options.nvml_library = flags.nvml_library;
  if (!flags.cpu_family.empty()) options.cpu_family = flags.cpu_family;
  if (!flags.neuron_max_watts.empty()) {
    const double watts = ParseNumber(flags.neuron_max_watts, "--neuron-max-watts");
    if (!(watts > 0)) {
      throw InputError(
          fmt::format("--neuron-max-watts '{}' must be greater than zero", flags.neuron_max_watts));
    }
    options.neuron_max_device_watts = watts;
  }
  for (const auto& name : flags.disabled) {
    if (std::find(kSourceNames.begin(), kSourceNames.end(), name) == kSourceNames.end()) {
      throw InputError(fmt::format(
          "--disable '{}' is not a source; use powercap, perf_event, nvml, neuron or model", name));
    }
    options.disabled.push_back(name);
  }
  CheckDirectory(options.sysfs_root,
                 sysfs_from_flag ? "--sysfs-root" : "the sysfs root (JOULEBENCH_SYSFS_ROOT)",
                 "/sys");
  CheckDirectory(
      options.procfs_root,
      flags.procfs_root.empty() ? "the procfs root (JOULEBENCH_PROCFS_ROOT)" : "--procfs-root",
      "/proc");
  CheckLibrary(options.nvml_library, flags.nvml_library.empty()
                                         ? "the NVML library (JOULEBENCH_NVML_LIBRARY)"
                                         : "--nvml-library");
  return options;
}

}  // namespace joulebench::cli
