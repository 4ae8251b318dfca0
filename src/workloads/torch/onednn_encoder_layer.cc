#include "workloads/torch/onednn_encoder_layer.h"

#include <ATen/record_function.h>

#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "workloads/torch/onednn_dense.h"

#if defined(JOULEBENCH_HAVE_ONEDNN)
#include <omp.h>

#include "workloads/torch/onednn_context.h"
#endif

namespace joulebench::workloads::torch_impl {

#if defined(JOULEBENCH_HAVE_ONEDNN)

namespace {

using dnnl::memory;
constexpr auto kF32 = memory::data_type::f32;

// LayerNorm over the last dimension of [rows, width], in place.
class LayerNormInPlace {
 public:
  LayerNormInPlace(const torch::Tensor& weight, const torch::Tensor& bias, double eps)
      : width_(weight.numel()),
        eps_(static_cast<float>(eps)),
        weight_(weight.detach().to(torch::kFloat).contiguous().clone()),
        bias_(bias.detach().to(torch::kFloat).contiguous().clone()) {}

  void Run(float* data, std::int64_t rows) const {
    const dnnl::layer_normalization_forward& primitive = PrimitiveFor(rows);
    const auto& engine = CpuEngine();
    const memory::desc data_desc({rows, width_}, kF32, memory::format_tag::ab);
    const memory::desc table({width_}, kF32, memory::format_tag::a);
    memory values(data_desc, engine, data);
    memory scale(table, engine, weight_.data_ptr<float>());
    memory shift(table, engine, bias_.data_ptr<float>());
    primitive.execute(ThreadStream(), {{DNNL_ARG_SRC, values},
                                       {DNNL_ARG_DST, values},
                                       {DNNL_ARG_SCALE, scale},
                                       {DNNL_ARG_SHIFT, shift}});
  }

 private:
  const dnnl::layer_normalization_forward& PrimitiveFor(std::int64_t rows) const {
    const std::pair<std::int64_t, int> key{rows, PrimitiveThreads()};
    std::lock_guard lock(mutex_);
    if (auto it = primitives_.find(key); it != primitives_.end()) return it->second;
    const memory::desc data_desc({rows, width_}, kF32, memory::format_tag::ab);
    const dnnl::layer_normalization_forward::primitive_desc pd(
        dnnl::layer_normalization_forward::desc(
            dnnl::prop_kind::forward_inference, data_desc, eps_,
            dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift),
        CpuEngine());
    return primitives_.emplace(key, dnnl::layer_normalization_forward(pd)).first->second;
  }

  std::int64_t width_;
  float eps_;
  torch::Tensor weight_, bias_;
  mutable std::mutex mutex_;
  mutable std::map<std::pair<std::int64_t, int>, dnnl::layer_normalization_forward> primitives_;
};

// Sets this thread's OpenMP thread count for a scope: primitives that will run inside a
// parallel region, on one thread each, are made for one thread.
class OmpThreadsScope {
 public:
  explicit OmpThreadsScope(int threads) : previous_(omp_get_max_threads()) {
    omp_set_num_threads(threads);
  }
  ~OmpThreadsScope() { omp_set_num_threads(previous_); }

 private:
  int previous_;
};

}  // namespace

struct OneDnnEncoderLayer::Impl {
  std::int64_t width = 0, heads = 0, head_dim = 0, intermediate = 0;
  std::unique_ptr<OneDnnDense> qkv, attention_output, ffn_in, ffn_out;
  std::unique_ptr<LayerNormInPlace> attention_norm, output_norm;

  // One (sequence, head) pair's attention, on one thread, for sequences of `seq` tokens:
  // scores = Q Kᵀ (+ the sequence's mask row), softmax in place, context = probs V. The pair's
  // Q, K and V are first copied out of the QKV product's rows into dense [S, D] blocks, and its
  // context back into the [S, H] rows afterwards: on dense blocks oneDNN takes its brgemm
  // kernels (on the strided rows its generic GEMM, 4 % slower at 128 tokens and 12 % at 512,
  // copies included, measured per CPU second).
  struct AttentionPlan {
    dnnl::matmul scores, context;
    dnnl::softmax_forward softmax;
    memory::desc block, k_t, probs, mask_row;
  };
  mutable std::mutex mutex;
  mutable std::map<std::pair<std::int64_t, bool>, AttentionPlan> attention_plans;

