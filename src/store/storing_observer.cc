#include "joulebench/store/storing_observer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <exception>

namespace joulebench::store {

StoringObserver::StoringObserver(RunStore store, double flush_interval_s)
    : store_(std::move(store)), flush_interval_s_(flush_interval_s) {}

StoringObserver::~StoringObserver() { StopFlusher(); }

template <typename F>
void StoringObserver::Guarded(F&& f) {
  if (error_ || !writer_) return;
  try {
    f();
  } catch (const std::exception& e) {
    error_ = e.what();
  }
}

void StoringObserver::OnBegin(const run::RunRecord& record, const sampling::Meter& meter) {
  {
    std::lock_guard lock(mutex_);
    if (writer_ || error_) return;  // one run per observer
    meter_ = &meter;
    // The timeline is the meter's, appended as it grows: the header only carries its domains.
    run::RunRecord header = WithoutTimelineLocked(record);
    header.timeline.domains = meter.domains();
    header.timeline.start_unix_s = meter.SnapshotFrom(meter.sample_count()).start_unix_s;
    header.timeline.joules.assign(header.timeline.domains.size(), {});
    try {
      writer_.emplace(store_.BeginRun(header));
      run_id_ = writer_->id();
    } catch (const std::exception& e) {
      error_ = e.what();
      return;
    }
  }
  flusher_ = std::thread([this] { FlushLoop(); });
}

void StoringObserver::FlushLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::duration<double>(flush_interval_s_),
                 [this] { return stopping_; });
    if (stopping_) break;
    FlushSamplesLocked();
  }
}

void StoringObserver::FlushSamplesLocked() {
  Guarded([&] {
    if (meter_ == nullptr || writer_->finished()) return;
    const sampling::Timeline fresh = meter_->SnapshotFrom(writer_->samples_stored());
    if (fresh.domains.size() != meter_->domains().size()) return;
    // Gaps are rewritten only when they changed: a new one, an open one that grew, or one
    // stored open that has closed since.
    const bool any_open =
        std::any_of(fresh.gaps.begin(), fresh.gaps.end(), [](const auto& g) { return g.open; });
    const bool gaps_changed = fresh.gaps.size() != gaps_stored_ ||
                              (!fresh.time_s.empty() && (any_open || open_gap_stored_));
    if (fresh.time_s.empty() && !gaps_changed) return;
    if (gaps_changed) {
      writer_->AppendTail(fresh);
      gaps_stored_ = fresh.gaps.size();
      open_gap_stored_ = any_open;
    } else {
      writer_->AppendSamples(fresh.time_s, fresh.joules);
    }
  });
}

run::RunRecord StoringObserver::WithoutTimelineLocked(const run::RunRecord& record) const {
  run::RunRecord copy;
  copy.timeline.start_unix_s = record.timeline.start_unix_s;
  copy.id = record.id;
  copy.kind = record.kind;
  copy.name = record.name;
  copy.start_unix_s = record.start_unix_s;
  copy.end_unix_s = record.end_unix_s;
  copy.status = record.status;
  copy.verdict = record.verdict;
  copy.verdict_reasons = record.verdict_reasons;
  copy.config = record.config;
  copy.fingerprint = base_fingerprint_;
  if (record.fingerprint.is_object()) copy.fingerprint.update(record.fingerprint);
  copy.energy = record.energy;
  copy.windows = record.windows;
  copy.steady_state_at_s = record.steady_state_at_s;
  copy.steady_state_criterion = record.steady_state_criterion;
  copy.latency_histogram = record.latency_histogram;
  copy.histograms = record.histograms;
  copy.power_curve = record.power_curve;
  copy.peak_probes = record.peak_probes;
  copy.tune_probes = record.tune_probes;
  copy.metrics = record.metrics;
  copy.warnings = record.warnings;
  if (meter_ != nullptr && meter_->domains().empty() && !record.timeline.domains.empty()) {
    // A run no single meter measured (a multi-node run: every node's timeline merged) brings
    // its timeline in the record; the writer appends what is new of it.
    copy.timeline = record.timeline;
    copy.nodes = record.nodes;
    return copy;
  }
  if (meter_ != nullptr) {
    copy.timeline.domains = meter_->domains();
    copy.timeline.joules.assign(copy.timeline.domains.size(), {});
  }
  copy.nodes = record.nodes;
  return copy;
}

void StoringObserver::OnPartial(const run::RunRecord& record) {
  std::lock_guard lock(mutex_);
  FlushSamplesLocked();
  Guarded([&] {
    if (!writer_->finished()) writer_->Sync(WithoutTimelineLocked(record));
  });
}

void StoringObserver::OnEnd(const run::RunRecord& record) {
  StopFlusher();
  std::lock_guard lock(mutex_);
  // The meter has stopped (its last sample taken): store every sample, then the results.
  FlushSamplesLocked();
  Guarded([&] {
    if (writer_->finished()) return;
    const run::RunStatus status =
        record.status == run::RunStatus::kRunning ? run::RunStatus::kComplete : record.status;
    writer_->Finish(WithoutTimelineLocked(record), status);
  });
  if (error_ && writer_ && !writer_->finished()) {
    // Storing failed part-way (disk full, read-only file): try to say so in the run's row, a
    // small write that may fail too; its dead writer makes it read as incomplete anyway.
    try {
      writer_->Finish(run::RunStatus::kIncomplete);
    } catch (const std::exception&) {
    }
  }
}

void StoringObserver::StopFlusher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

std::string StoringObserver::run_id() const {
  std::lock_guard lock(mutex_);
  return run_id_;
}

std::optional<std::string> StoringObserver::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

std::string StoringObserver::StoredLine() const {
  std::lock_guard lock(mutex_);
  if (run_id_.empty()) {
    return fmt::format("not stored in {}: {}", store_.path().string(),
                       error_.value_or("the run did not begin"));
  }
  if (error_) {
    const std::size_t kept = writer_ ? writer_->samples_stored() : 0;
    return fmt::format(
        "run {} is stored only in part in {}: storing stopped when {}; the run and its {} "
        "sample{} committed before are kept and it reads as incomplete (the measurement itself "
        "is complete on the terminal)",
        run_id_, store_.path().string(), *error_, kept, kept == 1 ? "" : "s");
  }
  return fmt::format("stored as run {} in {}", run_id_, store_.path().string());
}

}  // namespace joulebench::store
