#include "cluster/job/cluster_training.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "cluster/job/messages.h"
#include "joulebench/cluster/job_energy.h"
#include "joulebench/cluster/timeline_merger.h"

namespace joulebench::cluster {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kHeartbeatEvery = std::chrono::seconds(1);

// Every source: a rank that is not its node's leader meters nothing.
const std::vector<std::string> kAllSources = {"powercap", "perf_event", "nvml", "neuron",
                                              "redfish",  "ipmi",       "model"};

// The ranks of a group (all, or the first node's) as the trainer sees them.
class MpiGroup : public workloads::DataParallelGroup {
 public:
  MpiGroup(MpiJob& job, Group group, std::function<bool()> interrupted)
      : job_(job), group_(group), interrupted_(std::move(interrupted)) {
    if (group == Group::kWorld) {
      rank_ = job.rank();
      size_ = job.size();
    } else {
      const auto& first = job.nodes().front();
      size_ = static_cast<int>(first.size());
      rank_ = static_cast<int>(std::find(first.begin(), first.end(), job.rank()) - first.begin());
    }
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void AllReduceSum(std::span<float> values) override {
    job_.AllReduceSum(group_, values, interrupted_);
  }
  void Broadcast(std::span<float> values) override { job_.Broadcast(group_, values, interrupted_); }
  std::uint32_t AgreeOr(std::uint32_t bits) override {
    if (on_step_) on_step_();
    return job_.AllReduceOr(group_, bits, interrupted_);
  }
  // Called once per step before the agreement (rank 0 tells waiting ranks it is alive).
  std::function<void()> on_step_;

 private:
  MpiJob& job_;
  Group group_;
  std::function<bool()> interrupted_;
  int rank_ = 0;
  int size_ = 1;
};

// Passes on stop requests and progress only: the first node's reference training.
class ReferenceObserver : public run::RunObserver {
 public:
  explicit ReferenceObserver(run::RunObserver* real, bool root) : real_(real), root_(root) {}
  void OnPhase(std::string_view phase, std::optional<double> eta_s) override {
    if (root_ && real_ != nullptr)
      real_->OnPhase(fmt::format("1-node reference: {}", phase), eta_s);
  }
  void OnProgress(double throughput_per_s, double watts) override {
    if (root_ && real_ != nullptr) real_->OnProgress(throughput_per_s, watts);
  }
  bool StopRequested() const override { return real_ != nullptr && real_->StopRequested(); }

 private:
  run::RunObserver* real_;
  bool root_;
};

// Observes one rank's training for the job. Leaders send their node's new samples to rank 0
// about once a second; rank 0 merges every node's timeline and tells the real observer about
// the job (storing its partial record), then gathers every rank's final report.
class JobObserver : public run::RunObserver {
 public:
  JobObserver(MpiJob& job, run::RunObserver* real, const ClusterTrainingOptions& options)
      : job_(job),
        real_(real),
        options_(options),
        root_(job.rank() == 0),
        ranks_(static_cast<std::size_t>(job.size())) {}

  void OnBegin(const run::RunRecord& record, const sampling::Meter& meter) override {
    meter_ = &meter;
    if (job_.is_node_leader()) {
      json domains = json::array();
      for (const auto& d : meter.domains()) domains.push_back(run::ToJson(d));
      job_.Send(
          Channel::kUp, 0, kHello,
          Pack(json{{"rank", job_.rank()},
                    {"domains", std::move(domains)},
                    {"start_unix_s", meter.SnapshotFrom(meter.sample_count()).start_unix_s}}));
    }
    if (!root_ || real_ == nullptr) return;
    run::RunRecord header = record;
    header.config["cluster"] = ClusterConfigJson(job_, options_.slurm);
    header.energy.clear();
    // The job's timeline is not one meter's: the record carries it, merged across nodes.
    real_->OnBegin(header, placeholder_);
  }
  void OnPhase(std::string_view phase, std::optional<double> eta_s) override {
    if (root_ && real_ != nullptr) real_->OnPhase(phase, eta_s);
  }
  void OnProgress(double throughput_per_s, double watts) override {
    // Rank 0's node's power is not the job's: progress shows throughput only.
    if (root_ && real_ != nullptr) {
      real_->OnProgress(throughput_per_s, job_.nodes().size() > 1 ? 0.0 : watts);
    }
  }
  void OnPartial(const run::RunRecord& record) override {
    if (job_.is_node_leader()) SendSamples();
    if (!root_ || real_ == nullptr) return;
    Drain();
    real_->OnPartial(JobRecord(record, false));
  }
  void OnEnd(const run::RunRecord&) override {}  // the job's end comes after the gathering
  bool StopRequested() const override { return real_ != nullptr && real_->StopRequested(); }

