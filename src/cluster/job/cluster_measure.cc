#include "cluster/job/cluster_measure.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "cluster/job/messages.h"
#include "joulebench/cluster/job_energy.h"
#include "joulebench/cluster/timeline_merger.h"
#include "joulebench/sampling/cpu_share.h"
#include "run/command_process.h"
#include "run/measure_command_runner.h"

namespace joulebench::cluster {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kReportEvery = std::chrono::seconds(1);
// When SIGINT/SIGTERM reaches rank 0, it waits this long for the other ranks' commands to end
// (then kInterruptFinals for their final reports), so that it stores the job before SIGKILL.
constexpr auto kInterruptGrace = std::chrono::milliseconds(200);
// A command that outlives SIGTERM after the job was aborted gets SIGKILL after this.
constexpr auto kTerminateGrace = std::chrono::seconds(5);

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string ProbeLine(const energy::ProbeResult& p) {
  if (p.status == energy::ProbeStatus::kAvailable) {
    return fmt::format("{}: {} domain(s)", p.source_name,
                       p.source ? p.source->domains().size() : 0);
  }
  return fmt::format("{}: {} ({})", p.source_name, energy::ProbeStatusName(p.status), p.reason);
}

// ---------------------------------------------------------------------------------------
// What every rank does: run its command; a node's leader also meters the node.
class Worker {
 public:
  Worker(MpiJob& job, const ClusterMeasureOptions& options)
      : job_(job), options_(options), leader_(job.is_node_leader()) {
    last_from_root_ = last_report_ = Clock::now();
    std::string why;
    program_ = run::ResolveProgram(options.measure.command.at(0), why);
    if (program_.empty()) start_error_ = fmt::format("cannot start the command: {}", why);
    json hello = {{"rank", job.rank()}, {"leader", leader_}};
    if (leader_) {
      auto probes = energy::ProbeAll(options.measure.sources);
      for (const auto& p : probes) source_lines_.push_back(ProbeLine(p));
      meter_.emplace(sampling::Meter::FromProbe(std::move(probes), options.measure.meter));
      meter_->Start();
      json domains = json::array();
      for (const auto& d : meter_->domains()) domains.push_back(run::ToJson(d));
      hello["domains"] = std::move(domains);
      hello["start_unix_s"] = meter_->SnapshotFrom(meter_->sample_count()).start_unix_s;
      hello["sources"] = source_lines_;
    }
    job_.Send(Channel::kUp, 0, kHello, Pack(hello));
  }

  bool finished() const { return state_ == State::kFinished; }
  int interrupted_by() const { return command_.interrupted_by(); }
  bool lost_ranks_reported() const { return lost_ranks_; }

  void Step(Clock::time_point now) {
    while (auto m = job_.Poll(Channel::kDown, MpiJob::kAnyTag, 0)) {
      last_from_root_ = now;
      const auto j = Unpack(*m);
      if (!j) continue;
      switch (m->tag) {
        case kStart:
          if (j->value("phase", "") == "baseline") {
            StartBaseline(now);
          } else {
            BeginMeasurement();
          }
          break;
        case kEnd:
          EndMeasurement(j->value("abort", false));
          break;
        case kFinished:
          lost_ranks_ = j->value("ranks_lost", false);
          state_ = State::kFinished;
          return;
        default:
          break;
      }
    }
    if (state_ == State::kBaseline && now >= baseline_until_) FinishBaseline();
    if (state_ == State::kRunning && !exit_ && command_.pid() > 0) {
      run::CommandExit exit;
      if (command_.TryWait(exit)) {
        exit_ = exit;
        SendDone();
      }
    }
    if (state_ != State::kEnded && now - last_report_ >= kReportEvery) {
      Report();
      last_report_ = now;
    }
    if (now - last_from_root_ > job_.timeout()) {
      command_.Signal(SIGTERM);
      throw RankLostError(fmt::format(
          "rank {}: rank 0 went silent for {}; it or its node was lost, so nothing can be "
          "stored (raise --mpi-timeout if it is just slow)",
          job_.rank(), FormatSeconds(job_.timeout())));
    }
  }

