#include "cli/source_flags.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "energy/redfish_source.h"
#include "joulebench/cluster/node_identity.h"
#include "joulebench/error.h"
#include "joulebench/units.h"

namespace joulebench::cli {
namespace {

constexpr std::array<std::string_view, 7> kSourceNames = {
    "powercap", "perf_event", "nvml", "neuron", "redfish", "ipmi", "model"};

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

// The first line of the file, without its line end: the password (the file may end in a
// newline, as `echo secret > file` writes it).
std::string ReadPasswordFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(
        fmt::format("--bmc-password-file '{}' is a directory; give the file that "
                    "holds the BMC password",
                    path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(
        fmt::format("--bmc-password-file '{}' cannot be read: {}; give a file that "
                    "holds the BMC password (mode 0600)",
                    path, std::strerror(errno)));
  }
  std::string password;
  std::getline(in, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    throw InputError(fmt::format(
        "--bmc-password-file '{}' is empty; write the BMC password on its first line", path));
  }
  return password;
}

std::chrono::milliseconds ParseBmcDuration(const std::string& text, std::string_view flag,
                                           std::chrono::milliseconds min,
                                           std::chrono::milliseconds max) {
  const auto d = ParseDuration(text, flag);
  if (d < min || d > max) {
    throw InputError(fmt::format("{} '{}' is out of range; use {} to {}", flag, text,
                                 FormatDuration(std::chrono::duration<double>(min).count()),
                                 FormatDuration(std::chrono::duration<double>(max).count())));
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
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
  app.add_option("--bmc-url", flags.bmc_url,
                 "The BMC's Redfish service, https://HOST[:PORT], to read the whole machine's "
                 "power (env JOULEBENCH_BMC_URL)");
  app.add_option("--bmc-user", flags.bmc_user,
                 "BMC account for Redfish and IPMI over the LAN (env JOULEBENCH_BMC_USER)");
  app.add_option("--bmc-password-file", flags.bmc_password_file,
                 "File whose first line is the BMC password (or env JOULEBENCH_BMC_PASSWORD; "
                 "never on the command line)");
  app.add_option("--bmc-password", flags.bmc_password_refused)->group("");
  app.add_option("--bmc-ca-file", flags.bmc_ca_file,
                 "PEM certificate (the BMC's own, or its CA) to verify the BMC's TLS against");
  app.add_flag("--bmc-insecure", flags.bmc_insecure,
               "Do not verify the BMC's TLS certificate (the run's warnings say so)");
  app.add_option("--bmc-chassis", flags.bmc_chassis,
                 "Redfish chassis Id to read (default: the outermost chassis reporting power)");
  app.add_option("--bmc-timeout", flags.bmc_timeout,
                 "Limit for each request to the BMC, connecting included (default 5s)");
  app.add_option("--bmc-interval", flags.bmc_interval,
                 "How often to read the BMC's power (default: the sensor's SensingInterval, "
                 "else 1s)");
  app.add_option("--ipmi-host", flags.ipmi_host,
                 "Read IPMI DCMI power from this BMC over the LAN instead of in-band "
                 "/dev/ipmi0 (env JOULEBENCH_IPMI_HOST)");
  app.add_option("--disable", flags.disabled,
                 "Do not use this source (powercap, perf_event, nvml, neuron, redfish, ipmi, "
                 "model); repeatable")
      // One value per --disable, so that "--disable model -- CMD" leaves "--" alone.
      ->allow_extra_args(false);
}

void ResolveBmcOptions(const SourceFlags& flags, energy::BmcOptions& bmc) {
  if (!flags.bmc_password_refused.empty()) {
    // Every user of this machine can read a command line (ps, /proc/PID/cmdline).
    throw InputError(
        "--bmc-password is not accepted: a command line is visible to every user of this "
        "machine; put the password in a file (--bmc-password-file FILE, mode 0600) or in "
        "JOULEBENCH_BMC_PASSWORD");
  }
  if (!flags.bmc_url.empty()) bmc.url = flags.bmc_url;
  if (!bmc.url.empty()) {
    std::string why;
    if (energy::NormalizeBmcUrl(bmc.url, why).empty()) {
      // A URL with credentials in it is not repeated: it would print the password.
      const bool has_credentials = bmc.url.find('@') != std::string::npos;
      const std::string what =
          flags.bmc_url.empty() ? "JOULEBENCH_BMC_URL" : std::string("--bmc-url");
      throw InputError(has_credentials ? fmt::format("{} {}", what, why)
                                       : fmt::format("{} '{}' {}", what, bmc.url, why));
    }
  }
  if (!flags.bmc_user.empty()) bmc.user = flags.bmc_user;
  if (!flags.bmc_password_file.empty()) bmc.password = ReadPasswordFile(flags.bmc_password_file);
  if (!flags.bmc_ca_file.empty()) {
    std::ifstream in(flags.bmc_ca_file);
    if (!in || std::filesystem::is_directory(flags.bmc_ca_file)) {
      throw InputError(fmt::format(
          "--bmc-ca-file '{}' cannot be read; give the PEM file of the BMC's certificate or CA",
          flags.bmc_ca_file));
    }
    bmc.ca_file = flags.bmc_ca_file;
  }
  bmc.insecure = flags.bmc_insecure;
  if (bmc.insecure && !bmc.ca_file.empty()) {
    throw InputError(
        "--bmc-insecure and --bmc-ca-file contradict each other; keep --bmc-ca-file to verify "
        "the BMC");
  }
  if (!flags.bmc_chassis.empty()) bmc.chassis = flags.bmc_chassis;
  if (!flags.bmc_timeout.empty()) {
    bmc.timeout = ParseBmcDuration(flags.bmc_timeout, "--bmc-timeout",
                                   std::chrono::milliseconds(100), std::chrono::minutes(10));
  }
  if (!flags.bmc_interval.empty()) {
    bmc.poll_interval = ParseBmcDuration(flags.bmc_interval, "--bmc-interval",
                                         std::chrono::milliseconds(100), std::chrono::hours(1));
  }
  if (!flags.ipmi_host.empty()) bmc.ipmi_host = flags.ipmi_host;
}

energy::SourceOptions ResolveSourceOptions(const SourceFlags& flags, std::string_view node_id) {
  energy::SourceOptions options = energy::SourceOptions::FromEnvironment();
  const bool sysfs_from_flag = !flags.sysfs_root.empty();
  if (sysfs_from_flag) options.sysfs_root = flags.sysfs_root;
  if (!flags.procfs_root.empty()) options.procfs_root = flags.procfs_root;
  if (!node_id.empty()) {
    options.sysfs_root = cluster::ExpandNodePattern(
        options.sysfs_root.string(), node_id,
        sysfs_from_flag ? "--sysfs-root" : "the sysfs root (JOULEBENCH_SYSFS_ROOT)");
    options.procfs_root = cluster::ExpandNodePattern(
        options.procfs_root.string(), node_id,
        flags.procfs_root.empty() ? "the procfs root (JOULEBENCH_PROCFS_ROOT)" : "--procfs-root");
  }
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
          "--disable '{}' is not a source; use powercap, perf_event, nvml, neuron, redfish, "
          "ipmi or model",
          name));
    }
    options.disabled.push_back(name);
  }
  ResolveBmcOptions(flags, options.bmc);
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