  // After RunTraining returned `local` on this rank: every rank reports to rank 0, which
  // stores the job and lets the ranks go.
  ClusterTrainingResult Finish(const run::RunRecord& local, std::optional<double> reference_per_s,
                               const std::string& reference_provenance) {
    SendFinal(local);
    ClusterTrainingResult result;
    if (!root_) {
      WaitForFinished(result);
      return result;
    }
    // After SIGINT/SIGTERM the others are ending too (and mpirun's SIGKILL is near); after a
    // lost rank, the others' collectives give up within their own timeout.
    const bool interrupted = StopRequested();
    const auto deadline =
        Clock::now() + (interrupted ? std::chrono::duration_cast<Clock::duration>(kInterruptFinals)
                                    : std::chrono::duration_cast<Clock::duration>(job_.timeout()));
    while (Clock::now() < deadline) {
      Drain();
      if (std::all_of(ranks_.begin(), ranks_.end(), [](const auto& r) { return r.final_report; })) {
        break;
      }
      std::this_thread::sleep_for(kPollEvery);
    }
    for (std::size_t r = 0; r < ranks_.size(); ++r) {
      if (ranks_[r].final_report) continue;
      ranks_lost_ = true;
      warnings_.push_back(
          fmt::format("rank {} on node {} sent no final report and was taken as lost", r,
                      job_.ranks()[r].node_id));
      if (job_.node_leader(NodeIndex(static_cast<int>(r))) == static_cast<int>(r)) {
        merger_.CloseNode(job_.ranks()[r].node_id);
      }
    }
    result.root = true;
    result.ranks_lost = ranks_lost_;
    result.record = JobRecord(local, true);
    AddJobMetrics(result.record, local, reference_per_s, reference_provenance);
    if (real_ != nullptr) real_->OnEnd(result.record);
    const std::string bytes = Pack(json{{"ranks_lost", ranks_lost_}});
    for (int r = 1; r < job_.size(); ++r) {
      if (ranks_[static_cast<std::size_t>(r)].final_report) {
        job_.Send(Channel::kDown, r, kFinished, bytes);
      }
    }
    return result;
  }

 private:
  struct RankState {
    std::optional<json> hello;
    std::optional<json> final_report;
  };

  int NodeIndex(int rank) const {
    const auto& nodes = job_.nodes();
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      if (std::find(nodes[n].begin(), nodes[n].end(), rank) != nodes[n].end()) {
        return static_cast<int>(n);
      }
    }
    return 0;
  }

  void SendSamples() {
    if (meter_ == nullptr) return;
    const sampling::Timeline fresh = meter_->SnapshotFrom(samples_sent_);
    if (fresh.time_s.empty()) return;
    samples_sent_ += fresh.time_s.size();
    job_.Send(Channel::kUp, 0, kProgress,
              Pack(json{{"rank", job_.rank()}, {"samples", SamplesJson(fresh)}}));
  }

  void SendFinal(const run::RunRecord& local) {
    json final = {{"rank", job_.rank()}, {"status", run::RunStatusName(local.status)}};
    if (const run::Metric* cpu = local.FindMetric("rank_cpu_time")) final["cpu_s"] = cpu->value;
    if (job_.is_node_leader()) {
      run::NodeResult node;
      node.energy = local.energy;
      if (const run::Metric* busy = local.FindMetric("machine_busy_cpu_time")) {
        node.machine_busy_cpu_s = busy->value;
      }
      for (const auto& d : local.timeline.domains) {
        node.sources.push_back(fmt::format("{}: {}", d.name, d.provenance.Describe()));
      }
      if (local.fingerprint.contains("energy_sources_unavailable")) {
        for (const auto& note : local.fingerprint["energy_sources_unavailable"]) {
          if (note.is_string()) node.sources.push_back(note.get<std::string>());
        }
      }
      node.warnings = local.warnings;
      final["node"] = run::ToJson(node);
      sampling::Timeline rest;
      const auto& t = local.timeline;
      if (t.time_s.size() > samples_sent_) {
        rest.time_s.assign(t.time_s.begin() + static_cast<std::ptrdiff_t>(samples_sent_),
                           t.time_s.end());
        for (const auto& series : t.joules) {
          rest.joules.emplace_back(series.begin() + static_cast<std::ptrdiff_t>(samples_sent_),
                                   series.end());
        }
      } else {
        rest.joules.assign(t.joules.size(), {});
      }
      final["samples"] = SamplesJson(rest);
    }
    job_.Send(Channel::kUp, 0, kFinal, Pack(final));
  }

