#include "joulebench/load/observer_hooks.h"

#include <fmt/format.h>

#include <mutex>

#include "joulebench/load/latency_histogram.h"

namespace joulebench::load {

struct ObserverHooks::State {
  std::mutex mutex;
  std::string context = "warm-up";
  bool measuring = false;
};

ObserverHooks::ObserverHooks(run::RunObserver* observer)
    : observer_(observer), state_(std::make_shared<State>()) {}

void ObserverHooks::Connect(TestSettings& settings, PeakSearchSettings* search) const {
  if (observer_ == nullptr) return;
  run::RunObserver* observer = observer_;
  std::shared_ptr<State> state = state_;
  settings.stop_requested = [observer] { return observer->StopRequested(); };
  const char* measuring_phase =
      settings.wait_for_steady_state ? "steady state reached, measuring" : "measuring";
  settings.on_window = [observer, state, measuring_phase](double throughput_per_s, double watts,
                                                          bool measuring) {
    std::string phase;
    {
      std::lock_guard lock(state->mutex);
      if (measuring != state->measuring) {
        state->measuring = measuring;
        phase = measuring ? fmt::format("{}: {}", state->context, measuring_phase)
                          : fmt::format("{}: warm-up", state->context);
      }
    }
    if (!phase.empty()) observer->OnPhase(phase, std::nullopt);
    observer->OnProgress(throughput_per_s, watts);
  };
  settings.on_window_latencies = [observer](const LatencyHistogram& window) {
    observer->OnLatencies(window);
  };
  if (search != nullptr) {
    search->on_probe = [hooks = *this](int probe, double rate_qps) {
      hooks.Phase(fmt::format("peak search step {} ({:.4g}/s)", probe, rate_qps));
    };
  }
}

void ObserverHooks::Phase(const std::string& context, std::optional<double> eta_s) const {
  if (observer_ == nullptr) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->context = context;
    state_->measuring = false;
  }
  observer_->OnPhase(context, eta_s);
}

bool ObserverHooks::StopRequested() const {
  return observer_ != nullptr && observer_->StopRequested();
}

}  // namespace joulebench::load
