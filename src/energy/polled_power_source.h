// A source for one power gauge that is too slow to read on the sampler's thread: a BMC answers
// in 10 ms to seconds (Redfish over HTTPS, IPMI), while the sampler reads every source every
// 1-100 ms. The source polls on its own thread at the BMC's refresh period, timestamps each
// reading (the middle of the request, on the steady clock the sampler uses too) and integrates
// the readings with the trapezoid rule on those timestamps into cumulative joules. The sampler
// sees a counter that never wraps: the joules at the last reading plus the last power held
// since then, never decreasing. So the energy between two readings does not depend on when
// the sampler happens to look, and a slow or stalled BMC never blocks the sampler. From a
// failed poll until the next good one, and when the last reading is older than the hold limit,
// the sampler gets no reading: the meter records a gap, whose energy it does not count.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "joulebench/energy/source.h"

namespace joulebench::energy {

// Reads the gauge once. Implemented per protocol (Redfish, IPMI DCMI).
class PowerPoller {
 public:
  struct Result {
    bool ok = false;
    double watts = 0;
    std::string error;  // why there is no reading (when !ok): one clause, no password
  };
  virtual ~PowerPoller() = default;
  // Blocks for one reading; returns within the poller's own timeouts.
  virtual Result Poll() = 0;
  // Called from another thread when the source is destroyed: a Poll in progress should return
  // soon. Default: nothing (the Poll ends at its timeout).
  virtual void Cancel() {}
};

class PolledPowerSource final : public Source {
 public:
  using Clock = std::chrono::steady_clock;

  struct Settings {
    std::string source_name;  // "redfish", "ipmi"
    std::chrono::nanoseconds period{std::chrono::seconds(1)};
    // The last reading is held at most this long after it was taken; later the sampler gets
    // no reading (ok=false) until the next one: a gap in the domain's timeline.
    std::chrono::nanoseconds hold_limit{std::chrono::seconds(3)};
    std::vector<std::string> initial_warnings;  // reported by the first TakeWarnings
  };

  // first_watts was read by the probe at first_time. Starts the poll thread.
  PolledPowerSource(Settings settings, DomainInfo domain, std::unique_ptr<PowerPoller> poller,
                    double first_watts, Clock::time_point first_time);
  ~PolledPowerSource() override;
  PolledPowerSource(const PolledPowerSource&) = delete;
  PolledPowerSource& operator=(const PolledPowerSource&) = delete;

  std::string_view name() const override { return settings_.source_name; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  // Cumulative joules since the first reading. Takes a mutex that the poll thread holds only
  // to publish a reading (never across a request): no allocation, no network.
  void Read(std::span<Reading> out) override;
  std::vector<std::string> TakeWarnings() override;

  // Readings that succeeded so far, the first one included.
  std::size_t readings() const;

 private:
  void PollOnce();
  static double Seconds(Clock::time_point t);

  Settings settings_;
  std::vector<DomainInfo> domains_;
  std::unique_ptr<PowerPoller> poller_;

  mutable std::mutex mutex_;  // guards the published reading and the warning texts
  double last_time_s_ = 0;    // steady clock, seconds
  double last_watts_ = 0;
  double joules_at_last_ = 0;
  std::size_t readings_ = 1;
  std::size_t failures_in_a_row_ = 0;
  std::vector<std::string> warnings_;

  // Sampler side (Read is called by one thread at a time).
  double returned_joules_ = 0;

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace joulebench::energy