  void WaitForFinished(ClusterTrainingResult& result) {
    const auto deadline = Clock::now() + job_.timeout();
    while (Clock::now() < deadline) {
      if (auto m = job_.Poll(Channel::kDown, kFinished, 0)) {
        if (const auto j = Unpack(*m)) result.ranks_lost = j->value("ranks_lost", false);
        return;
      }
      std::this_thread::sleep_for(kPollEvery);
    }
    throw RankLostError(fmt::format(
        "rank {}: rank 0 did not confirm the end of the run within {:g} s; it or its node was "
        "lost, so the run may not be stored",
        job_.rank(), std::chrono::duration<double>(job_.timeout()).count()));
  }

  void Drain() {
    while (auto m = job_.Poll(Channel::kUp)) {
      if (m->source < 0 || m->source >= job_.size()) continue;
      const auto j = Unpack(*m);
      if (!j) continue;
      RankState& r = ranks_[static_cast<std::size_t>(m->source)];
      const std::string& node_id = job_.ranks()[static_cast<std::size_t>(m->source)].node_id;
      if (m->tag == kHello) {
        r.hello = *j;
        AddNodesWhenKnown();
      } else if (m->tag == kProgress && j->contains("samples")) {
        AppendSamples(node_id, j->at("samples"));
      } else if (m->tag == kFinal) {
        r.final_report = *j;
        if (j->contains("samples")) AppendSamples(node_id, j->at("samples"));
      }
    }
  }

  // The time axis is rank 0's node: nodes join the merger in node order, once every leader
  // has said hello.
  void AddNodesWhenKnown() {
    if (nodes_added_) return;
    for (const auto& ranks : job_.nodes()) {
      if (!ranks_[static_cast<std::size_t>(ranks.front())].hello) return;
    }
    for (const auto& ranks : job_.nodes()) {
      const json& hello = *ranks_[static_cast<std::size_t>(ranks.front())].hello;
      std::vector<energy::DomainInfo> domains;
      for (const auto& d : hello.at("domains")) domains.push_back(run::DomainInfoFromJson(d));
      merger_.AddNode(job_.ranks()[static_cast<std::size_t>(ranks.front())].node_id, domains,
                      hello.value("start_unix_s", 0.0));
    }
    nodes_added_ = true;
    auto pending = std::move(pending_);
    for (const auto& [node_id, samples] : pending) AppendSamples(node_id, samples);
  }

  void AppendSamples(const std::string& node_id, const json& samples) {
    if (!merger_.HasNode(node_id)) {
      pending_.emplace_back(node_id, samples);
      return;
    }
    AppendSamplesJson(merger_, node_id, samples);
  }

  run::NodeResult BuildNode(std::size_t node_index, bool final) const {
    const auto& ranks = job_.nodes()[node_index];
    const int leader_rank = ranks.front();
    const RankInfo& info = job_.ranks()[static_cast<std::size_t>(leader_rank)];
    const RankState& leader = ranks_[static_cast<std::size_t>(leader_rank)];
    run::NodeResult node;
    if (leader.final_report && leader.final_report->contains("node")) {
      node = run::NodeResultFromJson(leader.final_report->at("node"));
      node.status = "complete";
    } else {
      node.status = final ? "partial" : "running";
      if (final) {
        node.warnings.push_back(fmt::format(
            "the node's leader, rank {}, sent no final report: its energy is not known beyond "
            "the samples in the job's timeline",
            leader_rank));
      }
    }
    node.node_id = info.node_id;
    node.hostname = info.hostname;
    node.node_id_source = info.node_id_source;
    node.leader_rank = leader_rank;
    node.ranks.clear();
    for (int rank : ranks) {
      const RankState& s = ranks_[static_cast<std::size_t>(rank)];
      run::RankUsage u;
      u.rank = rank;
      u.pid = job_.ranks()[static_cast<std::size_t>(rank)].pid;
      u.status = s.final_report ? "complete" : final ? "lost" : "running";
      if (s.final_report) u.cpu_s = s.final_report->value("cpu_s", 0.0);
      node.ranks.push_back(u);
    }
    AttributeNodeCpu(node);
    return node;
  }

