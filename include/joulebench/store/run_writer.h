// Writes one run into the store as it happens. Every call is its own transaction, so what a
// call stored survives the process being killed right after it returns.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "joulebench/run/run_record.h"

namespace joulebench::store {

class Database;

class RunWriter {
 public:
  RunWriter(std::shared_ptr<Database> db, std::int64_t run_id,
            std::vector<energy::DomainInfo> domains, std::size_t samples_stored);
  // A writer destroyed before Finish() marks its run "incomplete" (best effort).
  ~RunWriter();
  RunWriter(RunWriter&&) noexcept;
  RunWriter& operator=(RunWriter&&) = delete;
  RunWriter(const RunWriter&) = delete;

  const std::string& id() const { return id_; }
  // Timeline samples stored so far.
  std::size_t samples_stored() const { return samples_stored_; }

  // Appends timeline samples as one chunk: time_s[i] and, per domain d (in the order of the
  // domains the run began with), joules[d][i]. Throws InputError when the shapes disagree.
  void AppendSamples(std::span<const double> time_s,
                     const std::vector<std::vector<double>>& joules);
  // Appends the samples of `timeline` that are not stored yet (index >= samples_stored()) and
  // replaces the stored gaps with its gaps (when it has any). The first call also stores the
  // timeline's domains when the run began without any.
  void AppendSamples(const sampling::Timeline& timeline);
  // Appends every sample of `tail` (the samples from samples_stored() on, e.g.
  // Meter::SnapshotFrom(samples_stored())) and replaces the stored gaps with its gaps (when it
  // has any), in one transaction.
  void AppendTail(const sampling::Timeline& tail);

  // Replaces the run's results (everything but the timeline and the header's start time):
  // verdict, energy reports, windows, steady state, latency histogram, power curve, peak
  // probes, metrics, warnings, config, name; and appends the timeline samples not stored yet
  // (and the timeline's gaps, when it has any).
  // Cheap to call after each measured window: only the small tables are rewritten.
  void Sync(const run::RunRecord& record);
  // Sync(record), then sets the status (complete, incomplete, failed) and the end time
  // (record.end_unix_s, or now when 0). A writer finishes once.
  void Finish(const run::RunRecord& record, run::RunStatus status);
  // Sets only the status and end time (now), e.g. from an error path with no record at hand.
  void Finish(run::RunStatus status);
  bool finished() const { return finished_; }

 private:
  void SetDomains(const std::vector<energy::DomainInfo>& domains);
  std::shared_ptr<Database> db_;
  std::int64_t run_id_;
  std::string id_;
  std::vector<energy::DomainInfo> domains_;
  std::size_t samples_stored_ = 0;
  std::size_t windows_stored_ = 0;
  bool finished_ = false;
};

}  // namespace joulebench::store
