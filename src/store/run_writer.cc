#include "joulebench/store/run_writer.h"

#include <fmt/format.h>

#include <chrono>

#include "joulebench/error.h"
#include "store/run_tables.h"
#include "store/sqlite_db.h"

namespace joulebench::store {
namespace {

double NowUnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

RunWriter::RunWriter(std::shared_ptr<Database> db, std::int64_t run_id,
                     std::vector<energy::DomainInfo> domains, std::size_t samples_stored)
    : db_(std::move(db)),
      run_id_(run_id),
      id_(std::to_string(run_id)),
      domains_(std::move(domains)),
      samples_stored_(samples_stored) {}

RunWriter::RunWriter(RunWriter&& other) noexcept
    : db_(std::move(other.db_)),
      run_id_(other.run_id_),
      id_(std::move(other.id_)),
      domains_(std::move(other.domains_)),
      samples_stored_(other.samples_stored_),
      windows_stored_(other.windows_stored_),
      finished_(other.finished_) {
  other.finished_ = true;
}

RunWriter::~RunWriter() {
  if (finished_ || !db_) return;
  try {
    Finish(run::RunStatus::kIncomplete);
  } catch (...) {
    // The run stays "running" with a dead owner, which reads back as incomplete anyway.
  }
}

void RunWriter::SetDomains(const std::vector<energy::DomainInfo>& domains) { domains_ = domains; }

void RunWriter::AppendSamples(std::span<const double> time_s,
                              const std::vector<std::vector<double>>& joules) {
  if (joules.size() != domains_.size()) {
    throw InputError(fmt::format("run {}: {} series of samples for {} domains", id_, joules.size(),
                                 domains_.size()));
  }
  std::vector<std::span<const double>> spans;
  for (const auto& series : joules) {
    if (series.size() != time_s.size()) {
      throw InputError(fmt::format("run {}: a domain has {} samples for {} time stamps", id_,
                                   series.size(), time_s.size()));
    }
    spans.emplace_back(series);
  }
  if (time_s.empty()) return;
  Transaction tx(*db_);
  InsertSampleChunk(*db_, run_id_, samples_stored_, time_s, spans);
  tx.Commit();
  samples_stored_ += time_s.size();
}

namespace {

// The samples of `timeline` from index `from` on, as spans; checks the domains match.
struct NewSamples {
  std::span<const double> time_s;
  std::vector<std::span<const double>> joules;
};

NewSamples Tail(const sampling::Timeline& t, const std::vector<energy::DomainInfo>& domains,
                std::size_t from, const std::string& id) {
  if (t.domains.size() != domains.size() || t.joules.size() != domains.size()) {
    throw InputError(fmt::format("run {}: the timeline has {} domains, the run began with {}", id,
                                 t.domains.size(), domains.size()));
  }
  for (std::size_t d = 0; d < domains.size(); ++d) {
    if (t.domains[d].name != domains[d].name) {
      throw InputError(fmt::format("run {}: timeline domain {} is '{}', the run began with '{}'",
                                   id, d, t.domains[d].name, domains[d].name));
    }
    if (t.joules[d].size() != t.time_s.size()) {
      throw InputError(fmt::format("run {}: domain '{}' has {} samples for {} time stamps", id,
                                   domains[d].name, t.joules[d].size(), t.time_s.size()));
    }
  }
  NewSamples out;
  if (t.time_s.size() <= from) return out;
  std::size_t count = t.time_s.size() - from;
  out.time_s = std::span<const double>(t.time_s.data() + from, count);
  for (const auto& series : t.joules) out.joules.emplace_back(series.data() + from, count);
  return out;
}

}  // namespace

void RunWriter::AppendSamples(const sampling::Timeline& timeline) {
  bool adopt_domains = domains_.empty() && samples_stored_ == 0 && !timeline.domains.empty();
  const auto& domains = adopt_domains ? timeline.domains : domains_;
  NewSamples tail = Tail(timeline, domains, samples_stored_, id_);
  if (tail.time_s.empty() && !adopt_domains && timeline.gaps.empty()) return;
  Transaction tx(*db_);
  if (adopt_domains) SetTimelineDomains(*db_, run_id_, timeline.domains, timeline.start_unix_s);
  if (!tail.time_s.empty())
    InsertSampleChunk(*db_, run_id_, samples_stored_, tail.time_s, tail.joules);
  if (!timeline.gaps.empty()) ReplaceGaps(*db_, run_id_, timeline.gaps);
  tx.Commit();
  if (adopt_domains) SetDomains(timeline.domains);
  samples_stored_ += tail.time_s.size();
}

void RunWriter::AppendTail(const sampling::Timeline& tail) {
  if (tail.time_s.empty() && tail.gaps.empty()) return;
  if (tail.joules.size() != domains_.size()) {
    throw InputError(fmt::format("run {}: {} series of samples for {} domains", id_,
                                 tail.joules.size(), domains_.size()));
  }
  std::vector<std::span<const double>> spans;
  for (const auto& series : tail.joules) {
    if (series.size() != tail.time_s.size()) {
      throw InputError(fmt::format("run {}: a domain has {} samples for {} time stamps", id_,
                                   series.size(), tail.time_s.size()));
    }
    spans.emplace_back(series);
  }
  Transaction tx(*db_);
  if (!tail.time_s.empty()) InsertSampleChunk(*db_, run_id_, samples_stored_, tail.time_s, spans);
  if (!tail.gaps.empty()) ReplaceGaps(*db_, run_id_, tail.gaps);
  tx.Commit();
  samples_stored_ += tail.time_s.size();
}

void RunWriter::Sync(const run::RunRecord& record) {
  if (finished_) throw InputError(fmt::format("run {} is already finished", id_));
  bool adopt_domains = domains_.empty() && samples_stored_ == 0 && !record.timeline.domains.empty();
  const auto& domains = adopt_domains ? record.timeline.domains : domains_;
  NewSamples tail = Tail(record.timeline, domains, samples_stored_, id_);
  Transaction tx(*db_);
  if (adopt_domains) {
    SetTimelineDomains(*db_, run_id_, record.timeline.domains, record.timeline.start_unix_s);
  }
  std::size_t windows = ReplaceResults(*db_, run_id_, record, windows_stored_);
  if (!tail.time_s.empty())
    InsertSampleChunk(*db_, run_id_, samples_stored_, tail.time_s, tail.joules);
  if (!record.timeline.gaps.empty()) ReplaceGaps(*db_, run_id_, record.timeline.gaps);
  tx.Commit();
  if (adopt_domains) SetDomains(record.timeline.domains);
  samples_stored_ += tail.time_s.size();
  windows_stored_ = windows;
}

void RunWriter::Finish(const run::RunRecord& record, run::RunStatus status) {
  if (finished_) throw InputError(fmt::format("run {} is already finished", id_));
  bool adopt_domains = domains_.empty() && samples_stored_ == 0 && !record.timeline.domains.empty();
  const auto& domains = adopt_domains ? record.timeline.domains : domains_;
  NewSamples tail = Tail(record.timeline, domains, samples_stored_, id_);
  Transaction tx(*db_);
  if (adopt_domains) {
    SetTimelineDomains(*db_, run_id_, record.timeline.domains, record.timeline.start_unix_s);
  }
  std::size_t windows = ReplaceResults(*db_, run_id_, record, windows_stored_);
  if (!tail.time_s.empty())
    InsertSampleChunk(*db_, run_id_, samples_stored_, tail.time_s, tail.joules);
  if (!record.timeline.gaps.empty()) ReplaceGaps(*db_, run_id_, record.timeline.gaps);
  SetStatus(*db_, run_id_, status, record.end_unix_s > 0 ? record.end_unix_s : NowUnixSeconds());
  tx.Commit();
  if (adopt_domains) SetDomains(record.timeline.domains);
  samples_stored_ += tail.time_s.size();
  windows_stored_ = windows;
  finished_ = true;
}

void RunWriter::Finish(run::RunStatus status) {
  if (finished_) throw InputError(fmt::format("run {} is already finished", id_));
  Transaction tx(*db_);
  SetStatus(*db_, run_id_, status, NowUnixSeconds());
  tx.Commit();
  finished_ = true;
}

}  // namespace joulebench::store