  // The job's record from rank 0's own: every node's energy summed, the timelines merged.
  run::RunRecord JobRecord(const run::RunRecord& local, bool final) {
    run::RunRecord r = local;
    r.config["cluster"] = ClusterConfigJson(job_, options_.slurm);
    r.nodes.clear();
    for (std::size_t n = 0; n < job_.nodes().size(); ++n) r.nodes.push_back(BuildNode(n, final));
    r.energy.clear();
    const auto has = [&](std::string_view window) {
      return std::any_of(r.nodes.begin(), r.nodes.end(),
                         [&](const auto& n) { return n.FindEnergy(window) != nullptr; });
    };
    if (has("baseline")) r.energy.push_back(SumNodeEnergy("baseline", r.nodes));
    if (has("measurement")) r.energy.push_back(SumNodeEnergy("measurement", r.nodes));
    r.timeline = merger_.Merge(final);
    if (job_.nodes().size() > 1) {
      // Rank 0 judged steady state on its own node's power; the job's power per window is not
      // known (the timeline holds every node's).
      for (auto& w : r.windows) w.watts = std::numeric_limits<double>::quiet_NaN();
    }
    r.warnings.insert(r.warnings.end(), warnings_.begin(), warnings_.end());
    if (final && ranks_lost_) r.status = run::RunStatus::kIncomplete;
    if (!final) r.status = run::RunStatus::kRunning;
    return r;
  }

  void AddJobMetrics(run::RunRecord& r, const run::RunRecord& local,
                     std::optional<double> reference_per_s,
                     const std::string& reference_provenance) const {
    // Rank 0's own CPU figures now live in the node breakdown.
    std::erase_if(r.metrics, [](const run::Metric& m) {
      return m.name == "rank_cpu_time" || m.name == "machine_busy_cpu_time";
    });
    const sampling::EnergyReport* measurement = nullptr;
    for (const auto& e : r.energy) {
      if (e.name == "measurement") measurement = &e;
    }
    const run::Metric* sequences = local.FindMetric("measured_sequences");
    const run::Metric* projected = local.FindMetric("projected_sequences");
    if (measurement != nullptr && sequences != nullptr) {
      workloads::AddTrainingEnergyMetrics(r, *measurement, sequences->value,
                                          projected != nullptr ? projected->value : 0);
    }
    const double nodes = static_cast<double>(job_.nodes().size());
    r.metrics.push_back({"nodes", nodes, "1", "measured: MPI job"});
    r.metrics.push_back({"ranks", static_cast<double>(job_.size()), "1", "measured: MPI job"});
    const run::Metric* per_s = local.FindMetric("sequences_per_s");
    if (per_s == nullptr) return;
    r.metrics.push_back({"sequences_per_s_per_node", per_s->value / nodes, "1/s",
                         fmt::format("measured: sequences_per_s / {} node(s)", nodes)});
    if (!reference_per_s || !(*reference_per_s > 0) || nodes < 2) return;
    r.metrics.push_back(
        {"reference_sequences_per_s", *reference_per_s, "1/s", reference_provenance});
    const double efficiency = per_s->value / (nodes * *reference_per_s);
    r.metrics.push_back(
        {"scaling_efficiency", efficiency, "1",
         fmt::format("measured: {:.4g}/s on {} nodes / ({} x {:.4g}/s on the first node alone), "
                     "in the same run",
                     per_s->value, nodes, nodes, *reference_per_s)});
  }

