// The MPI job this process is a rank of (`mpirun -n N joulebench ... --mpi`, or `srun` with
// Open MPI's PMIx): who the ranks are, which node each runs on, and the few messages and
// collectives multi-node runs need, every wait bounded by a timeout so that a dead rank
// never hangs the others. MPI is called from the thread that made the MpiJob only.
//
// Ranks on the same node (same NodeIdentity::id) elect the lowest of them as the node's
// leader: only the leader samples the node's sensors.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "joulebench/cluster/node_identity.h"
#include "joulebench/error.h"

namespace joulebench::cluster {

// True when this joulebench was built with MPI (CMake option JOULEBENCH_WITH_MPI, Open MPI
// found at build time).
bool MpiBuilt();

// A rank stopped taking part (it died, or its node did) within the job's timeout, or the run
// was interrupted while waiting for the other ranks. Exit code 1.
class RankLostError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

struct RankInfo {
  int rank = 0;
  int pid = 0;
  std::string node_id;
  std::string hostname;
  std::string node_id_source;
};

struct Message {
  int source = -1;
  int tag = 0;
  std::string payload;
};

// Which ranks a collective spans: all of them, or those of the first node (rank 0's).
enum class Group { kWorld, kFirstNode };

// Messages travel on two channels, so that a rank that both coordinates and takes part
// (rank 0) never reads its own orders as reports: kUp for reports to the coordinator, kDown
// for its orders. Messages from one rank on one channel arrive in the order sent.
enum class Channel { kUp, kDown };

class MpiJob {
 public:
  static constexpr int kAnySource = -1;
  static constexpr int kAnyTag = -1;

  // Starts MPI and learns every rank's node. `timeout`: how long any wait on other ranks may
  // last (a rank silent that long is taken as lost). Throws EnvironmentError when this build
  // has no MPI ("--mpi: this joulebench was built without MPI ...") or MPI cannot start.
  MpiJob(const NodeIdentity& node, std::chrono::milliseconds timeout);
  // Ends MPI: MPI_Finalize after a clean run; after Abandon(), MPI_Abort (MPI_Finalize could
  // wait forever for a lost rank), which ends every rank still running with that exit code.
  ~MpiJob();
  MpiJob(const MpiJob&) = delete;
  MpiJob& operator=(const MpiJob&) = delete;

  int rank() const;
  int size() const;
  std::chrono::milliseconds timeout() const;
  // "Open MPI v4.1.4, ..." (MPI_Get_library_version, first line).
  std::string library_version() const;
  const std::vector<RankInfo>& ranks() const;
  // The nodes in the order of their lowest rank (rank 0's node first): the ranks on each, in
  // rank order; the first rank of a node is its leader.
  const std::vector<std::vector<int>>& nodes() const;
  int node_index() const;  // this rank's node, an index into nodes()
  bool is_node_leader() const;
  int node_leader(int node_index) const;

  // Sends `payload` to `dest` without blocking; the bytes are kept until delivered.
  void Send(Channel channel, int dest, int tag, std::string payload);
  // The next message that has arrived on `channel` (with this tag and source, or any), or
  // nullopt.
  std::optional<Message> Poll(Channel channel, int tag = kAnyTag, int source = kAnySource);
  // Waits until every Send has been delivered or `limit` passes; false on the latter.
  bool FlushSends(std::chrono::milliseconds limit);

  // Collectives over `group` (this rank must belong to it). Each waits at most timeout() and
  // returns early when `interrupted` (may be empty) says so; both throw RankLostError.
  // Sum of `values` over the group's ranks, in place (data-parallel gradients).
  void AllReduceSum(Group group, std::span<float> values,
                    const std::function<bool()>& interrupted = {});
  // The group's first rank's `values`, copied to every rank of the group.
  void Broadcast(Group group, std::span<float> values,
                 const std::function<bool()>& interrupted = {});
  // Bitwise OR of every rank's `bits`: how ranks agree, step by step, on when to stop.
  std::uint32_t AllReduceOr(Group group, std::uint32_t bits,
                            const std::function<bool()>& interrupted = {});
  // All ranks of the group have called it; waits at most `limit` (default timeout()).
  void Barrier(Group group, const std::function<bool()>& interrupted = {},
               std::optional<std::chrono::milliseconds> limit = std::nullopt);
  bool in_first_node() const;

  // Marks the job broken (a rank was lost): the destructor then aborts the job with
  // `exit_code` instead of finalizing.
  void Abandon(int exit_code);
  // The same on a rank other than 0 that learnt from rank 0 that ranks were lost: it leaves
  // the abort to rank 0 (which prints and stores first) and aborts itself only if rank 0 has
  // not ended the job within a few seconds.
  void AbandonAfterRoot(int exit_code);
  bool abandoned() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::cluster
