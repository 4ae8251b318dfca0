#include "cli/store_options.h"

#ifdef JOULEBENCH_WITH_TORCH
#include "joulebench/workloads/torch_runtime.h"
#endif

namespace joulebench::cli {

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
