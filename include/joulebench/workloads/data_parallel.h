// Data-parallel training across processes (`train --mpi`): every rank holds a replica of the
// model and trains on its own shard of the data; before each optimizer step the gradients are
// summed across the ranks and averaged, as PyTorch's DistributedDataParallel does, so that
// the replicas stay identical. The transport (MPI) is the implementer's: this interface keeps
// the libtorch code free of it. Torch-free.
#pragma once

#include <cstdint>
#include <span>

namespace joulebench::workloads {

class DataParallelGroup {
 public:
  virtual ~DataParallelGroup() = default;
  virtual int rank() const = 0;  // 0 .. size() - 1 within the group
  virtual int size() const = 0;
  // Sums `values` element-wise over every rank of the group, in place. Throws (an Error)
  // when a rank does not take part in time or the run is interrupted meanwhile.
  virtual void AllReduceSum(std::span<float> values) = 0;
  // Replaces `values` with those of the group's rank 0 (the initial weights).
  virtual void Broadcast(std::span<float> values) = 0;
  // Bitwise OR of every rank's `bits`: how the ranks agree, step by step, on when the
  // measurement begins and when the run stops.
  virtual std::uint32_t AgreeOr(std::uint32_t bits) = 0;
};

}  // namespace joulebench::workloads
