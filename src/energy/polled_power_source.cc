#include "energy/polled_power_source.h"

#include <fmt/format.h>

#include <algorithm>

#include "joulebench/units.h"

namespace joulebench::energy {

double PolledPowerSource::Seconds(Clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

PolledPowerSource::PolledPowerSource(Settings settings, DomainInfo domain,
                                     std::unique_ptr<PowerPoller> poller, double first_watts,
                                     Clock::time_point first_time)
    : settings_(std::move(settings)), domains_{std::move(domain)}, poller_(std::move(poller)) {
  // This counter is built from power readings: a span without readings holds no measurement.
  domains_[0].counts_through_gaps = false;
  last_time_s_ = Seconds(first_time);
  last_watts_ = first_watts;
  warnings_ = std::move(settings_.initial_warnings);
  thread_ = std::thread([this, first_time] {
    std::unique_lock lock(wake_mutex_);
    const auto period = settings_.period;
    Clock::time_point next = first_time + period;
    while (!stop_) {
      if (wake_.wait_until(lock, next, [this] { return stop_; })) break;
      lock.unlock();
      PollOnce();
      lock.lock();
      // The next deadline on the grid first_time + k * period: a slow answer delays one poll,
      // it does not shift every later one; missed deadlines are skipped, not made up.
      const auto now = Clock::now();
      next += period;
      if (next <= now) next += ((now - next) / period + 1) * period;
    }
  });
}

PolledPowerSource::~PolledPowerSource() {
  {
    std::lock_guard lock(wake_mutex_);
    stop_ = true;
  }
  poller_->Cancel();
  wake_.notify_all();
  thread_.join();
}

// One poll: read, then publish under the mutex.
void PolledPowerSource::PollOnce() {
  const Clock::time_point before = Clock::now();
  PowerPoller::Result result = poller_->Poll();
  const Clock::time_point after = Clock::now();
  {
    std::lock_guard lock(wake_mutex_);
    if (stop_) return;  // a cancelled poll is no failure
  }
  // The BMC sampled its sensor somewhere inside the request: the middle is the best estimate.
  const double t_s = Seconds(before) + 0.5 * std::chrono::duration<double>(after - before).count();
  const std::string& domain = domains_[0].name;
  std::lock_guard lock(mutex_);
  if (result.ok) {
    const double dt = t_s - last_time_s_;
    if (dt > 0) joules_at_last_ += 0.5 * (last_watts_ + result.watts) * dt;
    if (failures_in_a_row_ > 0) {
      warnings_.push_back(fmt::format(
          "{}: readings resumed after {} failed poll{} ({} since the previous reading); that "
          "span is a gap in this domain's timeline: its energy is not counted",
          domain, failures_in_a_row_, failures_in_a_row_ == 1 ? "" : "s",
          FormatDuration(t_s - last_time_s_)));
    }
    failures_in_a_row_ = 0;
    last_time_s_ = std::max(last_time_s_, t_s);
    last_watts_ = result.watts;
    ++readings_;
    return;
  }
  if (failures_in_a_row_++ == 0) {
    warnings_.push_back(fmt::format(
        "{}: reading the BMC failed: {}; this domain has no samples until the BMC answers "
        "again (a gap in its timeline, not counted; the other domains go on)",
        domain, result.error));
  }
}

void PolledPowerSource::Read(std::span<Reading> out) {
  const double now_s = Seconds(Clock::now());
  const double hold_s = std::chrono::duration<double>(settings_.hold_limit).count();
  double joules = 0;
  bool fresh = false;
  bool failing = false;
  {
    std::lock_guard lock(mutex_);
    const double age_s = std::max(0.0, now_s - last_time_s_);
    failing = failures_in_a_row_ > 0;
    fresh = age_s <= hold_s && !failing;
    joules = joules_at_last_ + last_watts_ * std::min(age_s, hold_s);
  }
  // The held power may overshoot a later, lower reading's trapezoid: the counter then waits
  // for the integral to catch up instead of going backwards. Across a gap the counter holds
  // the readings' trapezoid, which the sampler does not count (counts_through_gaps is false).
  if (fresh) returned_joules_ = std::max(returned_joules_, joules);
  out[0] = {returned_joules_, fresh};
  if (!fresh) {
    out[0].problem = failing ? "the BMC did not answer or failed" : "the BMC's reading is too old";
  }
}

std::vector<std::string> PolledPowerSource::TakeWarnings() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

std::size_t PolledPowerSource::readings() const {
  std::lock_guard lock(mutex_);
  return readings_;
}

}  // namespace joulebench::energy
