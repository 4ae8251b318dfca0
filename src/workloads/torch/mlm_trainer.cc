#include "joulebench/workloads/mlm_trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

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
  impl_->documents = std::make_unique<DocumentGenerator>(DocumentOptions{
      .seq_len = options.seq_len,
      .vocab_size = config.vocab_size,
      .seed = options.torch.seed,
      .full_length = true});
  impl_->masker = std::make_unique<MlmMasker>(
      MlmOptions{.vocab_size = config.vocab_size, .seed = options.torch.seed + 1});
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
    impl_->optimizer->step();
    torch_impl::Synchronize(impl_->device);
    step.loss = loss_sum / static_cast<double>(o.grad_accum);
  });
  ++impl_->steps;
  step.sequences = sequences_per_step();
  step.duration_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return step;
}

double MlmTrainer::FlopsPerStep() const {
  const MlmOptions mlm;
  const double masked = std::max(
      1.0, std::round(static_cast<double>(impl_->options.seq_len - 2) * mlm.mask_fraction));
  return static_cast<double>(sequences_per_step()) *
         MlmTrainingFlops(impl_->config, impl_->options.seq_len, masked);
}

std::int64_t MlmTrainer::sequences_per_step() const {
  return impl_->options.batch_size * impl_->options.grad_accum;
}
std::int64_t MlmTrainer::steps_done() const { return impl_->steps; }
const ModelConfig& MlmTrainer::config() const { return impl_->config; }
const TrainOptions& MlmTrainer::options() const { return impl_->options; }

}  // namespace joulebench::workloads
