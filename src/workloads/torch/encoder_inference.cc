#include "joulebench/workloads/encoder_inference.h"

#include <ATen/record_function.h>
#include <fmt/format.h>

#include "joulebench/error.h"
#include "workloads/torch/encoder_model.h"
#include "workloads/torch/int8_dense_layers.h"
#include "workloads/torch/torch_util.h"

namespace joulebench::workloads {

using torch_impl::EncoderModel;
using torch_impl::ModelHead;

struct EncoderInference::Impl {
  ModelConfig config;
  TorchOptions options;
  torch::Device device{torch::kCPU};
  EncoderModel model{nullptr};
  std::unique_ptr<torch_impl::Int8DenseLayers> int8;  // set with DenseQuantization::kDynamicInt8

  torch::Tensor Forward(const DocumentBatch& batch) {
    if (batch.seq_len > config.max_positions) {
      throw InputError(fmt::format("--seq-len: {} is longer than {}'s {} positions", batch.seq_len,
                                   config.name, config.max_positions));
    }
    const std::vector<std::int64_t> shape{batch.batch_size, batch.seq_len};
    auto to_tensor = [&](const std::vector<std::int64_t>& values, std::vector<std::int64_t> dims) {
      auto cpu = torch::from_blob(const_cast<std::int64_t*>(values.data()), dims, torch::kLong);
      return cpu.to(device, /*non_blocking=*/false, /*copy=*/true);
    };
    c10::InferenceMode inference;
    torch::Tensor ids, types, mask, bbox;
    {
      RECORD_FUNCTION("joulebench::inputs", std::vector<c10::IValue>());
      ids = to_tensor(batch.input_ids, shape);
      types = to_tensor(batch.token_type_ids, shape);
      mask = to_tensor(batch.attention_mask, shape);
      if (config.family == ModelFamily::kLayoutLM) {
        bbox = to_tensor(batch.bbox, {batch.batch_size, batch.seq_len, 4});
      }
    }
    auto hidden = model->Encode(ids, types, bbox, mask);
    if (config.family == ModelFamily::kLayoutLM) {
      RECORD_FUNCTION("joulebench::token_classifier", std::vector<c10::IValue>());
      return model->TokenLogits(hidden);
    }
    return hidden;
  }
};

EncoderInference::EncoderInference(const ModelConfig& config, const TorchOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->config = config;
  impl_->options = options;
  impl_->options.device = CheckDevice(options.device);
  SetIntraOpThreads(options.threads);
  KeepFreedHostMemory();
  impl_->device = torch_impl::ToDevice(impl_->options.device);
  torch_impl::Guarded("building " + config.name, [&] {
    const ModelHead head = config.family == ModelFamily::kLayoutLM ? ModelHead::kTokenClassification
                                                                   : ModelHead::kNone;
    impl_->model = EncoderModel(config, head);
    torch_impl::InitializeWeights(*impl_->model, options.seed);
    if (!options.weights_path.empty()) impl_->model->LoadStateDict(options.weights_path);
    impl_->model->to(impl_->device, torch_impl::ToScalarType(options.dtype));
    impl_->model->eval();
    impl_->model->FuseForInference();
    impl_->model->SetLinearKernel(
        ResolveLinearKernel(options.linear_kernel, impl_->options.device, options.dtype));
  });
  if (options.quantization == DenseQuantization::kDynamicInt8) {
    impl_->int8 = std::make_unique<torch_impl::Int8DenseLayers>(*impl_->model);
  }
}

EncoderInference::~EncoderInference() = default;

void EncoderInference::Run(const DocumentBatch& batch) {
  torch_impl::Guarded("running " + impl_->config.name, [&] {
    impl_->Forward(batch);
    torch_impl::Synchronize(impl_->device);
  });
}

std::vector<float> EncoderInference::RunAndFetch(const DocumentBatch& batch) {
  std::vector<float> values;
  const std::uint64_t int8_calls_before = impl_->int8 ? impl_->int8->calls() : 0;
  torch_impl::Guarded("running " + impl_->config.name, [&] {
    auto out = impl_->Forward(batch).to(torch::kCPU, torch::kFloat).contiguous();
    values.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  });
  // Every quantized layer must have run once: a dense product that bypasses
  // torch_impl::Linear would silently stay fp32.
  if (impl_->int8 && impl_->int8->calls() - int8_calls_before != impl_->int8->layer_count()) {
    throw RuntimeError(fmt::format(
        "{} int8: {} of its {} quantized dense layers ran in one forward pass; the model "
        "multiplies by weights the quantization does not know",
        impl_->config.name, impl_->int8->calls() - int8_calls_before, impl_->int8->layer_count()));
  }
  return values;
}

double EncoderInference::FlopsPerRun(std::int64_t batch_size, std::int64_t seq_len) const {
  return static_cast<double>(batch_size) * EncoderForwardFlops(impl_->config, seq_len);
}

const ModelConfig& EncoderInference::config() const { return impl_->config; }
const TorchOptions& EncoderInference::options() const { return impl_->options; }

std::size_t EncoderInference::int8_layer_count() const {
  return impl_->int8 ? impl_->int8->layer_count() : 0;
}

std::int64_t EncoderInference::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : impl_->model->parameters()) n += p.numel();
  return n;
}

}  // namespace joulebench::workloads
