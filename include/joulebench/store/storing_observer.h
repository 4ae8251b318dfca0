// Stores a run as it happens: the run observer that turns OnBegin / OnPartial / OnEnd into
// RunStore::BeginRun / RunWriter::Sync / RunWriter::Finish, and appends the meter's new
// timeline samples every `flush_interval_s` from its own thread.
//
//   auto store = joulebench::store::OpenStore(db_flag);
//   joulebench::store::StoringObserver storing(std::move(store));
//   options.observer = &storing;              // the run calls OnBegin ... OnEnd
//   run::RunRecord r = RunInference(options);
//   std::cout << storing.StoredLine();        // "stored as run 12 in /path/runs.db"
//
// Thread safety: every call (the run's thread, a load generator's window thread, the flush
// thread) takes one mutex, so the writer (not thread-safe itself) is used by one thread at a
// time. A storing error never ends the run: the first one is kept (error()) and storing stops.
// Destroyed without OnEnd (an exception in the run): the writer marks the run incomplete.
// A run whose meter has no domains but whose records carry a timeline (a multi-node run, its
// nodes' timelines merged) has that timeline stored instead, appended as it grows.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "joulebench/run/run_observer.h"
#include "joulebench/store/run_store.h"

namespace joulebench::store {

class StoringObserver : public run::RunObserver {
 public:
  // flush_interval_s: how often new timeline samples are committed (default 1 s): what a
  // SIGKILL can lose at most.
  explicit StoringObserver(RunStore store, double flush_interval_s = 1.0);
  ~StoringObserver() override;
  StoringObserver(const StoringObserver&) = delete;
  StoringObserver& operator=(const StoringObserver&) = delete;

  void OnBegin(const run::RunRecord& record, const sampling::Meter& meter) override;
  void OnPartial(const run::RunRecord& record) override;
  void OnEnd(const run::RunRecord& record) override;

  // Machine and build details stored with the run; the run's own fingerprint fields win.
  // Call before OnBegin.
  void set_base_fingerprint(nlohmann::json fingerprint) { base_fingerprint_ = std::move(fingerprint); }

  // The stored run's id; empty before OnBegin.
  std::string run_id() const;
  const std::filesystem::path& db_path() const { return store_.path(); }
  // The first storing error, if any (the run went on without storing the rest).
  std::optional<std::string> error() const;
  // "stored as run 12 in /path/runs.db", or why it was not stored completely (with how many
  // samples were committed before storing failed).
  std::string StoredLine() const;

 private:
  void FlushLoop();
  void FlushSamplesLocked();
  run::RunRecord WithoutTimelineLocked(const run::RunRecord& record) const;
  void StopFlusher();
  template <typename F>
  void Guarded(F&& f);

  RunStore store_;
  double flush_interval_s_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread flusher_;
  const sampling::Meter* meter_ = nullptr;
  std::optional<RunWriter> writer_;
  std::size_t gaps_stored_ = 0;
  bool open_gap_stored_ = false;  // the gaps last stored held an open one
  std::string run_id_;
  std::optional<std::string> error_;
  nlohmann::json base_fingerprint_ = nlohmann::json::object();
};

}  // namespace joulebench::store
