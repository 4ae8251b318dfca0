// joulebench train --model bert-large [--seq-len 128] [--batch B] [--grad-accum K] ...
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/mpi_flags.h"
#include "cli/run_observers.h"
#include "cli/source_flags.h"
#include "cli/torch/print_run.h"
#include "cluster/job/cluster_training.h"
#include "joulebench/cluster/slurm_job.h"
#include "joulebench/error.h"
#include "joulebench/units.h"
#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/training_run.h"

namespace joulebench::cli {
namespace {

struct TrainFlags {
  SourceFlags sources;
  RunFlags run;
  std::string model = "bert-large";
  std::string weights;
  std::int64_t seq_len = 128;
  std::int64_t batch = 8;
  std::int64_t grad_accum = 1;
  int threads = 1;
  std::string linear_kernel = "auto";
  std::string device = "cpu";
  std::string dtype = "fp32";
  std::string duration;
  std::int64_t steps = 0;
  std::string max_warmup = "120s";
  std::string window = "5s";
  std::string sequences = "450M";
  std::string baseline;
  std::string gemm_duration = "1s";
  std::uint64_t seed = 1;
  bool json = false;
  MpiFlags mpi;
  bool no_scaling_reference = false;
};

// `train --mpi`: data-parallel across the ranks; rank 0 prints and stores the job.
int RunOnCluster(const TrainFlags& f, workloads::TrainingRunOptions o) {
  const MpiSetup mpi = ResolveMpiFlags(f.mpi, f.run.metrics_listen);
  cluster::ClusterTrainingOptions options;
  o.sources = ResolveSourceOptions(f.sources, mpi.node.id);
  options.training = std::move(o);
  options.scaling_reference = !f.no_scaling_reference;
  options.slurm = cluster::SlurmJobFromEnvironment();
  cluster::MpiJob job(mpi.node, mpi.timeout);
  return RunOnMpiJob(job, [&] {
    RunFlags run = f.run;
    if (job.rank() != 0) {  // rank 0 alone stores and shows progress
      run.no_store = true;
      run.quiet = true;
    }
    CliRunObservers observers(run, /*stop_on_signals=*/true);
    options.training.observer = observers.observer();
    const cluster::ClusterTrainingResult result = cluster::RunTrainingOnCluster(job, options);
    if (result.root) {
      PrintRunRecord(result.record, f.json);
      observers.PrintStored();
    }
    const int code = observers.ExitCode(result.ranks_lost ? 1 : 0);
    if (result.ranks_lost) {
      if (result.root) {
        job.Abandon(code);
      } else {
        job.AbandonAfterRoot(code);
      }
    }
    return code;
  });
}

int Run(const TrainFlags& f) {
  workloads::TrainingRunOptions o;
  o.model = f.model;
  workloads::FindModel(f.model);
  if (f.seq_len < 3 || f.seq_len > 512) {
    throw InputError(fmt::format("--seq-len: {} is out of range: 3..512 positions", f.seq_len));
  }
  if (f.batch < 1 || f.batch > 65536) {
    throw InputError(fmt::format("--batch: {} is out of range: 1..65536", f.batch));
  }
  if (f.grad_accum < 1) throw InputError("--grad-accum must be at least 1");
  o.train.seq_len = f.seq_len;
  o.train.batch_size = f.batch;
  o.train.grad_accum = f.grad_accum;
  o.train.torch.device = f.device;
  o.train.torch.dtype = workloads::ParseComputeDtype(f.dtype);
  o.train.torch.threads = f.threads;
  o.train.torch.linear_kernel = workloads::ParseLinearKernel(f.linear_kernel);
  o.train.torch.seed = f.seed;
  o.train.torch.weights_path = f.weights;
  if (!f.duration.empty() && f.steps != 0) {
    throw InputError("--duration and --steps are alternatives: give one of them");
  }
  if (!f.duration.empty()) o.duration = ParseDuration(f.duration, "--duration");
  if (f.steps != 0) o.steps = f.steps;
  o.max_warmup = ParseDuration(f.max_warmup, "--max-warmup");
  o.window = ParseDuration(f.window, "--window");
  o.projected_sequences = ParseCount(f.sequences, "--sequences");
  if (!f.baseline.empty()) o.baseline = ParseDuration(f.baseline, "--baseline");
  o.gemm_peak_duration = ParseDuration(f.gemm_duration, "--gemm-duration", true);
  if (f.mpi.mpi) return RunOnCluster(f, std::move(o));
  if (!f.mpi.node_id.empty())
    throw InputError("--node-id applies to multi-node runs only; add --mpi");
  o.sources = ResolveSourceOptions(f.sources);
  CliRunObservers observers(f.run, /*stop_on_signals=*/true);
  o.observer = observers.observer();
  const run::RunRecord record = workloads::RunTraining(o);
  PrintRunRecord(record, f.json);
  observers.PrintStored();
  return observers.ExitCode(0);
}

const CommandRegistration kTrain{{
    "train",
    "Pretrain BERT (masked language model, AdamW) on a synthetic stream and report "
    "sequences/h, energy per sequence and the projection for a whole training run",
    [](CLI::App& app) -> std::function<int()> {
      auto f = std::make_shared<TrainFlags>();
      AddSourceFlags(app, f->sources);
      app.add_option("--model", f->model,
                     "Built-in model (" + workloads::KnownModelNames() + "; default bert-large)");
      app.add_option("--weights", f->weights, "State dict to start from (default random)");
      app.add_option("--seq-len", f->seq_len, "Tokens per sequence, 3..512 (default 128)");
      app.add_option("--batch", f->batch, "Sequences per micro-batch (default 8)");
      app.add_option("--grad-accum", f->grad_accum, "Micro-batches per optimizer step (default 1)");
      app.add_option("--threads", f->threads, "libtorch intra-op threads (default 1)");
      app.add_option("--linear-kernel", f->linear_kernel,
                     "auto | blas | onednn: kernel of the dense layers (default auto: oneDNN on "
                     "the CPU in fp32)");
      app.add_option("--device", f->device, "cpu | cuda | cuda:N (default cpu)");
      app.add_option("--dtype", f->dtype, "fp32 | bf16 (pure bf16 weights; default fp32)");
      app.add_option("--duration", f->duration, "Measured time after steady state (default 30s)");
      app.add_option("--steps", f->steps, "Total optimizer steps instead of --duration");
      app.add_option("--max-warmup", f->max_warmup, "Longest wait for steady state (default 120s)");
      app.add_option("--window", f->window,
                     "Steady state is judged on windows of whole steps at least this long "
                     "(default 5s)");
      app.add_option("--sequences", f->sequences,
                     "Sequences of the whole training run to project (default 450M)");
      app.add_option("--baseline", f->baseline,
                     "Measure idle power this long first (e.g. 10s) for attributable energy");
      app.add_option("--gemm-duration", f->gemm_duration,
                     "Time spent measuring the GEMM peak first (default 1s; 0s skips it)");
      app.add_option("--seed", f->seed, "Seed of weights, data and masking (default 1)");
      app.add_flag("--json", f->json, "Print the run record as JSON");
      AddRunFlags(app, f->run, /*with_name=*/false);
      AddMetricsListenFlag(app, f->run);
      AddMpiFlags(app, f->mpi);
      app.add_flag("--no-scaling-reference", f->no_scaling_reference,
                   "With --mpi on several nodes: skip training the first node alone first, so "
                   "no scaling efficiency is measured");
      return [f] { return Run(*f); };
    },
    41,
}};

}  // namespace
}  // namespace joulebench::cli
