// `joulebench measure --mpi -- CMD` on every rank of an MPI job: each rank runs its own copy
// of the command; each node's leader rank samples the node; rank 0 coordinates (windows begin
// and end at the same moment on every node), gathers every node's energy and every rank's
// CPU time, and reports and stores the job as one run with a per-node breakdown.
//
// No wait lasts forever: every rank reports to rank 0 about once a second and rank 0 answers;
// a rank silent for the job's timeout is taken as lost, the others end their windows, and the
// run is stored incomplete with what they measured. Rank 0 stores what it has once a second,
// and at once when SIGINT/SIGTERM arrives (mpirun sends SIGTERM to every rank when one dies,
// and SIGKILL a second later).
#pragma once

#include <optional>
#include <string>

#include "joulebench/cluster/mpi_job.h"
#include "joulebench/cluster/slurm_job.h"
#include "joulebench/run/run_record.h"
#include "run/measure_command_runner.h"

namespace joulebench::cluster {

struct ClusterMeasureOptions {
  // The command, this node's sources (a per-node sysfs root already expanded), sampling
  // period, baseline, label and fingerprint. `observer` is told about the job's run on rank 0
  // only (storing, progress); other ranks ignore it.
  run::MeasureCommandOptions measure;
  std::optional<SlurmJob> slurm;  // recorded in config.cluster.slurm
};

struct ClusterMeasureResult {
  bool root = false;  // this rank is rank 0, which holds the job's record
  // This rank's command: its exit status (128 + signal; 127 when it could not start).
  int exit_code = 127;
  std::string start_error;  // why this rank's command could not start, if so
  // Rank 0: the job's record, as stored (kind "measure", energy = sum of the nodes, nodes =
  // the per-node breakdown, timeline merged across nodes).
  run::RunRecord record;
  bool ranks_lost = false;  // some rank never sent its final report
};

// Runs on every rank. Throws RankLostError on a rank that loses rank 0.
ClusterMeasureResult MeasureCommandOnCluster(MpiJob& job, const ClusterMeasureOptions& options);

}  // namespace joulebench::cluster
