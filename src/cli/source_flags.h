// Flags shared by the commands that read sensors: where sources look (--sysfs-root,
// --procfs-root, --nvml-library, --cpu-family, --neuron-max-watts) and which are disabled.
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
};

void AddSourceFlags(CLI::App& app, SourceFlags& flags);

// The environment's defaults (SourceOptions::FromEnvironment) overridden by the flags, after
// checking them: roots must be directories, an NVML path must be a shared library. Throws
// InputError with one line naming the flag.
energy::SourceOptions ResolveSourceOptions(const SourceFlags& flags);

}  // namespace joulebench::cli
