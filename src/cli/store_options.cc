#include "cli/store_options.h"

#include <filesystem>

#include "joulebench/plan/run_resolver.h"
#include "joulebench/store/run_store.h"

#ifdef JOULEBENCH_WITH_TORCH
#include "joulebench/workloads/torch_runtime.h"
#endif

namespace joulebench::cli {
namespace {

// The planner resolves `run=ID` through this lookup, in the database named by
// $JOULEBENCH_DB or the default location (the plan command has no --db of its own).
const bool kRunLookupRegistered = [] {
  plan::RegisterRunLookup([](std::string_view id) -> std::optional<run::RunRecord> {
    auto path = store::DatabasePath();
    if (!std::filesystem::exists(path)) return std::nullopt;
    auto runs = store::RunStore::OpenExisting(path);
    if (!runs.Contains(id)) return std::nullopt;
    return runs.Load(id);  // InputError for a run still in progress
  });
  return true;
}();

}  // namespace

void AddDbOption(CLI::App& app, std::optional<std::string>& db) {
  app.add_option("--db", db,
                 "Run database (default: $JOULEBENCH_DB, else "
                 "$XDG_DATA_HOME/joulebench/runs.db, else ~/.local/share/joulebench/runs.db)");
}

void AddNoStoreFlag(CLI::App& app, bool& no_store) {
  app.add_flag("--no-store", no_store,
               "Do not store this run in the run database (also JOULEBENCH_NO_STORE=1)");
}

nlohmann::json CliMachineFingerprint(const std::vector<energy::ProbeResult>& probes) {
  store::FingerprintOptions options;
  store::AddProbeDetails(options, probes);
#ifdef JOULEBENCH_WITH_TORCH
  options.torch_version = workloads::TorchVersion();
#endif
  return store::MachineFingerprint(options);
}

}  // namespace joulebench::cli
