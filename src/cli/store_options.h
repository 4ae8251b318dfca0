// Flags every command that touches the run store shares (--db, --no-store), and the machine
// fingerprint with the libtorch version when this build has it.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"
#include "joulebench/store/fingerprint.h"

namespace joulebench::cli {

// Adds --db PATH (default: $JOULEBENCH_DB, else $XDG_DATA_HOME/joulebench/runs.db).
void AddDbOption(CLI::App& app, std::optional<std::string>& db);
// Adds --no-store (also $JOULEBENCH_NO_STORE=1).
void AddNoStoreFlag(CLI::App& app, bool& no_store);
// The fingerprint of this machine and build: NVML details from `probes`, libtorch version
// when built with libtorch.
nlohmann::json CliMachineFingerprint(const std::vector<energy::ProbeResult>& probes = {});

}  // namespace joulebench::cli
