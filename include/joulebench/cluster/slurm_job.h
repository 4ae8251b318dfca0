// The Slurm job a process runs in, read from the variables Slurm sets in every task's
// environment (sbatch(1) and srun(1), "OUTPUT ENVIRONMENT VARIABLES"), so that a multi-node
// run records which job, nodes and task layout it measured.
//
//   SLURM_JOB_ID=4242  SLURM_JOB_NODELIST=node[01-03,07]  SLURM_TASKS_PER_NODE=2(x3),1
//   -> job 4242 on node01 node02 node03 node07 with 2, 2, 2 and 1 tasks
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench::cluster {

struct SlurmJob {
  std::string job_id;        // SLURM_JOB_ID (or the older SLURM_JOBID)
  std::string job_name;      // SLURM_JOB_NAME
  std::string step_id;       // SLURM_STEP_ID: set inside an srun step
  std::string cluster_name;  // SLURM_CLUSTER_NAME
  std::string partition;     // SLURM_JOB_PARTITION
  std::string account;       // SLURM_JOB_ACCOUNT
  std::string submit_host;   // SLURM_SUBMIT_HOST
  // The job's nodes as Slurm writes them (SLURM_JOB_NODELIST, else SLURM_NODELIST) and
  // expanded, in Slurm's order.
  std::string nodelist;
  std::vector<std::string> nodes;
  // Tasks on each node of `nodes`: from SLURM_STEP_TASKS_PER_NODE inside a step, else
  // SLURM_TASKS_PER_NODE ("2(x3),1"), else SLURM_NTASKS_PER_NODE for every node. Empty when
  // Slurm gave none of them.
  std::string tasks_per_node_spec;
  std::vector<int> tasks_per_node;
  std::optional<int> ntasks;          // SLURM_NTASKS (or SLURM_NPROCS)
  std::optional<int> nnodes;          // SLURM_JOB_NUM_NODES (or SLURM_NNODES)
  std::optional<int> cpus_per_task;   // SLURM_CPUS_PER_TASK
  std::optional<int> procid;          // SLURM_PROCID: this task's rank in the step
  std::vector<std::string> warnings;  // variables that were set but could not be read
};

// Reads a variable; nullopt when unset. The default reads this process's environment.
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;
std::optional<std::string> ProcessEnvironment(std::string_view name);

// nullopt outside a Slurm job (no SLURM_JOB_ID). A malformed node list or task layout does
// not fail the run: its field stays empty and `warnings` says which variable and why.
std::optional<SlurmJob> SlurmJobFromEnvironment(const EnvironmentLookup& env = ProcessEnvironment);

// Expands Slurm's compressed host list: "node[01-03,07],gpu5,r[1-2]n[1-2]" -> node01 node02
// node03 node07 gpu5 r1n1 r1n2 r2n1 r2n2. Ranges keep the lower bound's zero padding.
// Throws InputError naming the list on unbalanced brackets, a bad range or more than
// 1,000,000 hosts.
std::vector<std::string> ExpandHostlist(std::string_view hostlist);

// Expands Slurm's tasks per node: "2(x3),1" -> 2 2 2 1. Throws InputError naming the text.
std::vector<int> ExpandTasksPerNode(std::string_view spec);

// The job as stored in a run's configuration ("cluster.slurm", docs/cluster.md).
nlohmann::json ToJson(const SlurmJob& job);

}  // namespace joulebench::cluster
