// int8 dynamic quantization of the dense layers against PyTorch's own quantize_dynamic (run by
// Debian's /usr/bin/python3 on the same weights and inputs), and the accuracy figures `tune`
// stores.
#include "workloads/torch/int8_dense_layers.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <numeric>

#include "joulebench/error.h"
#include "joulebench/workloads/encoder_inference.h"
#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/output_agreement.h"
#include "joulebench/workloads/synthetic_documents.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::workloads {
namespace {

using torch_impl::EncoderModel;
using torch_impl::ModelHead;

c10::Dict<c10::IValue, c10::IValue> LoadDict(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toGenericDict();
}

double MaxAbs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

// bert-tiny with non-trivial biases and LayerNorms, in inference mode.
EncoderModel TinyModel(bool fused) {
  const ModelConfig config = FindModel("bert-tiny");
  torch::manual_seed(3);
  EncoderModel model(config, ModelHead::kNone);
  torch_impl::InitializeWeights(*model, 11);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) {
      if (p.dim() == 1) p.add_(torch::randn_like(p) * 0.1);
    }
  }
  model->eval();
  if (fused) model->FuseForInference();
  if (ResolveLinearKernel(LinearKernel::kAuto, "cpu", ComputeDtype::kFloat32) ==
      LinearKernel::kOneDnn) {
    model->SetLinearKernel(LinearKernel::kOneDnn);
  }
  return model;
}

class Int8AgainstPyTorch : public ::testing::TestWithParam<std::tuple<bool, std::int64_t>> {};

TEST_P(Int8AgainstPyTorch, QuantizedLayersMatchQuantizeDynamic) {
  const auto [fused, s] = GetParam();
  const ModelConfig config = FindModel("bert-tiny");
  EncoderModel model = TinyModel(fused);
  const std::int64_t b = 3;
  auto hidden = torch::randn({b, s, config.hidden_size});
  auto mask = torch::ones({b, s}, torch::kLong);
  mask.index_put_({1, torch::indexing::Slice(5, torch::indexing::None)}, 0);
  c10::Dict<std::string, torch::Tensor> input;
  input.insert("hidden", hidden);
  input.insert("mask", mask);
  input.insert("num_heads", torch::tensor(config.num_heads));
  input.insert("num_layers", torch::tensor(config.num_layers));
  input.insert("eps", torch::tensor(config.layer_norm_eps, torch::kDouble));
  for (const auto& item : model->named_parameters()) {
    const std::string prefix = "bert.encoder.";
    if (item.key().rfind(prefix, 0) == 0) {
      input.insert(item.key().substr(prefix.size()), item.value().detach().clone());
    }
  }
  testing::TempDir dir;
  {
    auto bytes = torch::pickle_save(torch::IValue(input));
    std::ofstream(dir.path() / "in.pt", std::ios::binary).write(bytes.data(), bytes.size());
  }
  auto python = testing::RunProcess(
      "/usr/bin/python3",
      {std::string(JOULEBENCH_SOURCE_DIR) + "/tests/python/int8_dynamic_reference.py",
       (dir.path() / "in.pt").string(), (dir.path() / "out.pt").string(),
       torch_impl::QuantizedEngineName()});
  ASSERT_EQ(python.exit_code, 0) << python.err;
  auto out = LoadDict(dir.path() / "out.pt");
  const torch::Tensor py_int8 = out.at("int8").toTensor();
  const torch::Tensor py_fp32 = out.at("fp32").toTensor();

  torch::NoGradGuard no_grad;
  const torch::Tensor fp32 = model->EncodeHidden(hidden, mask);
  torch::Tensor int8;
  {
    torch_impl::Int8DenseLayers quantized(*model);
    // Fused: Q/K/V as one matrix of three blocks, plus 3 per layer; else 6 per layer.
    EXPECT_EQ(quantized.layer_count(),
              static_cast<std::size_t>(config.num_layers * (fused ? 4 : 6)));
    EXPECT_EQ(out.at("quantized_layers").toTensor().item<std::int64_t>(), config.num_layers * 6);
    int8 = model->EncodeHidden(hidden, mask);
    EXPECT_EQ(quantized.calls(), quantized.layer_count());  // each ran once
  }
  // Unregistered again: the same model computes fp32.
  EXPECT_EQ(MaxAbs(model->EncodeHidden(hidden, mask) - fp32), 0.0);

  const double fp32_vs_python = MaxAbs(fp32 - py_fp32);
  const double int8_vs_python = MaxAbs(int8 - py_int8);
  const double int8_vs_fp32 = MaxAbs(int8 - fp32);
  // The rare element whose activation rounds the other way (the two sides' fp32 parts differ
  // by ~1e-6) stands out in the maximum; the norm of the differences shows the bulk.
  const double norm_ratio =
      (int8 - py_int8).norm().item<double>() / (int8 - fp32).norm().item<double>();
  RecordProperty("int8_vs_python", fmt::format("{:.3g}", int8_vs_python));
  RecordProperty("int8_vs_fp32", fmt::format("{:.3g}", int8_vs_fp32));
  RecordProperty("norm_ratio", fmt::format("{:.3g}", norm_ratio));
  EXPECT_LE(fp32_vs_python, 1e-4);
  // Quantization happened (the outputs moved ten times further than fp32's own agreement with
  // PyTorch) and moved them where PyTorch's quantize_dynamic does.
  EXPECT_GE(int8_vs_fp32, 1e-3);
  EXPECT_LE(int8_vs_python, 0.25 * int8_vs_fp32)
      << "int8 vs python " << int8_vs_python << ", int8 vs fp32 " << int8_vs_fp32;
  EXPECT_LE(norm_ratio, 0.1);
}

