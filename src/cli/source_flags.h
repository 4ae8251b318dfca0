// Flags shared by the commands that read sensors: where sources look (--sysfs-root,
// --procfs-root, --nvml-library, --cpu-family, --neuron-max-watts), how to reach the BMC
// (--bmc-url, --bmc-user, --bmc-password-file, --bmc-ca-file, --bmc-insecure, --bmc-chassis,
// --bmc-timeout, --bmc-interval, --ipmi-host) and which sources are disabled.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"

namespace joulebench::cli {

struct SourceFlags {
  std::string sysfs_root;
  std::string procfs_root;
  std::string nvml_library;
  std::string cpu_family;
  std::string neuron_max_watts;
  std::vector<std::string> disabled;
  std::string bmc_url;
  std::string bmc_user;
  std::string bmc_password_file;
  std::string bmc_password_refused;  // --bmc-password: refused, a password never goes in argv
  std::string bmc_ca_file;
  bool bmc_insecure = false;
  std::string bmc_chassis;
  std::string bmc_timeout;
  std::string bmc_interval;
  std::string ipmi_host;
};

void AddSourceFlags(CLI::App& app, SourceFlags& flags);

// The environment's defaults (SourceOptions::FromEnvironment) overridden by the flags, after
// checking them: roots must be directories, an NVML path must be a shared library, the BMC
// URL an https URL without credentials, the password file readable and not empty. Throws
// InputError with one line naming the flag (and never the password). With a `node_id` (a
// multi-node run), "%n" in the sysfs and procfs roots (flag or environment) becomes it, so
// that each node of a test reads its own fake tree.
energy::SourceOptions ResolveSourceOptions(const SourceFlags& flags, std::string_view node_id = {});

// The BMC part of ResolveSourceOptions: flags over the environment's values in `bmc`.
void ResolveBmcOptions(const SourceFlags& flags, energy::BmcOptions& bmc);

}  // namespace joulebench::cli