  MpiJob& job_;
  run::RunObserver* real_;
  const ClusterTrainingOptions& options_;
  const bool root_;
  const sampling::Meter* meter_ = nullptr;
  std::size_t samples_sent_ = 0;
  sampling::Meter placeholder_{{}, {}};
  std::vector<RankState> ranks_;
  TimelineMerger merger_;
  bool nodes_added_ = false;
  std::vector<std::pair<std::string, json>> pending_;
  std::vector<std::string> warnings_;
  bool ranks_lost_ = false;
};

// The first node trains alone, by the same rules, while the other nodes wait: the throughput
// of one node, to which the whole job's is compared. Returns it on rank 0.
std::optional<double> MeasureReference(MpiJob& job, const ClusterTrainingOptions& options,
                                       std::string& provenance) {
  run::RunObserver* real = options.training.observer;
  const auto interrupted = [real] { return real != nullptr && real->StopRequested(); };
  const auto& first = job.nodes().front();
  if (!job.in_first_node()) {
    auto last_heard = Clock::now();
    while (true) {
      while (auto m = job.Poll(Channel::kDown, MpiJob::kAnyTag, 0)) {
        last_heard = Clock::now();
        if (m->tag == kReferenceDone) return std::nullopt;
      }
      if (interrupted()) {
        throw RankLostError(fmt::format(
            "rank {}: interrupted while the first node measured its reference", job.rank()));
      }
      if (Clock::now() - last_heard > job.timeout()) {
        throw RankLostError(fmt::format(
            "rank {}: rank 0 went silent for {:g} s during the first node's reference training; "
            "it or its node was lost (raise --mpi-timeout if one step takes longer)",
            job.rank(), std::chrono::duration<double>(job.timeout()).count()));
      }
      std::this_thread::sleep_for(kPollEvery * 4);
    }
  }
  MpiGroup group(job, Group::kFirstNode, interrupted);
  auto last_beat = Clock::now() - kHeartbeatEvery;
  const auto heartbeat = [&] {
    if (job.rank() != 0 || Clock::now() - last_beat < kHeartbeatEvery) return;
    last_beat = Clock::now();
    for (int r = 0; r < job.size(); ++r) {
      if (std::find(first.begin(), first.end(), r) == first.end()) {
        job.Send(Channel::kDown, r, kAlive, Pack(json::object()));
      }
    }
  };
  heartbeat();
  group.on_step_ = heartbeat;
  workloads::TrainingRunOptions o = options.training;
  o.data_parallel = &group;
  ReferenceObserver observer(real, job.rank() == 0);
  o.observer = &observer;
  o.energy_metrics = false;
  o.baseline.reset();
  o.gemm_peak_duration = std::chrono::nanoseconds(0);
  o.sources.disabled = kAllSources;  // throughput only
  const run::RunRecord reference = workloads::RunTraining(o);
  if (job.rank() != 0) return std::nullopt;
  const run::Metric* per_s = reference.FindMetric("sequences_per_s");
  const std::string done = Pack(json{{"sequences_per_s", per_s ? per_s->value : 0.0}});
  for (int r = 0; r < job.size(); ++r) {
    if (std::find(first.begin(), first.end(), r) == first.end()) {
      job.Send(Channel::kDown, r, kReferenceDone, done);
    }
  }
  if (per_s == nullptr || reference.status != run::RunStatus::kComplete) return std::nullopt;
  provenance =
      fmt::format("measured: sequences_per_s of node {} alone ({} rank(s)) before the job, {} ({})",
                  job.ranks().front().node_id, first.size(), reference.verdict,
                  reference.verdict_reasons.empty() ? reference.steady_state_criterion
                                                    : reference.verdict_reasons.front());
  return per_s->value;
}

}  // namespace

ClusterTrainingResult RunTrainingOnCluster(MpiJob& job, const ClusterTrainingOptions& options) {
  std::optional<double> reference_per_s;
  std::string reference_provenance;
  if (options.scaling_reference && job.nodes().size() > 1) {
    reference_per_s = MeasureReference(job, options, reference_provenance);
  }
  run::RunObserver* real = options.training.observer;
  MpiGroup world(job, Group::kWorld, [real] { return real != nullptr && real->StopRequested(); });
  JobObserver observer(job, real, options);
  workloads::TrainingRunOptions o = options.training;
  o.data_parallel = &world;
  o.observer = &observer;
  o.energy_metrics = false;
  // GEMM peaks of ranks sharing a node would compete with each other: not measured.
  o.gemm_peak_duration = std::chrono::nanoseconds(0);
  if (!job.is_node_leader()) o.sources.disabled = kAllSources;
  const run::RunRecord local = workloads::RunTraining(o);
  return observer.Finish(local, reference_per_s, reference_provenance);
}

}  // namespace joulebench::cluster
