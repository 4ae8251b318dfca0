// MpiJob on the MPI C API (Open MPI). Every wait on other ranks is a non-blocking call
// tested in a loop with a deadline, so that a rank that dies never hangs the others.
#include "joulebench/cluster/mpi_job.h"

#include <fmt/format.h>
#include <mpi.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <list>
#include <thread>

#include "joulebench/units.h"

namespace joulebench::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// Fixed-size record of one rank, gathered from every rank at start.
struct WireRank {
  char node_id[256];
  char hostname[256];
  char source[32];
  std::int32_t pid;
};

void CopyTruncated(char* out, std::size_t size, const std::string& text) {
  std::memset(out, 0, size);
  std::memcpy(out, text.data(), std::min(size - 1, text.size()));
}

std::string ErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, static_cast<std::size_t>(std::max(length, 0)));
}

void Check(int code, std::string_view what) {
  if (code != MPI_SUCCESS) {
    throw RuntimeError(fmt::format("MPI: {} failed: {}", what, ErrorText(code)));
  }
}

}  // namespace

bool MpiBuilt() { return true; }

struct MpiJob::Impl {
  int rank = 0;
  int size = 1;
  std::chrono::milliseconds timeout{60000};
  MPI_Comm world = MPI_COMM_NULL;
  MPI_Comm up = MPI_COMM_NULL;    // Channel::kUp
  MPI_Comm down = MPI_COMM_NULL;  // Channel::kDown
  MPI_Comm first_node = MPI_COMM_NULL;
  std::vector<RankInfo> ranks;
  std::vector<std::vector<int>> nodes;
  int node_index = 0;
  struct Pending {
    MPI_Request request = MPI_REQUEST_NULL;
    std::string bytes;
  };
  std::list<Pending> pending;
  bool abandoned = false;
  bool after_root = false;
  int abandon_code = 1;

  void Progress() {
    for (auto it = pending.begin(); it != pending.end();) {
      int done = 0;
      MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
      it = done ? pending.erase(it) : std::next(it);
    }
  }

  MPI_Comm ChannelComm(Channel channel) const { return channel == Channel::kUp ? up : down; }

  MPI_Comm Comm(Group group, std::string_view what) const {
    const MPI_Comm comm = group == Group::kWorld ? world : first_node;
    if (comm == MPI_COMM_NULL) {
      throw RuntimeError(
          fmt::format("MPI: {} on the first node's ranks, from rank {} outside it", what, rank));
    }
    return comm;
  }

  // Tests `request` until it completes; throws RankLostError after `limit` or when
  // `interrupted` says so. The job is then broken (a collective cannot be taken back).
  void Wait(MPI_Request& request, std::string_view what, const std::function<bool()>& interrupted,
            std::chrono::milliseconds limit) {
    const auto start = Clock::now();
    const auto deadline = start + limit;
    std::chrono::microseconds pause{0};
    for (std::uint64_t spins = 0;; ++spins) {
      int done = 0;
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (done) return;
      if (!pending.empty()) Progress();
      if (interrupted && interrupted()) {
        abandoned = true;
        throw RankLostError(
            fmt::format("rank {}: interrupted while waiting for the other ranks ({})", rank, what));
      }
      const auto now = Clock::now();
      if (now > deadline) {
        abandoned = true;
        throw RankLostError(fmt::format(
            "rank {}: the other ranks did not take part in {} within {}; a rank or its node was "
            "lost (raise --mpi-timeout if ranks are just slow)",
            rank, what, FormatDuration(std::chrono::duration<double>(limit).count())));
      }
      // Spin briefly (a collective among ranks that arrive together ends in microseconds),
      // then back off so that a rank waiting for a slower one leaves the cores to it: ranks
      // often share a node's cores.
      if (now - start > std::chrono::milliseconds(2)) {
        pause = std::min(std::chrono::microseconds(1000), pause + std::chrono::microseconds(50));
        std::this_thread::sleep_for(pause);
      } else if (spins % 16 == 15) {
        sched_yield();
      }
    }
  }
};

