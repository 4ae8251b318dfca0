#include "workloads/torch/onednn_dense.h"

#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>
#include <vector>

#if defined(JOULEBENCH_HAVE_ONEDNN)
#include "workloads/torch/onednn_context.h"
#endif

namespace joulebench::workloads::torch_impl {

#if defined(JOULEBENCH_HAVE_ONEDNN)

bool OneDnnPrimitivesAvailable() { return true; }

const dnnl::engine& CpuEngine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& ThreadStream() {
  thread_local dnnl::stream stream(CpuEngine());
  return stream;
}

namespace {
using dnnl::memory;
using Key = std::tuple<std::int64_t, DenseEpilogue, int>;  // rows, epilogue, threads
}  // namespace

struct OneDnnDense::Impl {
  std::int64_t in = 0, out = 0;
  torch::Tensor weight;  // [out, in], the caller's values (kept for re-packing)
  torch::Tensor bias;    // [1, out]; zeros when the layer has none
  mutable std::mutex mutex;
  // The packed copies of the weight, one per layout a primitive asked for (in practice one:
  // the layout oneDNN picks does not depend on the number of rows).
  mutable std::vector<std::pair<memory::desc, memory>> packed;
  struct Plan {
    dnnl::matmul primitive;
    memory weights;
    memory::desc src, dst, bias;
  };
  mutable std::map<Key, Plan> plans;

  const Plan& PlanFor(std::int64_t rows, DenseEpilogue epilogue) const {
    const Key key{rows, epilogue, PrimitiveThreads()};
    std::lock_guard lock(mutex);
    if (auto it = plans.find(key); it != plans.end()) return it->second;
    const memory::desc src({rows, in}, memory::data_type::f32, memory::format_tag::ab);
    const memory::desc any_weights({in, out}, memory::data_type::f32, memory::format_tag::any);
    const memory::desc bias_desc({1, out}, memory::data_type::f32, memory::format_tag::ab);
    const memory::desc dst({rows, out}, memory::data_type::f32, memory::format_tag::ab);
    dnnl::post_ops post_ops;
    if (epilogue == DenseEpilogue::kGelu) {
      post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
    } else if (epilogue == DenseEpilogue::kAccumulate) {
      post_ops.append_sum(1.0f);
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(post_ops);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, any_weights, bias_desc, dst),
                                          attr, CpuEngine());
    memory weights;
    for (const auto& [desc, mem] : packed) {
      if (desc == pd.weights_desc()) weights = mem;
    }
    if (!weights) {
      // weight [out, in] row-major is the matmul's [in, out] weights in column-major order.
      const memory::desc plain({in, out}, memory::data_type::f32, memory::format_tag::ba);
      memory source(plain, CpuEngine(), weight.data_ptr<float>());
      weights = memory(pd.weights_desc(), CpuEngine());
      dnnl::reorder(source, weights).execute(ThreadStream(), source, weights);
      ThreadStream().wait();
      packed.emplace_back(pd.weights_desc(), weights);
    }
    return plans.emplace(key, Plan{dnnl::matmul(pd), weights, src, dst, bias_desc}).first->second;
  }
};

OneDnnDense::OneDnnDense(const torch::Tensor& weight, const torch::Tensor& bias)
    : impl_(std::make_unique<Impl>()) {
  TORCH_CHECK(weight.dim() == 2 && weight.scalar_type() == torch::kFloat && weight.is_cpu(),
              "OneDnnDense: weight must be a 2-D fp32 CPU tensor");
  impl_->out = weight.size(0);
  impl_->in = weight.size(1);
  impl_->weight = weight.detach().contiguous().clone();
  impl_->bias = bias.defined() ? bias.detach().to(torch::kFloat).contiguous().clone()
                               : torch::zeros({impl_->out});
  impl_->bias = impl_->bias.view({1, impl_->out});
}

void OneDnnDense::Run(const float* x, std::int64_t rows, float* y, DenseEpilogue epilogue) const {
  if (rows == 0) return;
  const Impl::Plan& plan = impl_->PlanFor(rows, epilogue);
  const auto& engine = CpuEngine();
  memory src(plan.src, engine, const_cast<float*>(x));
  memory dst(plan.dst, engine, y);
  memory bias(plan.bias, engine, impl_->bias.data_ptr<float>());
  plan.primitive.execute(ThreadStream(), {{DNNL_ARG_SRC, src},
                                          {DNNL_ARG_WEIGHTS, plan.weights},
                                          {DNNL_ARG_BIAS, bias},
                                          {DNNL_ARG_DST, dst}});
}

#else  // !JOULEBENCH_HAVE_ONEDNN

bool OneDnnPrimitivesAvailable() { return false; }

struct OneDnnDense::Impl {
  std::int64_t in = 0, out = 0;
};

OneDnnDense::OneDnnDense(const torch::Tensor&, const torch::Tensor&) {
  throw std::logic_error("OneDnnDense: joulebench was built without oneDNN's headers");
}

void OneDnnDense::Run(const float*, std::int64_t, float*, DenseEpilogue) const {}

#endif

OneDnnDense::~OneDnnDense() = default;

torch::Tensor OneDnnDense::Run(const torch::Tensor& x, DenseEpilogue epilogue) const {
  TORCH_CHECK(x.scalar_type() == torch::kFloat && x.is_cpu() && x.is_contiguous() &&
                  x.size(-1) == in_features(),
              "OneDnnDense: the input must be a contiguous fp32 CPU tensor [..., ", in_features(),
              "]");
  TORCH_CHECK(epilogue != DenseEpilogue::kAccumulate,
              "OneDnnDense: accumulating needs an output that holds the residual");
  auto sizes = x.sizes().vec();
  sizes.back() = out_features();
  auto y = torch::empty(sizes, x.options());
  Run(x.data_ptr<float>(), x.numel() / in_features(), y.data_ptr<float>(), epilogue);
  return y;
}

std::int64_t OneDnnDense::in_features() const { return impl_->in; }
std::int64_t OneDnnDense::out_features() const { return impl_->out; }

}  // namespace joulebench::workloads::torch_impl
