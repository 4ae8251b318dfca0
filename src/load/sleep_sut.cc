#include <fmt/format.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "joulebench/error.h"
#include "joulebench/load/builtin_suts.h"
#include "joulebench/units.h"
#include "random_source.h"
#include "run_completer.h"

namespace joulebench::load {
namespace {

void CheckOptions(const SleepSutOptions& o) {
  if (o.workers < 1 || o.workers > 1024) {
    throw InputError(
        fmt::format("sleep SUT: workers must be between 1 and 1024 (got {})", o.workers));
  }
  if (o.service_ns <= 0) {
    throw InputError("sleep SUT: the service time must be > 0 (e.g. service=2ms)");
  }
}

}  // namespace

struct SleepSut::Impl {
  explicit Impl(SleepSutOptions o) : options(o) { StartWorkers(); }
  ~Impl() { StopWorkers(); }

  void StartWorkers() {
    stopping = false;
    for (int i = 0; i < options.workers; ++i) {
      workers.emplace_back(
          [this, i] { Work(options.seed + 0x9e37 * static_cast<std::uint64_t>(i)); });
    }
  }

  void StopWorkers() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    cv.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }

  void Work(std::uint64_t seed) {
    // Sleep precision: the default 50 us timer slack would add ~2.5 % to a 2 ms service.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    RandomSource rng(seed);
    const auto mean_ns = static_cast<double>(options.service_ns);
    std::int64_t previous_deadline_ns = 0;
    while (true) {
      Item item;
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [this] { return stopping || !queue.empty(); });
        if (queue.empty()) return;
        item = queue.front();
        queue.pop_front();
      }
      const auto service_ns =
          static_cast<std::int64_t>(options.exponential ? rng.Exponential(mean_ns) : mean_ns);
      // The worker keeps an ideal timeline: service starts when the query arrived or when
      // the previous service ended, whichever is later, so a late wake-up (a busy machine)
      // delays that one completion but never the next service. Capacity is exactly
      // workers / service time, as in the M/D/c and M/M/c models the tests compare with.
      const std::int64_t start_ns = std::max(item.enqueued_ns, previous_deadline_ns);
      const std::int64_t until = start_ns + service_ns;
      previous_deadline_ns = until;
      timespec ts{static_cast<time_t>(until / 1'000'000'000),
                  static_cast<long>(until % 1'000'000'000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
      }
      item.completer->Complete(QueryResponse{item.query.id, true});
    }
  }

  SleepSutOptions options;
  std::mutex mutex;
  std::condition_variable cv;
  struct Item {
    Query query;
    QueryCompleter* completer = nullptr;
    std::int64_t enqueued_ns = 0;
  };
  std::deque<Item> queue;
  bool stopping = false;
  std::vector<std::thread> workers;
};

SleepSut::SleepSut(SleepSutOptions options) {
  CheckOptions(options);
  impl_ = std::make_unique<Impl>(options);
}

SleepSut::~SleepSut() = default;

std::string SleepSut::Name() const {
  const auto& o = impl_->options;
  return fmt::format("sleep(workers={}, service={}, {})", o.workers,
                     FormatDuration(static_cast<double>(o.service_ns) / 1e9),
                     o.exponential ? "exponential" : "fixed");
}

void SleepSut::IssueQuery(std::span<const Query> queries, QueryCompleter& completer) {
  const std::int64_t now_ns = SteadyNowNs();
  {
    std::lock_guard lock(impl_->mutex);
    for (const Query& q : queries) impl_->queue.push_back(Impl::Item{q, &completer, now_ns});
  }
  if (queries.size() == 1) {
    impl_->cv.notify_one();
  } else {
    impl_->cv.notify_all();
  }
}

SutTuningSpace SleepSut::TuningSpace() const {
  SutTuningSpace space;
  // Powers of two up to 4x the configured workers: enough to show where the gain stops
  // without starting hundreds of threads.
  const int most = std::min(1024, std::max(8, 4 * impl_->options.workers));
  for (int c = 1; c <= most; c *= 2) space.concurrencies.push_back(c);
  return space;
}

void SleepSut::ApplyTuning(const SutTuning& tuning) {
  if (tuning.batch_size && *tuning.batch_size != 1) {
    throw InputError("sleep SUT: batch size is not a knob of this SUT");
  }
  if (!tuning.concurrency || *tuning.concurrency == impl_->options.workers) return;
  SleepSutOptions next = impl_->options;
  next.workers = *tuning.concurrency;
  CheckOptions(next);
  impl_->StopWorkers();
  impl_->options = next;
  impl_->StartWorkers();
}

const SleepSutOptions& SleepSut::options() const { return impl_->options; }

}  // namespace joulebench::load
