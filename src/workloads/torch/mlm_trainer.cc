#include "joulebench/workloads/mlm_trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <span>

#include "joulebench/error.h"
#include "joulebench/workloads/mlm_masking.h"
#include "joulebench/workloads/synthetic_documents.h"
#include "workloads/torch/encoder_model.h"
#include "workloads/torch/torch_util.h"

namespace joulebench::workloads {

using torch_impl::EncoderModel;
using torch_impl::ModelHead;

struct MlmTrainer::Impl {
  ModelConfig config;
  TrainOptions options;
  torch::Device device{torch::kCPU};
  EncoderModel model{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::unique_ptr<DocumentGenerator> documents;
  std::unique_ptr<MlmMasker> masker;
  std::vector<std::pair<DocumentBatch, MlmTargets>> corpus;
  std::size_t next_in_corpus = 0;
  std::int64_t steps = 0;
  torch::Tensor flat;  // data-parallel: the gradients (and the loss) of a step, fp32 on the CPU

  // Copies every parameter's (or its gradient's) values into `flat` from `at`, or back.
  std::int64_t Flatten(bool gradients, std::int64_t extra) {
    std::int64_t total = 0;
    for (const auto& p : model->parameters()) total += p.numel();
    if (!flat.defined() || flat.numel() != total + extra) {
      flat = torch::empty({total + extra}, torch::kFloat);
    }
    std::int64_t at = 0;
    for (auto& p : model->parameters()) {
      const std::int64_t n = p.numel();
      torch::Tensor source = gradients ? p.grad() : p.detach();
      if (!source.defined()) {
        flat.narrow(0, at, n).zero_();
      } else {
        flat.narrow(0, at, n).copy_(source.reshape({-1}).to(torch::kCPU, torch::kFloat));
      }
      at += n;
    }
    return total;
  }

  void Unflatten(bool gradients) {
    torch::NoGradGuard no_grad;
    std::int64_t at = 0;
    for (auto& p : model->parameters()) {
      const std::int64_t n = p.numel();
      torch::Tensor values = flat.narrow(0, at, n).view(p.sizes()).to(p.device(), p.scalar_type());
      if (gradients) {
        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
        p.grad().copy_(values);
      } else {
        p.copy_(values);
      }
      at += n;
    }
  }

  std::pair<DocumentBatch, MlmTargets> NextMicroBatch() {
    if (!corpus.empty()) {
      const auto& item = corpus[next_in_corpus];
      next_in_corpus = (next_in_corpus + 1) % corpus.size();
      return item;
    }
    DocumentBatch batch = documents->Next(options.batch_size);
    MlmTargets targets = masker->Apply(batch);
    return {std::move(batch), std::move(targets)};
  }

  torch::Tensor ToDevice(const std::vector<std::int64_t>& values, std::vector<std::int64_t> dims) {
    return torch::from_blob(const_cast<std::int64_t*>(values.data()), dims, torch::kLong)
        .to(device, false, true);
  }
};

MlmTrainer::MlmTrainer(const ModelConfig& config, const TrainOptions& options)
    : impl_(std::make_unique<Impl>()) {
  if (options.seq_len < 3 || options.seq_len > config.max_positions) {
    throw InputError(fmt::format("--seq-len: {} is out of range for {} (3..{})", options.seq_len,
                                 config.name, config.max_positions));
  }
  if (options.batch_size < 1 || options.grad_accum < 1) {
    throw InputError("--batch and --grad-accum must be at least 1");
  }
  impl_->config = config;
  impl_->options = options;
  impl_->options.torch.device = CheckDevice(options.torch.device);
  SetIntraOpThreads(options.torch.threads);
  KeepFreedHostMemory();
  impl_->device = torch_impl::ToDevice(impl_->options.torch.device);
  // Data-parallel ranks draw different documents (their shards); rank 0's equal a lone run's.
  const unsigned long long shard =
      options.data_parallel != nullptr
          ? static_cast<unsigned long long>(options.data_parallel->rank())
          : 0ULL;
  impl_->documents = std::make_unique<DocumentGenerator>(
      DocumentOptions{.seq_len = options.seq_len,
                      .vocab_size = config.vocab_size,
                      .seed = options.torch.seed + shard * 1000003ULL,
                      .full_length = true});
  impl_->masker = std::make_unique<MlmMasker>(MlmOptions{
      .vocab_size = config.vocab_size, .seed = options.torch.seed + 1 + shard * 1000003ULL});
  for (std::int64_t i = 0; i < options.corpus_batches; ++i) {
    impl_->corpus.push_back(impl_->NextMicroBatch());
  }
  torch_impl::Guarded("building " + config.name, [&] {
    impl_->model = EncoderModel(config, ModelHead::kMaskedLm);
    torch_impl::InitializeWeights(*impl_->model, options.torch.seed);
    if (!options.torch.weights_path.empty()) {
      impl_->model->LoadStateDict(options.torch.weights_path);
    }
    impl_->model->to(impl_->device, torch_impl::ToScalarType(options.torch.dtype));
    impl_->model->train();
    impl_->model->SetLinearKernel(ResolveLinearKernel(
        options.torch.linear_kernel, impl_->options.torch.device, options.torch.dtype));
    std::vector<torch::Tensor> decayed, not_decayed;
    for (const auto& item : impl_->model->named_parameters()) {
      const std::string& name = item.key();
      const bool no_decay = name.find("LayerNorm") != std::string::npos ||
                            name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
      (no_decay ? not_decayed : decayed).push_back(item.value());
    }
    auto adamw = torch::optim::AdamWOptions(options.learning_rate)
                     .betas({0.9, 0.999})
                     .eps(1e-6)
                     .weight_decay(options.weight_decay);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(adamw));
    auto no_decay_options = adamw;
    no_decay_options.weight_decay(0.0);
    groups.emplace_back(not_decayed,
                        std::make_unique<torch::optim::AdamWOptions>(no_decay_options));
    impl_->optimizer = std::make_unique<torch::optim::AdamW>(std::move(groups), adamw);
  });
  if (DataParallelGroup* group = options.data_parallel; group != nullptr && group->size() > 1) {
    // Every replica starts from rank 0's weights (a weights file may exist on its node only).
    torch_impl::Guarded("copying rank 0's weights", [&] { impl_->Flatten(false, 0); });
    group->Broadcast(std::span<float>(impl_->flat.data_ptr<float>(),
                                      static_cast<std::size_t>(impl_->flat.numel())));
    torch_impl::Guarded("copying rank 0's weights", [&] { impl_->Unflatten(false); });
  }
}

MlmTrainer::~MlmTrainer() = default;

TrainStep MlmTrainer::Step() {
  TrainStep step;
  const auto start = std::chrono::steady_clock::now();
  const auto& o = impl_->options;
  const double warmup = static_cast<double>(std::max<std::int64_t>(o.warmup_steps, 1));
  step.learning_rate =
      o.learning_rate * std::min(1.0, static_cast<double>(impl_->steps + 1) / warmup);
  torch_impl::Guarded("training " + impl_->config.name, [&] {
    for (auto& group : impl_->optimizer->param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(step.learning_rate);
    }
    impl_->optimizer->zero_grad();
    double loss_sum = 0;
    for (std::int64_t micro = 0; micro < o.grad_accum; ++micro) {
      auto [batch, targets] = impl_->NextMicroBatch();
      const std::vector<std::int64_t> shape{batch.batch_size, batch.seq_len};
      auto ids = impl_->ToDevice(batch.input_ids, shape);
      auto types = impl_->ToDevice(batch.token_type_ids, shape);
      auto mask = impl_->ToDevice(batch.attention_mask, shape);
      const auto n = static_cast<std::int64_t>(targets.positions.size());
      auto positions = impl_->ToDevice(targets.positions, {n});
      auto labels = impl_->ToDevice(targets.labels, {n});
      auto hidden = impl_->model->Encode(ids, types, torch::Tensor(), mask);
      // The vocabulary decoder runs only where a token is predicted.
      auto predicted = hidden.reshape({-1, impl_->config.hidden_size}).index_select(0, positions);
      auto logits = impl_->model->MaskedLmLogits(predicted).to(torch::kFloat);
      auto loss = torch::cross_entropy_loss(logits, labels);
      (loss / static_cast<double>(o.grad_accum)).backward();
      loss_sum += loss.item<double>();
      step.predicted_tokens += n;
    }
    step.loss = loss_sum / static_cast<double>(o.grad_accum);
  });
  if (DataParallelGroup* group = o.data_parallel; group != nullptr && group->size() > 1) {
    // One fp32 sum of every gradient, with the step's loss in the last element; then the
    // mean over the ranks, as DistributedDataParallel averages.
    std::int64_t total = 0;
    torch_impl::Guarded("gathering gradients", [&] {
      total = impl_->Flatten(true, 1);
      impl_->flat[total].fill_(step.loss);
    });
    group->AllReduceSum(std::span<float>(impl_->flat.data_ptr<float>(),
                                         static_cast<std::size_t>(impl_->flat.numel())));
    torch_impl::Guarded("averaging gradients", [&] {
      impl_->flat.div_(static_cast<double>(group->size()));
      step.loss = impl_->flat[total].item<double>();
      impl_->Unflatten(true);
    });
  }
  torch_impl::Guarded("training " + impl_->config.name, [&] {
    impl_->optimizer->step();
    torch_impl::Synchronize(impl_->device);
  });
  ++impl_->steps;
  step.sequences = sequences_per_step();
  step.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return step;
}

double MlmTrainer::FlopsPerStep() const {
  const MlmOptions mlm;
  const double masked = std::max(
      1.0, std::round(static_cast<double>(impl_->options.seq_len - 2) * mlm.mask_fraction));
  return static_cast<double>(sequences_per_step()) *
         MlmTrainingFlops(impl_->config, impl_->options.seq_len, masked);
}

double MlmTrainer::ReplicaWeightDifference() {
  DataParallelGroup* group = impl_->options.data_parallel;
  if (group == nullptr || group->size() < 2) return 0;
  torch::Tensor reference;
  torch_impl::Guarded("comparing replicas", [&] {
    impl_->Flatten(false, 0);
    reference = impl_->flat.clone();
  });
  group->Broadcast(
      std::span<float>(reference.data_ptr<float>(), static_cast<std::size_t>(reference.numel())));
  float difference = 0;
  torch_impl::Guarded("comparing replicas",
                      [&] { difference = (impl_->flat - reference).abs().max().item<float>(); });
  group->AllReduceSum(std::span<float>(&difference, 1));
  return difference;
}

std::int64_t MlmTrainer::sequences_per_step() const {
  return impl_->options.batch_size * impl_->options.grad_accum;
}
std::int64_t MlmTrainer::steps_done() const { return impl_->steps; }
const ModelConfig& MlmTrainer::config() const { return impl_->config; }
const TrainOptions& MlmTrainer::options() const { return impl_->options; }

}  // namespace joulebench::workloads
