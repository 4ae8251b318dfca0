#include "run_completer.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bit>
#include <climits>
#include <cstdlib>
#include <limits>
#include <new>
#include <thread>

namespace joulebench::load {
namespace {

std::atomic<std::uint64_t> g_next_serial{1};

struct ThreadCache {
  std::uint64_t serial = 0;
  void* stats = nullptr;
};
thread_local ThreadCache t_cache;

// Sleeps while *word == expected, until woken or the steady-clock deadline (-1: none).
void FutexWaitUntil(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                    std::int64_t deadline_ns) noexcept {
  timespec deadline{};
  if (deadline_ns >= 0) {
    deadline.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
    deadline.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
  }
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time (SteadyNowNs's clock).
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT_BITSET_PRIVATE, expected,
          deadline_ns >= 0 ? &deadline : nullptr, nullptr, FUTEX_BITSET_MATCH_ANY);
}

void FutexWake(std::atomic<std::uint32_t>* word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

}  // namespace

std::int64_t SteadyNowNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

RunCompleter::RunCompleter(std::uint64_t ring_capacity, std::int64_t run_begin_ns)
    : serial_(g_next_serial.fetch_add(1)), run_begin_ns_(run_begin_ns) {
  const std::uint64_t capacity = std::bit_ceil(std::max<std::uint64_t>(ring_capacity, 2));
  mask_ = capacity - 1;
  auto* memory = static_cast<std::uint64_t*>(std::calloc(capacity, sizeof(std::uint64_t)));
  if (memory == nullptr) throw std::bad_alloc();
  ring_.reset(memory);
}

void RunCompleter::FreeDeleter::operator()(std::uint64_t* p) const noexcept { std::free(p); }

RunCompleter::~RunCompleter() {
  while (in_complete_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

bool RunCompleter::Schedule(QueryId id, std::int64_t scheduled_ns, bool measured) noexcept {
  auto slot = Slot(id);
  if (slot.load(std::memory_order_acquire) != kFree) return false;
  // The SUT's own hand-off of the query to its worker orders this store before the read.
  slot.store((static_cast<std::uint64_t>(scheduled_ns - run_begin_ns_) + 1) |
                 (measured ? kMeasuredBit : 0),
             std::memory_order_relaxed);
  return true;
}

RunCompleter::ThreadStats* RunCompleter::RegisterThread() {
  auto stats = std::make_unique<ThreadStats>();
  ThreadStats* raw = stats.get();
  std::lock_guard lock(threads_mutex_);
  threads_.push_back(std::move(stats));
  return raw;
}

RunCompleter::ThreadStats& RunCompleter::StatsForThisThread() noexcept {
  if (t_cache.serial != serial_) {
    t_cache.stats = RegisterThread();
    t_cache.serial = serial_;
  }
  return *static_cast<ThreadStats*>(t_cache.stats);
}

void RunCompleter::RecordTokens(ThreadStats& stats, std::int64_t scheduled_abs_ns,
                                std::span<const std::int64_t> token_times_ns) noexcept {
  ThreadStats::Tokens* t = stats.tokens.load(std::memory_order_relaxed);
  if (t == nullptr) {
    // First token response of this thread in this run: one allocation, like the thread's
    // first Complete(). A failed allocation drops token statistics, never the completion.
    try {
      std::lock_guard lock(threads_mutex_);
      stats.tokens_owner = std::make_unique<ThreadStats::Tokens>();
      t = stats.tokens_owner.get();
      stats.tokens.store(t, std::memory_order_release);
    } catch (...) {
      return;
    }
  }
  t->first_token.Record(token_times_ns.front() - scheduled_abs_ns);
  for (std::size_t i = 1; i < token_times_ns.size(); ++i) {
    t->inter_token.Record(token_times_ns[i] - token_times_ns[i - 1]);
  }
  if (token_times_ns.size() >= 2) {
    t->per_output_token.Record((token_times_ns.back() - token_times_ns.front()) /
                               static_cast<std::int64_t>(token_times_ns.size() - 1));
  }
  Bump(t->queries, 1);
  Bump(t->tokens, token_times_ns.size());
}

void RunCompleter::Complete(std::span<const QueryResponse> responses) noexcept {
  in_complete_.fetch_add(1, std::memory_order_seq_cst);
  const std::int64_t now_ns = SteadyNowNs() - run_begin_ns_;
  ThreadStats& stats = StatsForThisThread();
  std::uint64_t failed = 0;
  std::int64_t last_measured = -1;
  for (const QueryResponse& r : responses) {
    auto slot = Slot(r.id);
    const std::uint64_t v = slot.load(std::memory_order_relaxed);
    slot.store(kFree, std::memory_order_release);
    const auto scheduled_ns = static_cast<std::int64_t>(v & (kMeasuredBit - 1)) - 1;
    const std::int64_t latency_ns = now_ns - scheduled_ns;
    stats.all.Record(latency_ns);
    const bool measured = (v & kMeasuredBit) != 0;
    if (measured) {
      stats.measured.Record(latency_ns);
      last_measured = now_ns;
      if (!r.ok) {
        const auto kind = static_cast<std::size_t>(r.failure);
        Bump(stats.measured_failed[kind < kFailureKindCount ? kind : 0], 1);
      }
      if (!r.token_times_ns.empty()) {
        RecordTokens(stats, scheduled_ns + run_begin_ns_, r.token_times_ns);
      }
    }
    if (!r.ok) ++failed;
  }
  if (failed)
    stats.failed.store(stats.failed.load(std::memory_order_relaxed) + failed,
                       std::memory_order_relaxed);
  if (last_measured >= 0) stats.last_measured_ns.store(last_measured, std::memory_order_relaxed);
  const std::uint64_t completed =
      completed_.fetch_add(responses.size(), std::memory_order_seq_cst) + responses.size();
  // Wakes the waiting issuer only once its target is reached: a SUT that completes queries
  // one by one does not wake it for each.
  if (waiting_.load(std::memory_order_seq_cst) &&
      completed >= wait_target_.load(std::memory_order_seq_cst)) {
    wake_word_.fetch_add(1, std::memory_order_seq_cst);
    FutexWake(&wake_word_);
  }
  in_complete_.fetch_sub(1, std::memory_order_release);
}

void RunCompleter::WaitForCompleted(std::uint64_t target) noexcept {
  WaitForCompletedUntil(target, std::numeric_limits<std::int64_t>::max());
}

std::uint64_t RunCompleter::WaitForCompletedUntil(std::uint64_t target,
                                                  std::int64_t deadline_ns) noexcept {
  // Spin a little first: an inline or fast SUT completes within microseconds, and a futex
  // sleep/wake costs about as much.
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t c = completed_.load(std::memory_order_acquire);
    if (c >= target) return c;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  // Then sleep until the completion that reaches the target or the deadline, whichever
  // comes first, and nothing else: an issuer that polled would preempt a SUT that uses
  // every core (libtorch's intra-op threads, an HTTP server) hundreds of times a second.
  const bool unbounded = deadline_ns == std::numeric_limits<std::int64_t>::max();
  while (true) {
    std::uint64_t c = completed_.load(std::memory_order_seq_cst);
    if (c >= target) return c;
    if (!unbounded && SteadyNowNs() >= deadline_ns) return c;
    const std::uint32_t word = wake_word_.load(std::memory_order_seq_cst);
    wait_target_.store(target, std::memory_order_seq_cst);
    waiting_.store(true, std::memory_order_seq_cst);
    // Complete() adds to completed_ before it reads waiting_; this reads completed_ after
    // setting waiting_: one of the two sees the other, so no wake-up is lost.
    c = completed_.load(std::memory_order_seq_cst);
    if (c < target) FutexWaitUntil(&wake_word_, word, unbounded ? -1 : deadline_ns);
    waiting_.store(false, std::memory_order_relaxed);
  }
}

void RunCompleter::MergeAllInto(LatencyHistogram& out) const {
  std::lock_guard lock(threads_mutex_);
  for (const auto& t : threads_) out.Merge(t->all);
}

void RunCompleter::MergeMeasuredInto(LatencyHistogram& out) const {
  std::lock_guard lock(threads_mutex_);
  for (const auto& t : threads_) out.Merge(t->measured);
}

std::int64_t RunCompleter::last_measured_completion_ns() const {
  std::lock_guard lock(threads_mutex_);
  std::int64_t last = -1;
  for (const auto& t : threads_)
    last = std::max(last, t->last_measured_ns.load(std::memory_order_relaxed));
  return last;
}

std::array<std::uint64_t, kFailureKindCount> RunCompleter::measured_failed_by_kind() const {
  std::lock_guard lock(threads_mutex_);
  std::array<std::uint64_t, kFailureKindCount> out{};
  for (const auto& t : threads_) {
    for (std::size_t k = 0; k < kFailureKindCount; ++k) {
      out[k] += t->measured_failed[k].load(std::memory_order_relaxed);
    }
  }
  return out;
}

RunCompleter::TokenTotals RunCompleter::measured_token_totals() const {
  std::lock_guard lock(threads_mutex_);
  TokenTotals totals;
  for (const auto& t : threads_) {
    const ThreadStats::Tokens* tokens = t->tokens.load(std::memory_order_acquire);
    if (tokens == nullptr) continue;
    totals.queries += tokens->queries.load(std::memory_order_relaxed);
    totals.tokens += tokens->tokens.load(std::memory_order_relaxed);
  }
  return totals;
}

void RunCompleter::MergeTokenHistogramsInto(LatencyHistogram& time_to_first_token,
                                            LatencyHistogram& inter_token,
                                            LatencyHistogram& time_per_output_token) const {
  std::lock_guard lock(threads_mutex_);
  for (const auto& t : threads_) {
    const ThreadStats::Tokens* tokens = t->tokens.load(std::memory_order_acquire);
    if (tokens == nullptr) continue;
    time_to_first_token.Merge(tokens->first_token);
    inter_token.Merge(tokens->inter_token);
    time_per_output_token.Merge(tokens->per_output_token);
  }
}

std::uint64_t RunCompleter::failed_count() const {
  std::lock_guard lock(threads_mutex_);
  std::uint64_t n = 0;
  for (const auto& t : threads_) n += t->failed.load(std::memory_order_relaxed);
  return n;
}

}  // namespace joulebench::load
