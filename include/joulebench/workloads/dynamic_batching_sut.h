// A system under test that runs a model on batches of queries: it collects queries until
// it has `max_batch` of them or the oldest has waited `max_delay` (dynamic batching, as
// inference servers do), then runs one batch on its worker thread and completes the
// queries. Offline (all queries at once) becomes back-to-back full batches; single-stream
// becomes batches of one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "joulebench/load/system_under_test.h"

namespace joulebench::workloads {

struct DynamicBatchingOptions {
  std::int64_t max_batch = 1;  // queries per model run, >= 1
  // Longest a query waits for others to join its batch; 0 = run whatever is queued at once.
  std::chrono::nanoseconds max_delay{0};
};

class DynamicBatchingSut final : public load::SystemUnderTest {
 public:
  // Runs a batch of samples (their indices into the sample library); throws on failure
  // (the batch's queries then complete with ok = false). Called from the worker thread only.
  using RunBatch = std::function<void(std::span<const load::SampleIndex> samples)>;
  // Called once on the worker thread before its first batch (e.g. to set libtorch threads).
  using OnWorkerStart = std::function<void()>;

  DynamicBatchingSut(std::string name, DynamicBatchingOptions options, RunBatch run_batch,
                     OnWorkerStart on_worker_start = {});  // InputError on bad options
  ~DynamicBatchingSut() override;

  std::string Name() const override;
  void IssueQuery(std::span<const load::Query> queries, load::QueryCompleter& completer) override;
  void FlushQueries() override;

  // Statistics since construction.
  std::uint64_t batches_run() const;
  std::uint64_t queries_run() const;
  std::uint64_t failed_batches() const;
  std::string first_error() const;  // what the first failed batch threw; "" if none

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::workloads