MpiJob::MpiJob(const NodeIdentity& node, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) {
      throw EnvironmentError(fmt::format(
          "--mpi: MPI could not start ({}); run joulebench under mpirun or srun", ErrorText(rc)));
    }
  }
  Check(MPI_Comm_dup(MPI_COMM_WORLD, &impl_->world), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(impl_->world, MPI_ERRORS_RETURN);
  Check(MPI_Comm_dup(impl_->world, &impl_->up), "MPI_Comm_dup");
  Check(MPI_Comm_dup(impl_->world, &impl_->down), "MPI_Comm_dup");
  MPI_Comm_rank(impl_->world, &impl_->rank);
  MPI_Comm_size(impl_->world, &impl_->size);

  WireRank mine{};
  CopyTruncated(mine.node_id, sizeof mine.node_id, node.id);
  CopyTruncated(mine.hostname, sizeof mine.hostname, node.hostname);
  CopyTruncated(mine.source, sizeof mine.source, node.source);
  mine.pid = static_cast<std::int32_t>(getpid());
  std::vector<WireRank> all(static_cast<std::size_t>(impl_->size));
  MPI_Request request = MPI_REQUEST_NULL;
  Check(MPI_Iallgather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE,
                       impl_->world, &request),
        "MPI_Iallgather");
  impl_->Wait(request, "learning every rank's node", {}, timeout);
  for (int r = 0; r < impl_->size; ++r) {
    const WireRank& w = all[static_cast<std::size_t>(r)];
    RankInfo info{r, w.pid, w.node_id, w.hostname, w.source};
    auto it = std::find_if(impl_->nodes.begin(), impl_->nodes.end(), [&](const auto& ranks) {
      return impl_->ranks[static_cast<std::size_t>(ranks.front())].node_id == info.node_id;
    });
    if (it == impl_->nodes.end()) {
      impl_->nodes.push_back({r});
      it = std::prev(impl_->nodes.end());
    } else {
      it->push_back(r);
    }
    if (r == impl_->rank) impl_->node_index = static_cast<int>(it - impl_->nodes.begin());
    impl_->ranks.push_back(std::move(info));
  }
  Check(MPI_Comm_split(impl_->world, impl_->node_index == 0 ? 0 : MPI_UNDEFINED, impl_->rank,
                       &impl_->first_node),
        "MPI_Comm_split");
}

