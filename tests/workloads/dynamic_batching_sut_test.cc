#include "joulebench/workloads/dynamic_batching_sut.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "joulebench/error.h"

namespace joulebench::workloads {
namespace {

using namespace std::chrono_literals;

// Collects completions like the load generator does.
class Collector final : public load::QueryCompleter {
 public:
  void Complete(std::span<const load::QueryResponse> responses) noexcept override {
    std::lock_guard lock(mutex_);
    for (const auto& r : responses) {
      ids_.push_back(r.id);
      ok_.push_back(r.ok);
    }
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return ids_.size();
  }
  bool WaitFor(std::size_t n) {
    for (int i = 0; i < 2000 && count() < n; ++i) std::this_thread::sleep_for(1ms);
    return count() >= n;
  }
  std::vector<bool> ok() {
    std::lock_guard lock(mutex_);
    return ok_;
  }

 private:
  std::mutex mutex_;
  std::vector<load::QueryId> ids_;
  std::vector<bool> ok_;
};

std::vector<load::Query> Queries(std::size_t n) {
  std::vector<load::Query> q;
  for (std::size_t i = 0; i < n; ++i) q.push_back({i, i % 7});
  return q;
}

TEST(DynamicBatchingSut, OfflineQueriesRunInFullBatchesAndARemainder) {
  std::mutex mutex;
  std::vector<std::size_t> sizes;
  DynamicBatchingSut sut("test", {.max_batch = 4}, [&](std::span<const load::SampleIndex> s) {
    std::lock_guard lock(mutex);
    sizes.push_back(s.size());
  });
  Collector collector;
  auto queries = Queries(10);
  sut.IssueQuery(queries, collector);
  ASSERT_TRUE(collector.WaitFor(10));
  std::lock_guard lock(mutex);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 4, 2}));
}

TEST(DynamicBatchingSut, WaitsUpToMaxDelayForABatchToFill) {
  std::atomic<std::size_t> first_batch{0};
  DynamicBatchingSut sut("test", {.max_batch = 8, .max_delay = 200ms},
                         [&](std::span<const load::SampleIndex> s) {
                           std::size_t expected = 0;
                           first_batch.compare_exchange_strong(expected, s.size());
                         });
  Collector collector;
  auto queries = Queries(3);
  for (const auto& q : queries) {
    sut.IssueQuery({&q, 1}, collector);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(collector.WaitFor(3));
  EXPECT_EQ(first_batch.load(), 3u);  // the three arrivals 10 ms apart joined one batch
}

TEST(DynamicBatchingSut, FlushDispatchesAPartialBatchAtOnce) {
  DynamicBatchingSut sut("test", {.max_batch = 8, .max_delay = 10s},
                         [](std::span<const load::SampleIndex>) {});
  Collector collector;
  auto queries = Queries(2);
  sut.IssueQuery(queries, collector);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(collector.count(), 0u);
  sut.FlushQueries();
  EXPECT_TRUE(collector.WaitFor(2));
}

TEST(DynamicBatchingSut, AFailingBatchCompletesItsQueriesAsFailed) {
  DynamicBatchingSut sut("test", {.max_batch = 2}, [](std::span<const load::SampleIndex>) {
    throw RuntimeError("model exploded");
  });
  Collector collector;
  auto queries = Queries(2);
  sut.IssueQuery(queries, collector);
  ASSERT_TRUE(collector.WaitFor(2));
  EXPECT_EQ(collector.ok(), (std::vector<bool>{false, false}));
  EXPECT_EQ(sut.failed_batches(), 1u);
  EXPECT_EQ(sut.first_error(), "model exploded");
}

TEST(DynamicBatchingSut, RejectsBatchOfZero) {
  EXPECT_THROW(DynamicBatchingSut("x", {.max_batch = 0}, [](auto) {}), InputError);
}

}  // namespace
}  // namespace joulebench::workloads