  const AttentionPlan& AttentionFor(std::int64_t seq, bool masked) const {
    std::lock_guard lock(mutex);
    const std::pair<std::int64_t, bool> key{seq, masked};
    if (auto it = attention_plans.find(key); it != attention_plans.end()) return it->second;
    OmpThreadsScope one_thread(1);
    AttentionPlan plan;
    plan.block = memory::desc({seq, head_dim}, kF32, memory::format_tag::ab);
    plan.k_t = memory::desc({head_dim, seq}, kF32, memory::format_tag::ba);
    plan.probs = memory::desc({seq, seq}, kF32, memory::format_tag::ab);
    plan.mask_row = memory::desc({1, seq}, kF32, memory::format_tag::ab);
    dnnl::primitive_attr scores_attr;
    if (masked) {
      dnnl::post_ops add_mask;
      add_mask.append_binary(dnnl::algorithm::binary_add, plan.mask_row);
      scores_attr.set_post_ops(add_mask);
    }
    const auto& engine = CpuEngine();
    plan.scores = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(plan.block, plan.k_t, plan.probs), scores_attr, engine));
    plan.softmax = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, plan.probs, 1), engine));
    plan.context = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(plan.probs, plan.block, plan.block), engine));
    return attention_plans.emplace(key, std::move(plan)).first->second;
  }

  void Attention(const float* qkv_rows, const float* mask, std::int64_t batch, std::int64_t seq,
                 float* context_rows) const {
    const AttentionPlan& plan = AttentionFor(seq, mask != nullptr);
    const std::int64_t qkv_width = 3 * width;
    at::parallel_for(0, batch * heads, 1, [&](std::int64_t begin, std::int64_t end) {
      const auto& engine = CpuEngine();
      dnnl::stream& stream = ThreadStream();
      const auto block_size = static_cast<std::size_t>(seq * head_dim);
      std::vector<float> scratch(static_cast<std::size_t>(seq * seq) + 4 * block_size);
      float* q_block = scratch.data() + seq * seq;
      float* k_block = q_block + block_size;
      float* v_block = k_block + block_size;
      float* out_block = v_block + block_size;
      memory probs(plan.probs, engine, scratch.data());
      memory q(plan.block, engine, q_block), k_t(plan.k_t, engine, k_block);
      memory v(plan.block, engine, v_block), out(plan.block, engine, out_block);
      const auto row_bytes = static_cast<std::size_t>(head_dim) * sizeof(float);
      for (std::int64_t pair = begin; pair < end; ++pair) {
        const std::int64_t b = pair / heads, h = pair % heads;
        const float* rows = qkv_rows + b * seq * qkv_width + h * head_dim;
        for (std::int64_t i = 0; i < seq; ++i) {
          std::memcpy(q_block + i * head_dim, rows + i * qkv_width, row_bytes);
          std::memcpy(k_block + i * head_dim, rows + i * qkv_width + width, row_bytes);
          std::memcpy(v_block + i * head_dim, rows + i * qkv_width + 2 * width, row_bytes);
        }
        if (mask != nullptr) {
          memory mask_row(plan.mask_row, engine, const_cast<float*>(mask) + b * seq);
          plan.scores.execute(stream,
                              {{DNNL_ARG_SRC, q},
                               {DNNL_ARG_WEIGHTS, k_t},
                               {DNNL_ARG_DST, probs},
                               {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mask_row}});
        } else {
          plan.scores.execute(stream,
                              {{DNNL_ARG_SRC, q}, {DNNL_ARG_WEIGHTS, k_t}, {DNNL_ARG_DST, probs}});
        }
        plan.softmax.execute(stream, {{DNNL_ARG_SRC, probs}, {DNNL_ARG_DST, probs}});
        plan.context.execute(stream,
                             {{DNNL_ARG_SRC, probs}, {DNNL_ARG_WEIGHTS, v}, {DNNL_ARG_DST, out}});
        float* context = context_rows + b * seq * width + h * head_dim;
        for (std::int64_t i = 0; i < seq; ++i) {
          std::memcpy(context + i * width, out_block + i * head_dim, row_bytes);
        }
      }
    });
  }
};

