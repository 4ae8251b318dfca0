// The completion side of one scenario run: a ring of scheduled times indexed by query id,
// and per-thread latency histograms. Complete() takes no lock and allocates only on a
// thread's first call in a run.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "joulebench/load/latency_histogram.h"
#include "joulebench/load/query.h"

namespace joulebench::load {

// Nanoseconds on the steady clock (CLOCK_MONOTONIC through the vDSO).
std::int64_t SteadyNowNs() noexcept;

class RunCompleter final : public QueryCompleter {
 public:
  // `ring_capacity` is rounded up to a power of two. run_begin_ns is the run's zero; it may
  // be set later with set_run_begin_ns, before the first query is scheduled.
  RunCompleter(std::uint64_t ring_capacity, std::int64_t run_begin_ns);
  void set_run_begin_ns(std::int64_t run_begin_ns) noexcept { run_begin_ns_ = run_begin_ns; }
  ~RunCompleter() override;

  // Issuer side (one thread). False if the slot of `id` still holds an uncompleted query
  // (more than capacity outstanding): the caller must not issue it.
  bool Schedule(QueryId id, std::int64_t scheduled_ns, bool measured) noexcept;

  void Complete(std::span<const QueryResponse> responses) noexcept override;

  std::uint64_t completed() const noexcept { return completed_.load(std::memory_order_acquire); }
  // Blocks until completed() >= target (spins briefly, then sleeps on a futex that only the
  // completion reaching the target wakes).
  void WaitForCompleted(std::uint64_t target) noexcept;
  // Like WaitForCompleted, but gives up at deadline_ns (steady ns); returns completed().
  // Sleeps in between (no polling).
  std::uint64_t WaitForCompletedUntil(std::uint64_t target, std::int64_t deadline_ns) noexcept;

  // Readers (any thread, while the run goes on).
  void MergeAllInto(LatencyHistogram& out) const;       // every completion so far
  void MergeMeasuredInto(LatencyHistogram& out) const;  // completions of measured queries
  std::int64_t last_measured_completion_ns() const;     // relative to run begin; -1 if none
  std::uint64_t failed_count() const;                   // every failed response (warm-up included)
  // Failed responses of measured queries, by FailureKind.
  std::array<std::uint64_t, kFailureKindCount> measured_failed_by_kind() const;
  // Token latencies of measured queries (responses with token_times_ns).
  struct TokenTotals {
    std::uint64_t queries = 0;
    std::uint64_t tokens = 0;
  };
  TokenTotals measured_token_totals() const;
  void MergeTokenHistogramsInto(LatencyHistogram& time_to_first_token,
                                LatencyHistogram& inter_token,
                                LatencyHistogram& time_per_output_token) const;
  std::uint64_t capacity() const noexcept { return mask_ + 1; }

 private:
  struct ThreadStats {
    LatencyHistogram all;
    LatencyHistogram measured;
    std::atomic<std::int64_t> last_measured_ns{-1};
    std::atomic<std::uint64_t> failed{0};
    std::array<std::atomic<std::uint64_t>, kFailureKindCount> measured_failed{};
    // Token streams, measured queries only; allocated on the thread's first token response.
    struct Tokens {
      LatencyHistogram first_token;
      LatencyHistogram inter_token;
      LatencyHistogram per_output_token;
      std::atomic<std::uint64_t> queries{0};
      std::atomic<std::uint64_t> tokens{0};
    };
    std::atomic<Tokens*> tokens{nullptr};
    std::unique_ptr<Tokens> tokens_owner;
  };
  static void Bump(std::atomic<std::uint64_t>& counter, std::uint64_t by) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
  void RecordTokens(ThreadStats& stats, std::int64_t scheduled_abs_ns,
                    std::span<const std::int64_t> token_times_ns) noexcept;
  ThreadStats& StatsForThisThread() noexcept;
  ThreadStats* RegisterThread();

  // A slot holds (scheduled offset + 1) | measured bit; 0 = free. Zero is what calloc gives,
  // so the ring costs no page until a slot is first used.
  static constexpr std::uint64_t kFree = 0;
  static constexpr std::uint64_t kMeasuredBit = std::uint64_t{1} << 62;
  struct FreeDeleter {
    void operator()(std::uint64_t* p) const noexcept;
  };
  std::atomic_ref<std::uint64_t> Slot(QueryId id) const noexcept {
    return std::atomic_ref<std::uint64_t>(ring_[id & mask_]);
  }

  std::uint64_t serial_;  // distinguishes runs in the thread-local cache
  std::int64_t run_begin_ns_;
  std::uint64_t mask_;
  std::unique_ptr<std::uint64_t[], FreeDeleter> ring_;
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<bool> waiting_{false};
  // The waiting issuer's target, and the futex word Complete() bumps when it reaches it.
  std::atomic<std::uint64_t> wait_target_{0};
  std::atomic<std::uint32_t> wake_word_{0};
  // Complete() calls in progress; the destructor waits for 0 so that a call that has just
  // made the last completion visible may still touch waiting_ safely.
  std::atomic<std::uint32_t> in_complete_{0};
  mutable std::mutex threads_mutex_;
  std::vector<std::unique_ptr<ThreadStats>> threads_;
};

}  // namespace joulebench::load
