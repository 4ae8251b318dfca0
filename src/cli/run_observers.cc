#include "cli/run_observers.h"

#include <cstdio>

#include "cli/store_options.h"
#include "joulebench/store/run_store.h"

namespace joulebench::cli {

void AddRunFlags(CLI::App& app, RunFlags& flags, bool with_name) {
  AddDbOption(app, flags.db);
  AddNoStoreFlag(app, flags.no_store);
  app.add_flag("--quiet", flags.quiet, "No live progress on stderr");
  if (with_name) app.add_option("--name", flags.name, "A label for the stored run");
}

CliRunObservers::CliRunObservers(const RunFlags& flags, bool stop_on_signals)
    : quiet_(flags.quiet), progress_(report::Progress::ModeFor(flags.quiet)) {
  if (store::StoringEnabled(flags.no_store)) {
    storing_.emplace(store::OpenStore(flags.db));
    storing_->set_base_fingerprint(CliMachineFingerprint());
  }
  if (stop_on_signals) stop_.emplace();
  if (storing_) all_.Add(&*storing_);
  all_.Add(&progress_);
  if (stop_) all_.Add(&*stop_);
}

void CliRunObservers::PrintStored() const {
  if (!storing_) return;
  std::fprintf(stderr, "%s\n", storing_->StoredLine().c_str());
}

int CliRunObservers::ExitCode(int exit_code) const {
  if (stop_ && stop_->ExitCode() != 0) return stop_->ExitCode();
  return exit_code;
}

}  // namespace joulebench::cli
