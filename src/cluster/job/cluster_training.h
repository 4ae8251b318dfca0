// `joulebench train --mpi`: data-parallel BERT pretraining across the ranks of an MPI job.
// Every rank trains a replica on its own shard of the data, the gradients are summed across
// ranks (MPI_Iallreduce, fp32) before every optimizer step, each node's leader meters its
// node, and rank 0 stores the job as one run: throughput of all ranks, energy = sum of the
// nodes, the per-node breakdown, and, when the job spans several nodes, the measured scaling
// efficiency against the first node training alone (docs/cluster.md).
#pragma once

#include <optional>

#include "joulebench/cluster/mpi_job.h"
#include "joulebench/cluster/slurm_job.h"
#include "joulebench/run/run_record.h"
#include "joulebench/workloads/training_run.h"

namespace joulebench::cluster {

struct ClusterTrainingOptions {
  // The training run of every rank: this node's sources (a per-node sysfs root expanded),
  // model, stop rule... `observer` on rank 0 is told about the job's run (storing, progress);
  // on every rank its StopRequested (SIGINT/SIGTERM) stops the job at the next step.
  workloads::TrainingRunOptions training;
  // With two nodes or more, first train on the first node alone, by the same rules, to
  // measure the throughput of one node: scaling efficiency = throughput on N nodes / (N x
  // that).
  bool scaling_reference = true;
  std::optional<SlurmJob> slurm;
};

struct ClusterTrainingResult {
  bool root = false;
  run::RunRecord record;  // rank 0: the job's record as stored
  bool ranks_lost = false;
};

// Runs on every rank. Throws RankLostError on a rank that loses rank 0 (or, in the 1-node
// reference, is left waiting by it).
ClusterTrainingResult RunTrainingOnCluster(MpiJob& job, const ClusterTrainingOptions& options);

}  // namespace joulebench::cluster