OneDnnEncoderLayer::OneDnnEncoderLayer(const EncoderLayerWeights& w)
    : impl_(std::make_unique<Impl>()) {
  impl_->width = w.attention_output_weight.size(0);
  impl_->heads = w.num_heads;
  TORCH_CHECK(impl_->heads > 0 && impl_->width % impl_->heads == 0,
              "OneDnnEncoderLayer: the width must split into the heads");
  impl_->head_dim = impl_->width / impl_->heads;
  impl_->intermediate = w.intermediate_weight.size(0);
  impl_->qkv = std::make_unique<OneDnnDense>(w.qkv_weight, w.qkv_bias);
  impl_->attention_output =
      std::make_unique<OneDnnDense>(w.attention_output_weight, w.attention_output_bias);
  impl_->ffn_in = std::make_unique<OneDnnDense>(w.intermediate_weight, w.intermediate_bias);
  impl_->ffn_out = std::make_unique<OneDnnDense>(w.output_weight, w.output_bias);
  impl_->attention_norm = std::make_unique<LayerNormInPlace>(
      w.attention_norm_weight, w.attention_norm_bias, w.layer_norm_eps);
  impl_->output_norm = std::make_unique<LayerNormInPlace>(w.output_norm_weight, w.output_norm_bias,
                                                          w.layer_norm_eps);
}

void OneDnnEncoderLayer::ForwardInPlace(const torch::Tensor& hidden,
                                        const torch::Tensor& additive_mask) const {
  const Impl& m = *impl_;
  TORCH_CHECK(hidden.dim() == 3 && hidden.size(2) == m.width && hidden.is_contiguous() &&
                  hidden.scalar_type() == torch::kFloat && hidden.is_cpu(),
              "OneDnnEncoderLayer: hidden must be a contiguous fp32 CPU tensor [B, S, ", m.width,
              "]");
  const std::int64_t batch = hidden.size(0), seq = hidden.size(1), rows = batch * seq;
  const float* mask = nullptr;
  if (additive_mask.defined()) {
    TORCH_CHECK(additive_mask.is_contiguous() && additive_mask.scalar_type() == torch::kFloat &&
                    additive_mask.numel() == rows,
                "OneDnnEncoderLayer: the mask must be a contiguous fp32 [B, 1, 1, S] tensor");
    mask = additive_mask.data_ptr<float>();
  }
  float* x = hidden.data_ptr<float>();
  // Each step is a record function, so that libtorch's profiler shows where a layer's time
  // goes (the primitives themselves are not libtorch operators).
  auto qkv = torch::empty({rows, 3 * m.width}, hidden.options());
  {
    RECORD_FUNCTION("joulebench::qkv_projection", std::vector<c10::IValue>());
    m.qkv->Run(x, rows, qkv.data_ptr<float>(), DenseEpilogue::kNone);
  }
  auto context = torch::empty({rows, m.width}, hidden.options());
  {
    RECORD_FUNCTION("joulebench::attention", std::vector<c10::IValue>());
    m.Attention(qkv.data_ptr<float>(), mask, batch, seq, context.data_ptr<float>());
  }
  {
    RECORD_FUNCTION("joulebench::attention_output_residual", std::vector<c10::IValue>());
    m.attention_output->Run(context.data_ptr<float>(), rows, x, DenseEpilogue::kAccumulate);
  }
  {
    RECORD_FUNCTION("joulebench::layer_norm", std::vector<c10::IValue>());
    m.attention_norm->Run(x, rows);
  }
  auto inner = torch::empty({rows, m.intermediate}, hidden.options());
  {
    RECORD_FUNCTION("joulebench::intermediate_gelu", std::vector<c10::IValue>());
    m.ffn_in->Run(x, rows, inner.data_ptr<float>(), DenseEpilogue::kGelu);
  }
  {
    RECORD_FUNCTION("joulebench::output_residual", std::vector<c10::IValue>());
    m.ffn_out->Run(inner.data_ptr<float>(), rows, x, DenseEpilogue::kAccumulate);
  }
  {
    RECORD_FUNCTION("joulebench::layer_norm", std::vector<c10::IValue>());
    m.output_norm->Run(x, rows);
  }
}

#else  // !JOULEBENCH_HAVE_ONEDNN

struct OneDnnEncoderLayer::Impl {};

OneDnnEncoderLayer::OneDnnEncoderLayer(const EncoderLayerWeights&) {
  throw std::logic_error("OneDnnEncoderLayer: joulebench was built without oneDNN's headers");
}

void OneDnnEncoderLayer::ForwardInPlace(const torch::Tensor&, const torch::Tensor&) const {}

#endif

OneDnnEncoderLayer::~OneDnnEncoderLayer() = default;

}  // namespace joulebench::workloads::torch_impl
