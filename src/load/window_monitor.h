// The run's clock of windows: a thread that wakes at every window boundary, takes the
// window's completions and latencies from the RunCompleter (histogram difference), asks the
// power signal for the window's mean watts, and feeds the steady-state detector. It never
// touches the hot path: the issuer only reads measure_start_ns() and warmup_failed().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "joulebench/load/power_signal.h"
#include "joulebench/load/scenario_result.h"
#include "joulebench/load/steady_state_detector.h"
#include "run_completer.h"

namespace joulebench::load {

class WindowMonitor {
 public:
  static constexpr std::int64_t kNotYet = std::numeric_limits<std::int64_t>::max();

  WindowMonitor(const RunCompleter& completer, std::int64_t run_begin_ns, std::int64_t window_ns,
                const PowerSignal& power, bool wait_for_steady_state,
                SteadyStateOptions steady_options, std::int64_t max_warmup_ns);
  ~WindowMonitor();

  // Called on the monitor's thread after each window (throughput, watts, measuring); set
  // before Start().
  void set_on_window(std::function<void(double, double, bool)> on_window) {
    on_window_ = std::move(on_window);
  }

  // Called on the monitor's thread with each window's latencies, the last partial window
  // included; set before Start().
  void set_on_window_latencies(std::function<void(const LatencyHistogram&)> on_latencies) {
    on_window_latencies_ = std::move(on_latencies);
  }

  void Start();
  // Stops the thread; the partial last window is kept if it is at least half a window long.
  void Stop();

  // Relative to run begin; kNotYet until steady (0 at once when not waiting).
  std::int64_t measure_start_ns() const noexcept {
    return measure_start_ns_.load(std::memory_order_acquire);
  }
  bool warmup_failed() const noexcept { return warmup_failed_.load(std::memory_order_acquire); }
  // Throughput of the last complete window (0 before the first).
  double last_throughput_per_s() const noexcept {
    return last_throughput_.load(std::memory_order_relaxed);
  }
  // Mean throughput over the k windows that made the run steady.
  double steady_throughput_per_s() const noexcept {
    return steady_throughput_.load(std::memory_order_acquire);
  }

  // After Stop():
  std::vector<WindowStats>& windows() { return windows_; }
  std::string criterion() const;
  const std::string& last_reason() const { return detector_.last_reason(); }
  std::vector<std::string>& warnings() { return warnings_; }

 private:
  void Loop();
  void CloseWindow(std::int64_t begin_ns, std::int64_t end_ns);
  // Hands the latencies completed since the last window to on_window_latencies_ without
  // closing a window (the run's tail, shorter than half a window).
  void ReportTailLatencies();
  void ReportLatencies(const LatencyHistogram& window);
  // Feeds the steady-state detector with the window just closed.
  void Detect(const WindowStats& w, std::int64_t end_ns);

  const RunCompleter& completer_;
  std::int64_t run_begin_ns_;
  std::int64_t window_ns_;
  PowerSignal power_;
  bool wait_;
  std::int64_t max_warmup_ns_;
  SteadyStateDetector detector_;
  std::size_t steady_k_;

  std::atomic<std::int64_t> measure_start_ns_{kNotYet};
  std::atomic<bool> warmup_failed_{false};
  std::atomic<double> last_throughput_{0};
  std::atomic<double> steady_throughput_{0};

  std::unique_ptr<LatencyHistogram> previous_;
  std::unique_ptr<LatencyHistogram> current_;
  std::vector<WindowStats> windows_;
  std::vector<std::string> warnings_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  std::function<void(double, double, bool)> on_window_;
  std::function<void(const LatencyHistogram&)> on_window_latencies_;
};

}  // namespace joulebench::load
