// MpiJob for a build without MPI: `--mpi` says so in one line.
#include "joulebench/cluster/mpi_job.h"

namespace joulebench::cluster {

bool MpiBuilt() { return false; }

struct MpiJob::Impl {};

MpiJob::MpiJob(const NodeIdentity&, std::chrono::milliseconds) {
  throw EnvironmentError(
      "--mpi: this joulebench was built without MPI; install Open MPI (Debian: apt-get install "
      "libopenmpi-dev openmpi-bin) and rebuild (cmake -DJOULEBENCH_WITH_MPI=ON)");
}
MpiJob::~MpiJob() = default;
int MpiJob::rank() const { return 0; }
int MpiJob::size() const { return 1; }
std::chrono::milliseconds MpiJob::timeout() const { return {}; }
std::string MpiJob::library_version() const { return ""; }
const std::vector<RankInfo>& MpiJob::ranks() const {
  static const std::vector<RankInfo> none;
  return none;
}
const std::vector<std::vector<int>>& MpiJob::nodes() const {
  static const std::vector<std::vector<int>> none;
  return none;
}
int MpiJob::node_index() const { return 0; }
bool MpiJob::is_node_leader() const { return true; }
int MpiJob::node_leader(int) const { return 0; }
bool MpiJob::in_first_node() const { return true; }
void MpiJob::Send(Channel, int, int, std::string) {}
std::optional<Message> MpiJob::Poll(Channel, int, int) { return std::nullopt; }
bool MpiJob::FlushSends(std::chrono::milliseconds) { return true; }
void MpiJob::AllReduceSum(Group, std::span<float>, const std::function<bool()>&) {}
void MpiJob::Broadcast(Group, std::span<float>, const std::function<bool()>&) {}
std::uint32_t MpiJob::AllReduceOr(Group, std::uint32_t bits, const std::function<bool()>&) {
  return bits;
}
void MpiJob::Barrier(Group, const std::function<bool()>&,
                     std::optional<std::chrono::milliseconds>) {}
void MpiJob::Abandon(int) {}
void MpiJob::AbandonAfterRoot(int) {}
bool MpiJob::abandoned() const { return false; }

}  // namespace joulebench::cluster
