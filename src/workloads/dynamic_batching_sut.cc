#include "joulebench/workloads/dynamic_batching_sut.h"

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "joulebench/error.h"

namespace joulebench::workloads {

struct DynamicBatchingSut::Impl {
  std::string name;
  DynamicBatchingOptions options;
  RunBatch run_batch;
  OnWorkerStart on_worker_start;

  struct Pending {
    load::Query query;
    std::chrono::steady_clock::time_point arrived;
  };
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Pending> queue;
  load::QueryCompleter* completer = nullptr;
  bool flush = false;
  bool stop = false;
  std::atomic<std::uint64_t> batches{0}, queries{0}, failed{0};
  std::string first_error;
  std::thread worker;

  void Work() {
    if (on_worker_start) on_worker_start();
    std::vector<load::SampleIndex> samples;
    std::vector<load::QueryResponse> responses;
    const auto max_batch = static_cast<std::size_t>(options.max_batch);
    for (;;) {
      load::QueryCompleter* done_to = nullptr;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stop || !queue.empty(); });
        if (stop && queue.empty()) return;
        const auto deadline = queue.front().arrived + options.max_delay;
        while (!stop && !flush && queue.size() < max_batch &&
               std::chrono::steady_clock::now() < deadline) {
          wake.wait_until(lock, deadline);
        }
        const std::size_t n = std::min(max_batch, queue.size());
        samples.clear();
        responses.clear();
        for (std::size_t i = 0; i < n; ++i) {
          samples.push_back(queue.front().query.sample_index);
          responses.push_back({queue.front().query.id, true});
          queue.pop_front();
        }
        if (queue.empty()) flush = false;
        done_to = completer;
      }
      try {
        run_batch(samples);
      } catch (const std::exception& e) {
        for (auto& r : responses) r.ok = false;
        if (failed.fetch_add(1) == 0) {
          std::lock_guard lock(mutex);
          first_error = e.what();
        }
      }
      batches.fetch_add(1);
      queries.fetch_add(responses.size());
      done_to->Complete(responses);
    }
  }
};

DynamicBatchingSut::DynamicBatchingSut(std::string name, DynamicBatchingOptions options,
                                       RunBatch run_batch, OnWorkerStart on_worker_start)
    : impl_(std::make_unique<Impl>()) {
  if (options.max_batch < 1) {
    throw InputError(fmt::format("batch size {} must be at least 1", options.max_batch));
  }
  if (options.max_delay.count() < 0) throw InputError("--max-delay must not be negative");
  impl_->name = std::move(name);
  impl_->options = options;
  impl_->run_batch = std::move(run_batch);
  impl_->on_worker_start = std::move(on_worker_start);
  impl_->worker = std::thread([impl = impl_.get()] { impl->Work(); });
}

DynamicBatchingSut::~DynamicBatchingSut() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  impl_->worker.join();
}

std::string DynamicBatchingSut::Name() const {
  return fmt::format("{} (batch <= {}, delay <= {} us)", impl_->name, impl_->options.max_batch,
                     impl_->options.max_delay.count() / 1000);
}

void DynamicBatchingSut::IssueQuery(std::span<const load::Query> queries,
                                    load::QueryCompleter& completer) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(impl_->mutex);
    impl_->completer = &completer;
    for (const auto& q : queries) impl_->queue.push_back({q, now});
  }
  impl_->wake.notify_one();
}

void DynamicBatchingSut::FlushQueries() {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->queue.empty()) impl_->flush = true;
  }
  impl_->wake.notify_one();
}

std::uint64_t DynamicBatchingSut::batches_run() const { return impl_->batches.load(); }
std::uint64_t DynamicBatchingSut::queries_run() const { return impl_->queries.load(); }
std::uint64_t DynamicBatchingSut::failed_batches() const { return impl_->failed.load(); }
std::string DynamicBatchingSut::first_error() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->first_error;
}

}  // namespace joulebench::workloads