  ClusterMeasureResult Result() const {
    ClusterMeasureResult r;
    r.start_error = start_error_;
    r.exit_code = exit_ ? exit_->exit_code : (start_error_.empty() ? 1 : 127);
    return r;
  }

 private:
  enum class State { kWaiting, kBaseline, kRunning, kEnded, kFinished };

  static std::string FormatSeconds(std::chrono::milliseconds d) {
    return fmt::format("{:g} s", std::chrono::duration<double>(d).count());
  }

  std::string StateName() const {
    switch (state_) {
      case State::kWaiting:
        return "waiting";
      case State::kBaseline:
        return "baseline";
      case State::kRunning:
        return exit_ ? "done" : "running";
      case State::kEnded:
      case State::kFinished:
        return "ended";
    }
    return "";
  }

  void StartBaseline(Clock::time_point now) {
    if (state_ != State::kWaiting) return;
    if (!leader_ || !options_.measure.baseline) {
      job_.Send(Channel::kUp, 0, kReady, Pack(json{{"rank", job_.rank()}}));
      return;
    }
    baseline_window_ = meter_->BeginWindow("baseline");
    baseline_until_ = now + std::chrono::duration_cast<Clock::duration>(*options_.measure.baseline);
    state_ = State::kBaseline;
  }

  void FinishBaseline() {
    sampling::EnergyReport report = meter_->EndWindow(*baseline_window_);
    baseline_window_.reset();
    report.name = "baseline";
    std::vector<std::pair<std::string, double>> watts;
    for (const auto& d : report.domains) watts.emplace_back(d.domain.name, d.mean_watts);
    meter_->SetBaseline(watts);
    baseline_ = report;
    state_ = State::kWaiting;
    job_.Send(Channel::kUp, 0, kReady,
              Pack(json{{"rank", job_.rank()}, {"baseline", run::ToJson(report)}}));
  }

  void BeginMeasurement() {
    if (state_ != State::kWaiting) return;
    state_ = State::kRunning;
    if (leader_) {
      window_ = meter_->BeginWindow("measurement");
      window_begin_s_ = meter_->Now();
      busy_begin_ = sampling::ReadMachineCpuTimes(options_.measure.sources.procfs_root);
    }
    if (start_error_.empty()) {
      if (const int rc = command_.Start(program_, options_.measure.command); rc != 0) {
        start_error_ = fmt::format("cannot start the command '{}': {}", options_.measure.command[0],
                                   std::strerror(rc));
      }
    }
    if (!start_error_.empty()) {
      run::CommandExit not_started;
      not_started.exit_code = 127;
      exit_ = not_started;
      SendDone();
    }
  }

  void SendDone() {
    json j = {{"rank", job_.rank()}, {"exit_code", exit_->exit_code}, {"cpu_s", exit_->cpu_s}};
    if (exit_->terminating_signal) j["signal"] = *exit_->terminating_signal;
    if (!start_error_.empty()) j["start_error"] = start_error_;
    job_.Send(Channel::kUp, 0, kDone, Pack(j));
  }

  double CpuSoFar() const {
    if (exit_) return exit_->cpu_s;
    return command_.RunningCpuSeconds().value_or(0);
  }

  std::optional<double> BusySoFar() const {
    if (!busy_begin_) return std::nullopt;
    const auto now = sampling::ReadMachineCpuTimes(options_.measure.sources.procfs_root);
    if (!now) return std::nullopt;
    return now->busy_s - busy_begin_->busy_s;
  }

  json NewSamples() {
    const sampling::Timeline fresh = meter_->SnapshotFrom(samples_sent_);
    samples_sent_ += fresh.time_s.size();
    return SamplesJson(fresh);
  }

  void Report() {
    json j = {{"rank", job_.rank()}, {"state", StateName()}, {"cpu_s", CpuSoFar()}};
    if (leader_ && meter_) {
      j["samples"] = NewSamples();
      j["watts"] = meter_->RecentTotalWatts(std::chrono::seconds(1));
      if (window_) {
        j["measurement"] =
            run::ToJson(meter_->Between(window_begin_s_, meter_->Now(), "measurement"));
        if (const auto busy = BusySoFar()) j["machine_busy_cpu_s"] = *busy;
      }
    }
    job_.Send(Channel::kUp, 0, kProgress, Pack(j));
  }

