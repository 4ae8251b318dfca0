#include "workloads/torch/int8_dense_layers.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>
#include <fmt/format.h>
#include <torch/version.h>

#include <cctype>
#include <limits>
#include <mutex>
#include <numeric>
#include <shared_mutex>
#include <unordered_map>

#include "joulebench/error.h"
#include "workloads/torch/torch_util.h"

namespace joulebench::workloads::torch_impl {
namespace {

using PackedParams = c10::intrusive_ptr<LinearPackedParamsBase>;

// torch.ao.quantization's MinMaxObserver for qint8, per_tensor_symmetric: quant range
// [-128, 127], scale = max(|min|, |max|) / ((127 - -128) / 2), at least float32 epsilon.
constexpr float kSymmetricHalfRange = 127.5F;

const auto& PrepackOp() {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("quantized::linear_prepack", "")
                             .typed<PackedParams(at::Tensor, c10::optional<at::Tensor>)>();
  return op;
}

const auto& DynamicOp() {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("quantized::linear_dynamic", "")
                             .typed<at::Tensor(at::Tensor, const PackedParams&, bool)>();
  return op;
}

struct Registry {
  std::shared_mutex mutex;
  std::unordered_map<const c10::TensorImpl*, const DynamicInt8Linear*> layers;
  std::atomic<std::size_t> size{0};
};

Registry& TheRegistry() {
  static Registry registry;
  return registry;
}

float SymmetricScale(const torch::Tensor& block) {
  const float amax = block.abs().max().item<float>();
  // Divided in float32, as the observer's tensors are.
  return std::max(amax / kSymmetricHalfRange, std::numeric_limits<float>::epsilon());
}

}  // namespace

struct DynamicInt8Linear::Packed {
  PackedParams params;
};

std::string QuantizedEngineName() {
  const at::QEngine engine = at::globalContext().qEngine();
  if (engine == at::QEngine::NoQEngine) return "";
  std::string name = c10::toString(engine);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

DynamicInt8Linear::DynamicInt8Linear(const torch::Tensor& weight, const torch::Tensor& bias,
                                     std::vector<std::int64_t> row_blocks)
    : packed_(std::make_shared<Packed>()) {
  torch::NoGradGuard no_grad;
  const torch::Tensor w = weight.detach().to(torch::kFloat).contiguous();
  const std::int64_t rows = w.size(0);
  if (row_blocks.empty()) row_blocks = {rows};
  if (std::accumulate(row_blocks.begin(), row_blocks.end(), std::int64_t{0}) != rows) {
    throw RuntimeError(fmt::format("int8 quantization: row blocks do not add up to {} rows", rows));
  }
  torch::Tensor quantized;
  if (row_blocks.size() == 1) {
    const float scale = SymmetricScale(w);
    block_scales_.push_back(scale);
    quantized = torch::quantize_per_tensor(w, scale, 0, torch::kQInt8);
  } else {
    // One scale per row, equal within a block: the per-channel kernel then computes what
    // per-tensor layers side by side would.
    auto scales = torch::empty({rows}, torch::kDouble);
    std::int64_t begin = 0;
    for (std::int64_t n : row_blocks) {
      const float scale = SymmetricScale(w.narrow(0, begin, n));
      block_scales_.push_back(scale);
      scales.narrow(0, begin, n).fill_(static_cast<double>(scale));
      begin += n;
    }
    quantized = torch::quantize_per_channel(w, scales, torch::zeros({rows}, torch::kLong), 0,
                                            torch::kQInt8);
  }
  c10::optional<at::Tensor> b;
  if (bias.defined()) b = bias.detach().to(torch::kFloat).contiguous();
  packed_->params = PrepackOp().call(quantized, b);
}

torch::Tensor DynamicInt8Linear::Forward(const torch::Tensor& x) const {
  calls_.fetch_add(1, std::memory_order_relaxed);
  return DynamicOp().call(x.contiguous(), packed_->params, /*reduce_range=*/true);
}

Int8DenseLayers::Int8DenseLayers(EncoderModelImpl& model) {
  if (QuantizedEngineName().empty() || at::globalContext().supportedQEngines().empty()) {
    throw EnvironmentError(fmt::format(
        "--dtype int8: this libtorch ({}) has no quantized engine (fbgemm, x86, oneDNN or "
        "QNNPACK); use --dtype fp32",
        TORCH_VERSION));
  }
  for (const auto& p : model.parameters()) {
    if (!p.device().is_cpu() || p.scalar_type() != torch::kFloat) {
      throw InputError(
          "--dtype int8: dynamic quantization applies to fp32 models on the CPU (--device cpu)");
    }
  }
  auto add = [&](const torch::Tensor& weight, const torch::Tensor& bias,
                 std::vector<std::int64_t> blocks) {
    layers_.emplace_back(weight, std::make_shared<DynamicInt8Linear>(weight, bias, blocks));
  };
  Guarded("quantizing the dense layers to int8", [&] {
    for (const auto& item : *model.layers) {
      auto& layer = *item->as<EncoderLayer>();
      const std::int64_t h = layer.query->weight.size(0);
      if (layer.fused_qkv_weight().defined()) {
        add(layer.fused_qkv_weight(), layer.fused_qkv_bias(), {h, h, h});
      } else {
        add(layer.query->weight, layer.query->bias, {});
        add(layer.key->weight, layer.key->bias, {});
        add(layer.value->weight, layer.value->bias, {});
      }
      add(layer.attention_output->weight, layer.attention_output->bias, {});
      add(layer.intermediate->weight, layer.intermediate->bias, {});
      add(layer.output->weight, layer.output->bias, {});
    }
    if (model.head() == ModelHead::kTokenClassification) {
      const auto params = model.named_parameters();
      add(params["classifier.weight"], params["classifier.bias"], {});
    }
  });
  Registry& registry = TheRegistry();
  std::unique_lock lock(registry.mutex);
  for (const auto& [weight, layer] : layers_) {
    registry.layers[weight.unsafeGetTensorImpl()] = layer.get();
  }
  registry.size.store(registry.layers.size());
}

Int8DenseLayers::~Int8DenseLayers() {
  Registry& registry = TheRegistry();
  std::unique_lock lock(registry.mutex);
  for (const auto& [weight, layer] : layers_) {
    auto it = registry.layers.find(weight.unsafeGetTensorImpl());
    if (it != registry.layers.end() && it->second == layer.get()) registry.layers.erase(it);
  }
  registry.size.store(registry.layers.size());
}

std::uint64_t Int8DenseLayers::calls() const {
  std::uint64_t n = 0;
  for (const auto& [weight, layer] : layers_) n += layer->calls();
  return n;
}

const DynamicInt8Linear* Int8DenseLayers::Find(const torch::Tensor& weight) {
  Registry& registry = TheRegistry();
  if (registry.size.load(std::memory_order_acquire) == 0) return nullptr;
  std::shared_lock lock(registry.mutex);
  auto it = registry.layers.find(weight.unsafeGetTensorImpl());
  return it == registry.layers.end() ? nullptr : it->second;
}

}  // namespace joulebench::workloads::torch_impl
