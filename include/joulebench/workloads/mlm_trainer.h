// BERT masked-language-model pretraining on a synthetic token stream: forward, backward and
// AdamW steps of a built-in encoder with the MLM head tied to the word embeddings.
// Torch-free interface over libtorch.
#pragma once

#include <cstdint>
#include <memory>

#include "joulebench/workloads/data_parallel.h"
#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/torch_runtime.h"

namespace joulebench::workloads {

struct TrainOptions {
  TorchOptions torch;             // device, dtype (bf16: pure bf16 weights), threads, seed
  std::int64_t seq_len = 128;     // BERT's phase-1 pretraining length
  std::int64_t batch_size = 8;    // sequences per micro-batch
  std::int64_t grad_accum = 1;    // micro-batches per optimizer step
  // AdamW as in BERT (Devlin et al. 2019, appendix A.2): lr 1e-4, betas 0.9/0.999, weight
  // decay 0.01 (not on biases and LayerNorm), linear warm-up over 10,000 steps, after which
  // the rate stays at its peak (decay does not change a step's cost).
  double learning_rate = 1e-4;
  double weight_decay = 0.01;
  std::int64_t warmup_steps = 10000;
  // 0: an endless stream of fresh documents. N > 0: a fixed corpus of N micro-batches,
  // cycled (for convergence checks).
  std::int64_t corpus_batches = 0;
  // Data-parallel training with other processes (nullptr: alone). Each rank draws its own
  // documents (seed offset by its rank), starts from rank 0's weights, and sums its
  // gradients with the others' (fp32, averaged) before every optimizer step. Not owned.
  DataParallelGroup* data_parallel = nullptr;
};

struct TrainStep {
  // Mean cross-entropy over the predicted tokens of the step (data-parallel: averaged over
  // the ranks, each on its own shard).
  double loss = 0;
  double duration_s = 0;      // wall time of the whole step (data, forward, backward, update)
  std::int64_t sequences = 0;  // batch_size x grad_accum (this rank's)
  std::int64_t predicted_tokens = 0;
  double learning_rate = 0;   // used by this step
};

class MlmTrainer {
 public:
  // Throws InputError (sequence too long, bad sizes, weights file), EnvironmentError (device).
  // Sets this thread's intra-op threads.
  MlmTrainer(const ModelConfig& config, const TrainOptions& options);
  ~MlmTrainer();
  MlmTrainer(const MlmTrainer&) = delete;
  MlmTrainer& operator=(const MlmTrainer&) = delete;

  // One optimizer step; returns once its results exist (device synchronised).
  TrainStep Step();
  // FLOPs of one step (3 x forward, see MlmTrainingFlops) at the expected number of
  // predicted tokens per sequence.
  double FlopsPerStep() const;
  std::int64_t sequences_per_step() const;
  // Data-parallel: the largest |weight - rank 0's weight| of this replica, summed over every
  // rank (a collective: every rank calls it at the same step). 0 when the replicas are
  // identical, as summed gradients keep them; 0 without data parallelism.
  double ReplicaWeightDifference();
  std::int64_t steps_done() const;
  const ModelConfig& config() const;
  const TrainOptions& options() const;  // device canonicalised

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::workloads