INSTANTIATE_TEST_SUITE_P(FusedAndSeparateQkvShortAndLong, Int8AgainstPyTorch,
                         ::testing::Combine(::testing::Bool(),
                                            ::testing::Values(std::int64_t{9}, std::int64_t{130})));

TEST(Int8DenseLayers, FusedBlocksGetTheirOwnScales) {
  auto w =
      torch::cat({torch::full({4, 8}, 0.5), torch::full({4, 8}, -2.0), torch::full({4, 8}, 1.0)});
  torch_impl::DynamicInt8Linear layer(w, torch::zeros({12}), {4, 4, 4});
  ASSERT_EQ(layer.block_scales().size(), 3u);
  EXPECT_FLOAT_EQ(layer.block_scales()[0], 0.5F / 127.5F);
  EXPECT_FLOAT_EQ(layer.block_scales()[1], 2.0F / 127.5F);
  EXPECT_FLOAT_EQ(layer.block_scales()[2], 1.0F / 127.5F);
  auto y = layer.Forward(torch::ones({2, 8}));
  ASSERT_EQ(y.sizes(), (std::vector<std::int64_t>{2, 12}));
  // Each block's weights are exactly representable: 0.5 * 8, -2 * 8, 1 * 8.
  EXPECT_NEAR(y[0][0].item<double>(), 4.0, 0.05);
  EXPECT_NEAR(y[1][5].item<double>(), -16.0, 0.2);
  EXPECT_NEAR(y[0][11].item<double>(), 8.0, 0.1);
}

TEST(Int8DenseLayers, Bf16OrGpuModelsAreRefused) {
  EncoderModel model = TinyModel(true);
  model->to(torch::kBFloat16);
  EXPECT_THROW(torch_impl::Int8DenseLayers{*model}, InputError);
}

TEST(EncoderInferenceInt8, LayoutLmLogitsFollowFp32Closely) {
  const ModelConfig config = FindModel("layoutlm-tiny");
  TorchOptions fp32_options;
  TorchOptions int8_options;
  ApplyInferenceDtype("int8", int8_options);
  EXPECT_EQ(InferenceDtypeName(int8_options), "int8");
  EncoderInference fp32(config, fp32_options);
  EncoderInference int8(config, int8_options);
  EXPECT_EQ(fp32.int8_layer_count(), 0u);
  EXPECT_EQ(int8.int8_layer_count(), static_cast<std::size_t>(config.num_layers * 4 + 1));
  DocumentGenerator documents({.seq_len = 32, .vocab_size = config.vocab_size, .seed = 2});
  const DocumentBatch batch = documents.Next(4);
  const auto reference = fp32.RunAndFetch(batch);
  const auto candidate = int8.RunAndFetch(batch);
  const OutputAgreement a =
      CompareOutputs(reference, candidate, config.num_labels, batch.attention_mask);
  EXPECT_GT(a.max_abs_diff, 0);  // quantized: not bit-identical
  EXPECT_GT(a.cosine_similarity, 0.99);
  EXPECT_LT(a.max_abs_diff, 0.2 * a.reference_max_abs);
  EXPECT_EQ(a.rows, std::accumulate(batch.lengths.begin(), batch.lengths.end(), std::int64_t{0}));
}

TEST(EncoderInferenceInt8, TheDtypeNamesInt8AndRefusesUnknownOnes) {
  TorchOptions o;
  ApplyInferenceDtype("bf16", o);
  EXPECT_EQ(o.dtype, ComputeDtype::kBFloat16);
  EXPECT_EQ(o.quantization, DenseQuantization::kNone);
  EXPECT_THROW(ApplyInferenceDtype("int4", o), InputError);
}

}  // namespace
}  // namespace joulebench::workloads
