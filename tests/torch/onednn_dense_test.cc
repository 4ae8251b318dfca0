// OneDnnDense (oneDNN matmul on weights packed once) against libtorch's own linear, GELU and
// addition on the same weights.
#include "workloads/torch/onednn_dense.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "joulebench/workloads/torch_runtime.h"

namespace joulebench::workloads::torch_impl {
namespace {

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Where libtorch has oneDNN, joulebench must have been built with its primitives (CI installs
// libdnnl-dev): a build without them silently runs the slow path.
TEST(OneDnnDense, PrimitivesAreBuiltWhereLibtorchHasOneDnn) {
  if (!at::hasMKLDNN()) GTEST_SKIP() << "this libtorch has no oneDNN (MKL-DNN)";
  EXPECT_TRUE(OneDnnPrimitivesAvailable()) << "configure with libdnnl-dev installed";
}

TEST(OneDnnDense, EqualsLibtorchLinearWithEachEpilogue) {
  if (!OneDnnPrimitivesAvailable()) GTEST_SKIP() << "built without oneDNN's headers";
  torch::manual_seed(4);
  const auto weight = torch::randn({37, 53}) * 0.2;
  const auto bias = torch::randn({37});
  const OneDnnDense dense(weight, bias);
  const int threads_before = IntraOpThreads();
  // Row counts the packed layout must serve alike: one token, a few, more than a block; the
  // primitives are made per row count and thread count.
  for (int threads : {1, 2}) {
    SetIntraOpThreads(threads);
    for (std::int64_t rows : {1, 5, 130}) {
      SCOPED_TRACE(fmt::format("{} rows, {} thread(s)", rows, threads));
      const auto x = torch::randn({rows, 53});
      const auto linear = torch::linear(x, weight, bias);
      EXPECT_LE(MaxDiff(dense.Run(x), linear), 1e-5);
      EXPECT_LE(MaxDiff(dense.Run(x, DenseEpilogue::kGelu), torch::gelu(linear)), 1e-5);
      auto residual = torch::randn({rows, 37});
      const auto expected = residual + linear;
      dense.Run(x.data_ptr<float>(), rows, residual.data_ptr<float>(), DenseEpilogue::kAccumulate);
      EXPECT_LE(MaxDiff(residual, expected), 1e-5);
    }
  }
  SetIntraOpThreads(threads_before);
}

TEST(OneDnnDense, KeepsItsOwnCopyOfTheWeights) {
  if (!OneDnnPrimitivesAvailable()) GTEST_SKIP() << "built without oneDNN's headers";
  torch::manual_seed(5);
  auto weight = torch::randn({8, 16});
  const auto x = torch::randn({3, 16});
  const auto expected = torch::linear(x, weight, torch::Tensor());
  const OneDnnDense dense(weight, torch::Tensor());
  weight.zero_();
  EXPECT_LE(MaxDiff(dense.Run(x), expected), 1e-5);
}

}  // namespace
}  // namespace joulebench::workloads::torch_impl
