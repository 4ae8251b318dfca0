// What the ranks of a multi-node run tell each other: CBOR documents (exact doubles, compact),
// tagged by kind. Reports go up to rank 0 on Channel::kUp, orders come down on kDown.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "joulebench/cluster/mpi_job.h"
#include "joulebench/cluster/slurm_job.h"
#include "joulebench/cluster/timeline_merger.h"
#include "joulebench/run/run_record.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::cluster {

enum Tag : int {
  kHello = 101,    // up: a rank is ready; a leader adds its node's domains and probe
  kStart,          // down: begin the "baseline" or "measurement" window now
  kReady,          // up: the baseline is measured
  kProgress,       // up, every second: CPU time so far; a leader adds energy and new samples
  kAlive,          // down, every second: rank 0 is there
  kDone,           // up: the rank's command ended
  kEnd,            // down: end the window now (abort: stop the command first)
  kFinal,          // up: the rank's last report; a leader adds the node's windows
  kFinished,       // down: the job is stored; ranks may leave
  kReferenceDone,  // down: the 1-node reference of a training run is over
};

// How often each rank looks for messages: the skew of a window's edges across nodes.
inline constexpr auto kPollEvery = std::chrono::milliseconds(5);
// After SIGINT/SIGTERM (mpirun sends SIGTERM to every rank when one dies, and SIGKILL one
// second later), how long rank 0 waits for the other ranks' final reports before it stores
// the job.
inline constexpr auto kInterruptFinals = std::chrono::milliseconds(300);

inline std::string Pack(const nlohmann::json& j) {
  const std::vector<std::uint8_t> bytes = nlohmann::json::to_cbor(j);
  return std::string(bytes.begin(), bytes.end());
}

// nullopt for bytes that are not CBOR (a message from something else).
inline std::optional<nlohmann::json> Unpack(const Message& m) {
  try {
    return nlohmann::json::from_cbor(m.payload);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// A node's new samples, and every gap of its meter so far (a gap's end moves while it is open).
inline nlohmann::json SamplesJson(const sampling::Timeline& t) {
  return nlohmann::json{
      {"time_s", t.time_s}, {"joules", t.joules}, {"gaps", run::TimelineGapsToJson(t.gaps)}};
}

// Appends what SamplesJson sent to the node's series in `merger`.
inline void AppendSamplesJson(TimelineMerger& merger, const std::string& node_id,
                              const nlohmann::json& samples) {
  merger.Append(node_id, samples.at("time_s").get<std::vector<double>>(),
                samples.at("joules").get<std::vector<std::vector<double>>>());
  if (const auto gaps = samples.find("gaps"); gaps != samples.end()) {
    merger.SetGaps(node_id, run::TimelineGapsFromJson(*gaps));
  }
}

// config.cluster of a multi-node run's record: launcher, MPI library, ranks, nodes (id, host
// name, ranks, leader), how node ids were chosen, the timeout, and the Slurm job if any.
nlohmann::json ClusterConfigJson(const MpiJob& job, const std::optional<SlurmJob>& slurm);

}  // namespace joulebench::cluster