MpiJob::~MpiJob() {
  if (!impl_) return;
  if (!impl_->abandoned && std::uncaught_exceptions() > 0) impl_->abandoned = true;
  if (impl_->abandoned) {
    FlushSends(std::chrono::milliseconds(200));
    if (impl_->after_root) std::this_thread::sleep_for(std::chrono::seconds(10));
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(impl_->world != MPI_COMM_NULL ? impl_->world : MPI_COMM_WORLD, impl_->abandon_code);
    return;
  }
  FlushSends(impl_->timeout);
  for (auto& p : impl_->pending) {
    MPI_Cancel(&p.request);
    MPI_Request_free(&p.request);
  }
  impl_->pending.clear();
  for (MPI_Comm* comm : {&impl_->first_node, &impl_->up, &impl_->down, &impl_->world}) {
    if (*comm != MPI_COMM_NULL) MPI_Comm_free(comm);
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

int MpiJob::rank() const { return impl_->rank; }
int MpiJob::size() const { return impl_->size; }
std::chrono::milliseconds MpiJob::timeout() const { return impl_->timeout; }

std::string MpiJob::library_version() const {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string version(text, static_cast<std::size_t>(std::max(length, 0)));
  version.resize(std::strlen(version.c_str()));  // the length counts the terminating NUL
  if (const auto newline = version.find('\n'); newline != std::string::npos)
    version.resize(newline);
  return version;
}

const std::vector<RankInfo>& MpiJob::ranks() const { return impl_->ranks; }
const std::vector<std::vector<int>>& MpiJob::nodes() const { return impl_->nodes; }
int MpiJob::node_index() const { return impl_->node_index; }
bool MpiJob::is_node_leader() const {
  return impl_->nodes[static_cast<std::size_t>(impl_->node_index)].front() == impl_->rank;
}
int MpiJob::node_leader(int node_index) const {
  return impl_->nodes.at(static_cast<std::size_t>(node_index)).front();
}
bool MpiJob::in_first_node() const { return impl_->node_index == 0; }

void MpiJob::Send(Channel channel, int dest, int tag, std::string payload) {
  impl_->Progress();
  auto& p = impl_->pending.emplace_back();
  p.bytes = std::move(payload);
  const int rc = MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, dest, tag,
                           impl_->ChannelComm(channel), &p.request);
  if (rc != MPI_SUCCESS) {
    impl_->pending.pop_back();
    throw RankLostError(
        fmt::format("rank {}: cannot send to rank {}: {}", impl_->rank, dest, ErrorText(rc)));
  }
}

std::optional<Message> MpiJob::Poll(Channel channel, int tag, int source) {
  impl_->Progress();
  const MPI_Comm comm = impl_->ChannelComm(channel);
  int flag = 0;
  MPI_Status status;
  MPI_Iprobe(source < 0 ? MPI_ANY_SOURCE : source, tag < 0 ? MPI_ANY_TAG : tag, comm, &flag,
             &status);
  if (!flag) return std::nullopt;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  Message m;
  m.source = status.MPI_SOURCE;
  m.tag = status.MPI_TAG;
  m.payload.resize(static_cast<std::size_t>(std::max(count, 0)));
  Check(MPI_Recv(m.payload.data(), count, MPI_BYTE, m.source, m.tag, comm, MPI_STATUS_IGNORE),
        "MPI_Recv");
  return m;
}

bool MpiJob::FlushSends(std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    impl_->Progress();
    if (impl_->pending.empty()) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void MpiJob::AllReduceSum(Group group, std::span<float> values,
                          const std::function<bool()>& interrupted) {
  const MPI_Comm comm = impl_->Comm(group, "a sum");
  constexpr std::size_t kChunk = std::size_t{1} << 30;  // MPI counts are ints
  for (std::size_t at = 0; at < values.size(); at += kChunk) {
    const auto n = static_cast<int>(std::min(kChunk, values.size() - at));
    MPI_Request request = MPI_REQUEST_NULL;
    Check(MPI_Iallreduce(MPI_IN_PLACE, values.data() + at, n, MPI_FLOAT, MPI_SUM, comm, &request),
          "MPI_Iallreduce");
    impl_->Wait(request, "summing gradients", interrupted, impl_->timeout);
  }
}

void MpiJob::Broadcast(Group group, std::span<float> values,
                       const std::function<bool()>& interrupted) {
  const MPI_Comm comm = impl_->Comm(group, "a broadcast");
  constexpr std::size_t kChunk = std::size_t{1} << 30;
  for (std::size_t at = 0; at < values.size(); at += kChunk) {
    const auto n = static_cast<int>(std::min(kChunk, values.size() - at));
    MPI_Request request = MPI_REQUEST_NULL;
    Check(MPI_Ibcast(values.data() + at, n, MPI_FLOAT, 0, comm, &request), "MPI_Ibcast");
    impl_->Wait(request, "copying the first rank's weights", interrupted, impl_->timeout);
  }
}

std::uint32_t MpiJob::AllReduceOr(Group group, std::uint32_t bits,
                                  const std::function<bool()>& interrupted) {
  const MPI_Comm comm = impl_->Comm(group, "an agreement");
  std::uint32_t result = bits;
  MPI_Request request = MPI_REQUEST_NULL;
  Check(MPI_Iallreduce(&bits, &result, 1, MPI_UINT32_T, MPI_BOR, comm, &request), "MPI_Iallreduce");
  impl_->Wait(request, "agreeing on the next step", interrupted, impl_->timeout);
  return result;
}

void MpiJob::Barrier(Group group, const std::function<bool()>& interrupted,
                     std::optional<std::chrono::milliseconds> limit) {
  const MPI_Comm comm = impl_->Comm(group, "a barrier");
  MPI_Request request = MPI_REQUEST_NULL;
  Check(MPI_Ibarrier(comm, &request), "MPI_Ibarrier");
  impl_->Wait(request, "a barrier", interrupted, limit.value_or(impl_->timeout));
}

void MpiJob::Abandon(int exit_code) {
  impl_->abandoned = true;
  impl_->abandon_code = exit_code;
}

void MpiJob::AbandonAfterRoot(int exit_code) {
  Abandon(exit_code);
  impl_->after_root = impl_->rank != 0;
}

bool MpiJob::abandoned() const { return impl_->abandoned; }

}  // namespace joulebench::cluster
