#include "window_monitor.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

namespace joulebench::load {

WindowMonitor::WindowMonitor(const RunCompleter& completer, std::int64_t run_begin_ns,
                             std::int64_t window_ns, const PowerSignal& power,
                             bool wait_for_steady_state, SteadyStateOptions steady_options,
                             std::int64_t max_warmup_ns)
    : completer_(completer),
      run_begin_ns_(run_begin_ns),
      window_ns_(window_ns),
      power_(power),
      wait_(wait_for_steady_state),
      max_warmup_ns_(max_warmup_ns),
      detector_(steady_options),
      steady_k_(static_cast<std::size_t>(steady_options.windows)),
      previous_(std::make_unique<LatencyHistogram>()),
      current_(std::make_unique<LatencyHistogram>()) {
  if (!wait_) measure_start_ns_.store(0, std::memory_order_release);
}

WindowMonitor::~WindowMonitor() { Stop(); }

void WindowMonitor::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void WindowMonitor::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string WindowMonitor::criterion() const {
  return detector_.Criterion(static_cast<double>(window_ns_) / 1e9);
}

void WindowMonitor::Loop() {
  std::int64_t begin_ns = 0;
  while (true) {
    const std::int64_t end_ns = begin_ns + window_ns_;
    const auto deadline =
        std::chrono::steady_clock::time_point(std::chrono::nanoseconds(run_begin_ns_ + end_ns));
    bool stopping;
    {
      std::unique_lock lock(mutex_);
      stopping = cv_.wait_until(lock, deadline, [this] { return stop_; });
    }
    if (stopping) {
      const std::int64_t now_ns = SteadyNowNs() - run_begin_ns_;
      if (now_ns - begin_ns >= window_ns_ / 2) {
        CloseWindow(begin_ns, now_ns);
      } else {
        ReportTailLatencies();
      }
      return;
    }
    CloseWindow(begin_ns, end_ns);
    begin_ns = end_ns;
  }
}

void WindowMonitor::CloseWindow(std::int64_t begin_ns, std::int64_t end_ns) {
  current_->Reset();
  completer_.MergeAllInto(*current_);
  LatencyHistogram window(*current_);
  window.Subtract(*previous_);
  std::swap(previous_, current_);

  WindowStats w;
  w.begin_s = static_cast<double>(begin_ns) / 1e9;
  w.end_s = static_cast<double>(end_ns) / 1e9;
  w.completed = window.count();
  w.throughput_per_s = static_cast<double>(w.completed) / (w.end_s - w.begin_s);
  w.latency_p50_ns = window.PercentileNs(50);
  w.latency_p99_ns = window.PercentileNs(99);
  w.watts = std::nan("");
  if (power_.mean_watts) {
    const double base_s = static_cast<double>(run_begin_ns_) / 1e9;
    try {
      w.watts = power_.mean_watts(base_s + w.begin_s, base_s + w.end_s);
    } catch (const std::exception& e) {
      if (warnings_.size() < 10)
        warnings_.push_back(fmt::format("power signal failed: {}", e.what()));
    }
  }
  ReportLatencies(window);
  windows_.push_back(w);
  last_throughput_.store(w.throughput_per_s, std::memory_order_relaxed);
  Detect(w, end_ns);
  if (on_window_) {
    try {
      on_window_(w.throughput_per_s, w.watts,
                 measure_start_ns_.load(std::memory_order_acquire) != kNotYet);
    } catch (const std::exception& e) {
      if (warnings_.size() < 10)
        warnings_.push_back(fmt::format("window observer failed: {}", e.what()));
    }
  }
}

void WindowMonitor::ReportTailLatencies() {
  if (!on_window_latencies_) return;
  current_->Reset();
  completer_.MergeAllInto(*current_);
  LatencyHistogram tail(*current_);
  tail.Subtract(*previous_);
  std::swap(previous_, current_);
  ReportLatencies(tail);
}

void WindowMonitor::ReportLatencies(const LatencyHistogram& window) {
  if (!on_window_latencies_ || window.count() == 0) return;
  try {
    on_window_latencies_(window);
  } catch (const std::exception& e) {
    if (warnings_.size() < 10) {
      warnings_.push_back(fmt::format("window latency observer failed: {}", e.what()));
    }
  }
}

void WindowMonitor::Detect(const WindowStats& w, std::int64_t end_ns) {
  if (measure_start_ns_.load(std::memory_order_relaxed) != kNotYet || warmup_failed()) return;
  if (detector_.AddWindow(w.throughput_per_s, w.watts)) {
    // Mean throughput of the steady windows (used to size an offline run).
    double sum = 0;
    std::size_t used = 0;
    for (auto it = windows_.rbegin(); it != windows_.rend() && used < steady_k_; ++it, ++used) {
      sum += it->throughput_per_s;
    }
    steady_throughput_.store(used ? sum / static_cast<double>(used) : 0, std::memory_order_release);
    measure_start_ns_.store(SteadyNowNs() - run_begin_ns_, std::memory_order_release);
  } else if (end_ns >= max_warmup_ns_) {
    warmup_failed_.store(true, std::memory_order_release);
  }
}

}  // namespace joulebench::load