  void StopCommand() {
    if (command_.pid() <= 0 || exit_) return;
    command_.Signal(SIGTERM);
    const auto give_up = Clock::now() + kTerminateGrace;
    run::CommandExit exit;
    while (!command_.TryWait(exit)) {
      if (Clock::now() > give_up) {
        command_.Signal(SIGKILL);
        exit = command_.Wait();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    exit_ = exit;
  }

  void EndMeasurement(bool abort) {
    if (state_ == State::kEnded || state_ == State::kFinished) return;
    if (abort) StopCommand();
    if (state_ == State::kRunning && !exit_ && command_.pid() > 0) exit_ = command_.Wait();
    if (state_ != State::kRunning && start_error_.empty()) {
      start_error_ =
          "the job ended before the command started (a rank was lost, or rank 0 was "
          "interrupted)";
    }
    json j = {{"rank", job_.rank()}, {"cpu_s", exit_ ? exit_->cpu_s : 0.0}};
    if (exit_) j["exit_code"] = exit_->exit_code;
    if (!start_error_.empty()) j["start_error"] = start_error_;
    if (leader_ && meter_) {
      run::NodeResult node;
      if (baseline_window_) meter_->EndWindow(*baseline_window_);
      if (baseline_) node.energy.push_back(*baseline_);
      if (window_) {
        node.energy.push_back(meter_->EndWindow(*window_));
        node.machine_busy_cpu_s = BusySoFar();
      }
      meter_->Stop();
      node.sources = source_lines_;
      node.warnings = meter_->TakeWarnings();
      if (node.machine_busy_cpu_s == std::nullopt && window_) {
        node.warnings.push_back(
            fmt::format("{}/stat cannot be read: the ranks' CPU shares of this node are unknown",
                        options_.measure.sources.procfs_root.string()));
      }
      j["node"] = run::ToJson(node);
      j["samples"] = NewSamples();
    }
    job_.Send(Channel::kUp, 0, kFinal, Pack(j));
    state_ = State::kEnded;
  }

  MpiJob& job_;
  const ClusterMeasureOptions& options_;
  const bool leader_;
  run::CommandProcess command_;  // forwards SIGINT/SIGTERM to the command from the start
  std::string program_;
  std::string start_error_;
  std::optional<sampling::Meter> meter_;
  std::vector<std::string> source_lines_;
  State state_ = State::kWaiting;
  std::optional<sampling::WindowId> baseline_window_;
  Clock::time_point baseline_until_;
  std::optional<sampling::EnergyReport> baseline_;
  std::optional<sampling::WindowId> window_;
  double window_begin_s_ = 0;
  std::optional<sampling::MachineCpuTimes> busy_begin_;
  std::optional<run::CommandExit> exit_;
  std::size_t samples_sent_ = 0;
  Clock::time_point last_report_;
  Clock::time_point last_from_root_;
  bool lost_ranks_ = false;
};

// ---------------------------------------------------------------------------------------
// What rank 0 does besides its own Worker: start and end the windows on every node, watch
// that every rank is alive, and put the job's record together.
class Coordinator {
 public:
  Coordinator(MpiJob& job, const ClusterMeasureOptions& options, const Worker& root_worker)
      : job_(job),
        options_(options),
        root_worker_(root_worker),
        observer_(options.measure.observer != nullptr ? *options.measure.observer : none_),
        ranks_(static_cast<std::size_t>(job.size())) {
    const auto now = Clock::now();
    for (auto& r : ranks_) r.last_heard = now;
    phase_deadline_ = now + job.timeout();
    last_report_ = now;
    header_.kind = "measure";
    std::string command_line;
    for (const auto& a : options.measure.command) {
      command_line += (command_line.empty() ? "" : " ") + a;
    }
    header_.name = options.measure.name.empty() ? command_line : options.measure.name;
    header_.start_unix_s = UnixNow();
    header_.config = {
        {"command", options.measure.command},
        {"workload", command_line},
        {"interval_s", std::chrono::duration<double>(options.measure.meter.interval).count()},
        {"cluster", ClusterConfig()},
    };
    if (options.measure.baseline) {
      header_.config["baseline_s"] =
          std::chrono::duration<double>(*options.measure.baseline).count();
    }
    header_.fingerprint = options.measure.fingerprint;
    header_.status = run::RunStatus::kRunning;
    // The job's timeline is not one meter's: the record carries it (merged across nodes), so
    // observers get a meter with no domains.
    observer_.OnBegin(header_, placeholder_);
    observer_.OnPhase("waiting for every rank", std::nullopt);
  }

  bool done() const { return phase_ == Phase::kDone; }
  bool ranks_lost() const { return ranks_lost_; }
  const run::RunRecord& record() const { return record_; }

  void Step(Clock::time_point now) {
    while (auto m = job_.Poll(Channel::kUp)) Handle(*m, now);
    if (phase_ == Phase::kDone) return;
    if (now - last_alive_ >= kReportEvery) {
      Broadcast(kAlive, json::object());
      last_alive_ = now;
    }
    if (!interrupted_ && root_worker_.interrupted_by() != 0) {
      interrupted_ = true;
      interrupted_at_ = now;
      warnings_.push_back(
          fmt::format("interrupted by {} on rank 0: the commands did not all run "
                      "to their end",
                      strsignal(root_worker_.interrupted_by())));
      // Stored at once: mpirun sends SIGKILL a second after SIGTERM.
      if (phase_ == Phase::kRunning) observer_.OnPartial(BuildRecord(false));
    }
    LoseSilentRanks(now);
    switch (phase_) {
      case Phase::kHello:
        if (AllLive([](const RankState& r) { return r.hello; })) {
          AddNodesToTimeline();
          if (interrupted_) {
            EndRun(true, now, now + kInterruptFinals);
          } else if (options_.measure.baseline) {
            observer_.OnPhase("baseline",
                              std::chrono::duration<double>(*options_.measure.baseline).count());
            Broadcast(kStart, json{{"phase", "baseline"}});
            phase_ = Phase::kBaseline;
          } else {
            StartMeasurement();
          }
        }
        break;
      case Phase::kBaseline:
        if (interrupted_) {
          EndRun(true, now, now + kInterruptFinals);
        } else if (AllLive([](const RankState& r) { return r.ready; })) {
          StartMeasurement();
        }
        break;
      case Phase::kRunning:
        if (AllLive([](const RankState& r) { return r.done; })) {
          EndRun(false, now, now + job_.timeout());
        } else if (interrupted_ && now - interrupted_at_ >= kInterruptGrace) {
          EndRun(true, now, now + kInterruptFinals);
        } else if (now - last_report_ >= kReportEvery) {
          double watts = 0;
          for (const auto& r : ranks_) watts += r.watts;
          observer_.OnProgress(0, watts);
          observer_.OnPartial(BuildRecord(false));
          last_report_ = now;
        }
        break;
      case Phase::kEnding:
        if (AllLive([](const RankState& r) { return r.final_report.has_value(); }) ||
            now > phase_deadline_) {
          Finish();
        }
        break;
      case Phase::kDone:
        break;
    }
  }

 private:
  enum class Phase { kHello, kBaseline, kRunning, kEnding, kDone };

  struct RankState {
    Clock::time_point last_heard;
    bool hello = false;
    bool ready = false;
    bool done = false;
    bool lost = false;
    std::string lost_why;
    json hello_message;
    std::optional<json> final_report;
    std::optional<sampling::EnergyReport> baseline;
    std::optional<json> measurement;  // a leader's last progress report of the window so far
    std::optional<double> machine_busy_cpu_s;
    double watts = 0;
    double cpu_s = 0;
    std::optional<int> exit_code;
    std::string start_error;
  };

  json ClusterConfig() const { return ClusterConfigJson(job_, options_.slurm); }

  template <typename Pred>
  bool AllLive(Pred pred) const {
    for (const auto& r : ranks_) {
      if (!r.lost && !pred(r)) return false;
    }
    return true;
  }

  void Broadcast(int tag, const json& j) {
    const std::string bytes = Pack(j);
    for (int r = 0; r < job_.size(); ++r) {
      if (!ranks_[static_cast<std::size_t>(r)].lost) job_.Send(Channel::kDown, r, tag, bytes);
    }
  }

  void Handle(const Message& m, Clock::time_point now) {
    if (m.source < 0 || m.source >= job_.size()) return;
    RankState& r = ranks_[static_cast<std::size_t>(m.source)];
    if (r.lost) return;  // a rank taken as lost stays lost: its node's figures are final
    r.last_heard = now;
    const auto j = Unpack(m);
    if (!j) return;
    const std::string node_id = NodeOf(m.source);
    switch (m.tag) {
      case kHello:
        r.hello = true;
        r.hello_message = *j;
        break;
      case kReady:
        r.ready = true;
        if (j->contains("baseline")) r.baseline = run::EnergyReportFromJson(j->at("baseline"));
        break;
      case kProgress:
        r.cpu_s = j->value("cpu_s", r.cpu_s);
        r.watts = j->value("watts", 0.0);
        if (j->contains("samples")) AppendSamples(node_id, j->at("samples"));
        if (j->contains("measurement")) r.measurement = j->at("measurement");
        if (j->contains("machine_busy_cpu_s")) {
          r.machine_busy_cpu_s = j->at("machine_busy_cpu_s").get<double>();
        }
        break;
      case kDone:
        r.done = true;
        r.exit_code = j->value("exit_code", 0);
        r.cpu_s = j->value("cpu_s", r.cpu_s);
        r.start_error = j->value("start_error", "");
        break;
      case kFinal:
        r.done = true;
        r.final_report = *j;
        r.cpu_s = j->value("cpu_s", r.cpu_s);
        if (j->contains("exit_code")) r.exit_code = j->at("exit_code").get<int>();
        r.start_error = j->value("start_error", r.start_error);
        if (j->contains("samples")) AppendSamples(node_id, j->at("samples"));
        break;
      default:
        break;
    }
  }

  std::string NodeOf(int rank) const {
    return job_.ranks()[static_cast<std::size_t>(rank)].node_id;
  }

  void AppendSamples(const std::string& node_id, const json& samples) {
    if (!merger_.HasNode(node_id)) {
      pending_samples_.emplace_back(node_id, samples);
      return;
    }
    AppendSamplesJson(merger_, node_id, samples);
  }

  // The time axis is rank 0's node: nodes are added in node order, once every leader is known.
  void AddNodesToTimeline() {
    for (const auto& ranks : job_.nodes()) {
      const RankState& leader = ranks_[static_cast<std::size_t>(ranks.front())];
      if (!leader.hello || !leader.hello_message.contains("domains")) continue;
      std::vector<energy::DomainInfo> domains;
      for (const auto& d : leader.hello_message.at("domains")) {
        domains.push_back(run::DomainInfoFromJson(d));
      }
      merger_.AddNode(NodeOf(ranks.front()), domains,
                      leader.hello_message.value("start_unix_s", 0.0));
    }
    auto pending = std::move(pending_samples_);
    for (const auto& [node_id, samples] : pending) AppendSamples(node_id, samples);
  }

  void LoseSilentRanks(Clock::time_point now) {
    bool any = false;
    for (int i = 0; i < job_.size(); ++i) {
      RankState& r = ranks_[static_cast<std::size_t>(i)];
      if (r.lost || r.final_report || now - r.last_heard <= job_.timeout()) continue;
      r.lost = true;
      r.lost_why = fmt::format("rank {} on node {} sent nothing for {:g} s and was taken as lost",
                               i, NodeOf(i), Seconds(now - r.last_heard));
      warnings_.push_back(r.lost_why);
      ranks_lost_ = true;
      any = true;
      if (job_.node_leader(NodeIndex(i)) == i) merger_.CloseNode(NodeOf(i));
    }
    if (any && (phase_ == Phase::kBaseline || phase_ == Phase::kRunning)) {
      EndRun(true, now, now + job_.timeout());
    }
  }

  int NodeIndex(int rank) const {
    const auto& nodes = job_.nodes();
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      for (int r : nodes[n]) {
        if (r == rank) return static_cast<int>(n);
      }
    }
    return 0;
  }

  void StartMeasurement() {
    Broadcast(kStart, json{{"phase", "measurement"}});
    measurement_start_unix_s_ = UnixNow();
    observer_.OnPhase("measuring", std::nullopt);
    phase_ = Phase::kRunning;
  }

  void EndRun(bool abort, Clock::time_point now, Clock::time_point finals_deadline) {
    Broadcast(kEnd, json{{"abort", abort}});
    aborted_ = abort;
    phase_ = Phase::kEnding;
    phase_deadline_ = finals_deadline;
    end_unix_s_ = UnixNow();
    observer_.OnPhase("gathering every node's results", std::nullopt);
    (void)now;
  }

  void Finish() {
    for (int i = 0; i < job_.size(); ++i) {
      RankState& r = ranks_[static_cast<std::size_t>(i)];
      if (r.lost || r.final_report) continue;
      r.lost = true;
      r.lost_why = fmt::format("rank {} on node {} sent no final report and was taken as lost", i,
                               NodeOf(i));
      warnings_.push_back(r.lost_why);
      ranks_lost_ = true;
    }
    for (int i = 0; i < job_.size(); ++i) {
      if (ranks_[static_cast<std::size_t>(i)].lost && job_.node_leader(NodeIndex(i)) == i) {
        merger_.CloseNode(NodeOf(i));
      }
    }
    record_ = BuildRecord(true);
    observer_.OnEnd(record_);
    Broadcast(kFinished, json{{"ranks_lost", ranks_lost_}});
    phase_ = Phase::kDone;
  }

  run::NodeResult BuildNode(std::size_t node_index, bool final) const {
    const auto& ranks = job_.nodes()[node_index];
    const int leader_rank = ranks.front();
    const RankInfo& leader_info = job_.ranks()[static_cast<std::size_t>(leader_rank)];
    const RankState& leader = ranks_[static_cast<std::size_t>(leader_rank)];
    run::NodeResult node;
    if (leader.final_report && leader.final_report->contains("node")) {
      node = run::NodeResultFromJson(leader.final_report->at("node"));
      node.status = "complete";
    } else {
      if (leader.baseline) node.energy.push_back(*leader.baseline);
      if (leader.measurement) node.energy.push_back(run::EnergyReportFromJson(*leader.measurement));
      node.machine_busy_cpu_s = leader.machine_busy_cpu_s;
      if (leader.hello_message.contains("sources")) {
        node.sources = leader.hello_message.at("sources").get<std::vector<std::string>>();
      }
      node.status = final ? "partial" : "running";
      if (final) {
        node.warnings.push_back(fmt::format(
            "the node's leader, rank {}, sent no final report: its energy is that of its last "
            "progress report (at most a second or so before it was lost)",
            leader_rank));
      }
    }
    node.node_id = leader_info.node_id;
    node.hostname = leader_info.hostname;
    node.node_id_source = leader_info.node_id_source;
    node.leader_rank = leader_rank;
    for (int rank : ranks) {
      const RankState& s = ranks_[static_cast<std::size_t>(rank)];
      run::RankUsage u;
      u.rank = rank;
      u.pid = job_.ranks()[static_cast<std::size_t>(rank)].pid;
      u.status = s.final_report ? "complete" : (s.lost || final) ? "lost" : "running";
      u.exit_code = s.exit_code;
      u.cpu_s = s.cpu_s;
      node.ranks.push_back(u);
      if (!s.start_error.empty()) {
        node.warnings.push_back(fmt::format("rank {}: {}", rank, s.start_error));
      }
    }
    AttributeNodeCpu(node);
    return node;
  }

  run::RunRecord BuildRecord(bool final) {
    run::RunRecord r = header_;
    for (std::size_t n = 0; n < job_.nodes().size(); ++n) r.nodes.push_back(BuildNode(n, final));
    const bool any_baseline = std::any_of(r.nodes.begin(), r.nodes.end(), [](const auto& n) {
      return n.FindEnergy("baseline") != nullptr;
    });
    if (any_baseline) r.energy.push_back(SumNodeEnergy("baseline", r.nodes));
    const bool any_measurement = std::any_of(r.nodes.begin(), r.nodes.end(), [](const auto& n) {
      return n.FindEnergy("measurement") != nullptr;
    });
    r.timeline = merger_.Merge(final);
    r.warnings = warnings_;
    if (any_measurement) {
      sampling::EnergyReport job = SumNodeEnergy("measurement", r.nodes);
      run::AddMeasureEnergyMetrics(r, job, fmt::format("sum of {} node(s)", r.nodes.size()),
                                   "measured: wall clock of rank 0", "each node's idle baseline");
      r.energy.push_back(std::move(job));
    }
    r.metrics.push_back({"nodes", static_cast<double>(r.nodes.size()), "1", "measured: MPI job"});
    r.metrics.push_back({"ranks", static_cast<double>(job_.size()), "1", "measured: MPI job"});
    double cpu_s = 0;
    double cpu_joules = 0;
    bool any_share = false;
    for (const auto& node : r.nodes) {
      for (const auto& rank : node.ranks) {
        cpu_s += rank.cpu_s;
        if (rank.cpu_joules) {
          cpu_joules += *rank.cpu_joules;
          any_share = true;
        }
      }
    }
    r.metrics.push_back({"job_cpu_time", cpu_s, "s",
                         "measured: every rank's command, children included (wait4 rusage)"});
    if (any_share) {
      r.metrics.push_back({"job_cpu_energy", cpu_joules, "J",
                           "modelled: each rank's CPU-time share of its node's CPU energy, "
                           "summed (the per-process model of Scaphandre)"});
    }
    int exit_code = 0;
    for (const auto& s : ranks_) {
      if (s.exit_code && *s.exit_code != 0 && exit_code == 0) exit_code = *s.exit_code;
    }
    r.config["exit_code"] = exit_code;
    if (final) {
      r.end_unix_s = end_unix_s_ > 0 ? end_unix_s_ : UnixNow();
      const bool complete = !ranks_lost_ && !interrupted_ && !aborted_;
      r.status = complete ? run::RunStatus::kComplete : run::RunStatus::kIncomplete;
    } else {
      r.status = run::RunStatus::kRunning;
    }
    return r;
  }

  MpiJob& job_;
  const ClusterMeasureOptions& options_;
  const Worker& root_worker_;
  run::RunObserver none_;
  run::RunObserver& observer_;
  sampling::Meter placeholder_{{}, {}};
  std::vector<RankState> ranks_;
  Phase phase_ = Phase::kHello;
  Clock::time_point phase_deadline_;
  Clock::time_point last_alive_;
  Clock::time_point last_report_;
  bool interrupted_ = false;
  Clock::time_point interrupted_at_;
  bool aborted_ = false;
  bool ranks_lost_ = false;
  double measurement_start_unix_s_ = 0;
  double end_unix_s_ = 0;
  std::vector<std::string> warnings_;
  run::RunRecord header_;
  run::RunRecord record_;
  TimelineMerger merger_;
  std::vector<std::pair<std::string, json>> pending_samples_;
};

}  // namespace

ClusterMeasureResult MeasureCommandOnCluster(MpiJob& job, const ClusterMeasureOptions& options) {
  if (options.measure.command.empty()) {
    throw InputError("measure: no command given after '--'; e.g. joulebench measure -- sleep 5");
  }
  Worker worker(job, options);
  std::optional<Coordinator> coordinator;
  if (job.rank() == 0) coordinator.emplace(job, options, worker);
  while (!worker.finished() || (coordinator && !coordinator->done())) {
    const auto now = Clock::now();
    if (coordinator && !coordinator->done()) coordinator->Step(now);
    if (!worker.finished()) worker.Step(now);
    std::this_thread::sleep_for(kPollEvery);
  }
  ClusterMeasureResult result = worker.Result();
  if (coordinator) {
    result.root = true;
    result.record = coordinator->record();
    result.ranks_lost = coordinator->ranks_lost();
  } else {
    result.ranks_lost = worker.lost_ranks_reported();
  }
  return result;
}

}  // namespace joulebench::cluster
