#include "joulebench/report/progress_observer.h"

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace joulebench::report {

ProgressObserver::ProgressObserver(ProgressMode mode, std::FILE* out, double plain_interval_s)
    : progress_(mode, out, plain_interval_s) {}

void ProgressObserver::OnPhase(std::string_view phase, std::optional<double> eta_s) {
  progress_.Phase(std::string(phase), eta_s);
}

void ProgressObserver::OnProgress(double throughput_per_s, double watts) {
  ProgressUpdate update;
  if (throughput_per_s > 0 && std::isfinite(throughput_per_s)) {
    update.throughput_per_s = throughput_per_s;
  }
  if (std::isfinite(watts) && watts >= 0) update.watts = watts;
  progress_.Update(update);
}

void ProgressObserver::OnEnd(const run::RunRecord& record) {
  if (record.status == run::RunStatus::kIncomplete) {
    progress_.Done("run stopped early: results are incomplete");
  } else if (record.status == run::RunStatus::kFailed) {
    progress_.Done("run failed");
  } else {
    progress_.Done();
  }
}

}  // namespace joulebench::report
