// The libtorch encoder against independent references: PyTorch's own TransformerEncoderLayer
// (run by Debian's /usr/bin/python3 on the same weights), a hand-computed LayoutLM embedding,
// and state-dict round trips.
#include "workloads/torch/encoder_model.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>

#include "joulebench/error.h"
#include "joulebench/workloads/encoder_inference.h"
#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/synthetic_documents.h"
#include "joulebench/workloads/torch_runtime.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::workloads {
namespace {

using torch_impl::EncoderModel;
using torch_impl::ModelHead;

torch::Tensor LoadTensor(const std::filesystem::path& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto dict = torch::pickle_load(bytes).toGenericDict();
  return dict.at(key).toTensor();
}

void CompareWithPyTorch(torch_impl::EncoderModelImpl& model_ref, const ModelConfig& config,
                        std::int64_t s) {
  const std::int64_t b = 3;
  auto hidden = torch::randn({b, s, config.hidden_size});
  auto mask = torch::ones({b, s}, torch::kLong);
  mask.index_put_({1, torch::indexing::Slice(5, torch::indexing::None)}, 0);  // 5 real tokens
  mask.index_put_({2, torch::indexing::Slice(2, torch::indexing::None)}, 0);  // 2 real tokens

  c10::Dict<std::string, torch::Tensor> input;
  input.insert("hidden", hidden);
  input.insert("mask", mask);
  input.insert("num_heads", torch::tensor(config.num_heads));
  input.insert("num_layers", torch::tensor(config.num_layers));
  input.insert("eps", torch::tensor(config.layer_norm_eps, torch::kDouble));
  for (const auto& item : model_ref.named_parameters()) {
    const std::string prefix = "bert.encoder.";
    if (item.key().rfind(prefix, 0) == 0) {
      input.insert(item.key().substr(prefix.size()), item.value().detach().clone());
    }
  }
  testing::TempDir dir;
  const auto in_path = dir.path() / "in.pt";
  const auto out_path = dir.path() / "out.pt";
  {
    auto bytes = torch::pickle_save(torch::IValue(input));
    std::ofstream(in_path, std::ios::binary).write(bytes.data(), bytes.size());
  }
  auto result = testing::RunProcess(
      "/usr/bin/python3",
      {std::string(JOULEBENCH_SOURCE_DIR) + "/tests/python/encoder_layer_reference.py",
       in_path.string(), out_path.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto expected = LoadTensor(out_path, "out");
  const auto hidden_before = hidden.clone();

  // Both ways of making Q, K and V, through both kernels of the dense layers where this
  // libtorch has oneDNN, and with oneDNN both ways of running a layer in inference: on
  // oneDNN primitives (OneDnnEncoderLayer) or op by op through libtorch.
  std::vector<LinearKernel> kernels{LinearKernel::kBlas};
  if (ResolveLinearKernel(LinearKernel::kAuto, "cpu", ComputeDtype::kFloat32) ==
      LinearKernel::kOneDnn) {
    kernels.push_back(LinearKernel::kOneDnn);
  }
  // One and two intra-op threads: with two, the oneDNN attentions spread their (sequence,
  // head) pairs over both.
  const int threads_before = IntraOpThreads();
  for (bool fused : {false, true}) {
    if (fused) model_ref.FuseForInference();
    for (LinearKernel kernel : kernels)
      for (bool primitives : {false, true})
        for (int threads : {1, 2}) {
          if (primitives && kernel != LinearKernel::kOneDnn) continue;
          model_ref.SetLinearKernel(kernel);
          model_ref.SetOneDnnPrimitives(primitives);
          SetIntraOpThreads(threads);
          const std::string variant = fmt::format(
              "{} QKV, {} kernel{}, {} thread(s)", fused ? "fused" : "separate",
              LinearKernelName(kernel), primitives ? " on oneDNN primitives" : "", threads);
          torch::NoGradGuard no_grad;
          // The variant under test is the one that runs.
          const bool expect_primitives = primitives && fused;
          EXPECT_EQ(
              model_ref.layers[0]->as<torch_impl::EncoderLayer>()->RunsOnOneDnnPrimitives(hidden),
              expect_primitives)
              << variant;
          auto actual = model_ref.EncodeHidden(hidden, mask);
          ASSERT_EQ(actual.sizes(), expected.sizes());
          const double max_diff = (actual - expected).abs().max().item<double>();
          EXPECT_LE(max_diff, 1e-4) << variant;
          // The input is left as it was (the primitives work in place on their own copy).
          EXPECT_TRUE(torch::equal(hidden, hidden_before)) << variant;
          // Padding must not leak into real tokens: row 2's real outputs equal a run without
          // it.
          auto short_row =
              model_ref.EncodeHidden(hidden.slice(0, 2, 3).slice(1, 0, 2), torch::Tensor());
          EXPECT_LE((short_row - actual.slice(0, 2, 3).slice(1, 0, 2)).abs().max().item<double>(),
                    1e-5)
              << variant;
        }
  }
  SetIntraOpThreads(threads_before);
}

TEST(EncoderLayers, MatchPyTorchTransformerEncoderLayerWithPadding) {
  ModelConfig config = FindModel("bert-tiny");
  // 9 tokens, and 130: long enough for the per-head oneDNN attention (kOneDnnAttentionMinSeqLen).
  for (const std::int64_t s : {std::int64_t{9}, std::int64_t{130}}) {
    SCOPED_TRACE(fmt::format("sequence length {}", s));
    torch::manual_seed(3);
    EncoderModel model(config, ModelHead::kNone);
    torch_impl::InitializeWeights(*model, 11);
    // Non-trivial LayerNorm parameters and biases, so that a swapped tensor shows.
    {
      torch::NoGradGuard no_grad;
      for (auto& p : model->parameters()) {
        if (p.dim() == 1) p.add_(torch::randn_like(p) * 0.1);
      }
    }
    model->eval();
    CompareWithPyTorch(*model, config, s);
  }
}

// Training through the oneDNN kernel: the same loss and gradients as through libtorch's
// BLAS path (autograd runs through oneDNN's own backward).
TEST(EncoderLayers, OneDnnKernelGivesTheBlasGradients) {
  if (ResolveLinearKernel(LinearKernel::kAuto, "cpu", ComputeDtype::kFloat32) !=
      LinearKernel::kOneDnn) {
    GTEST_SKIP() << "this libtorch has no oneDNN (MKL-DNN)";
  }
  ModelConfig config = FindModel("bert-tiny");
  EncoderModel model(config, ModelHead::kMaskedLm);
  torch_impl::InitializeWeights(*model, 4);
  model->eval();  // no dropout, so that both passes compute the same function
  torch::manual_seed(6);
  // 130 tokens: the per-head oneDNN attention too (kOneDnnAttentionMinSeqLen).
  auto ids = torch::randint(config.vocab_size, {2, 130}, torch::kLong);
  std::map<std::string, torch::Tensor> gradients[2];
  double losses[2];
  for (int i = 0; i < 2; ++i) {
    model->SetLinearKernel(i == 0 ? LinearKernel::kBlas : LinearKernel::kOneDnn);
    model->zero_grad();
    auto hidden = model->Encode(ids, torch::Tensor(), torch::Tensor(), torch::Tensor());
    auto logits = model->MaskedLmLogits(hidden.view({-1, config.hidden_size}));
    auto loss = torch::cross_entropy_loss(logits, ids.view({-1}));
    loss.backward();
    losses[i] = loss.item<double>();
    for (const auto& item : model->named_parameters()) {
      ASSERT_TRUE(item.value().grad().defined()) << item.key();
      gradients[i][item.key()] = item.value().grad().clone();
    }
  }
  EXPECT_NEAR(losses[0], losses[1], 1e-5);
  // Relative to each gradient's size; the key biases' gradients are zero in exact arithmetic
  // (softmax ignores a shift common to all keys), so both kernels give only rounding noise
  // there: hence the small absolute floor.
  for (const auto& [name, blas] : gradients[0]) {
    const double tolerance = 1e-4 * blas.abs().max().item<double>() + 1e-7;
    EXPECT_LE((gradients[1].at(name) - blas).abs().max().item<double>(), tolerance) << name;
  }
}

TEST(LayoutLMEmbeddings, EqualHandComputedSumOfTablesAndLayerNorm) {
  ModelConfig config = FindModel("layoutlm-tiny");
  EncoderModel model(config, ModelHead::kTokenClassification);
  torch_impl::InitializeWeights(*model, 5);
  {
    torch::NoGradGuard no_grad;
    auto& norm = model->embeddings->layer_norm;
    norm->weight.copy_(torch::linspace(0.5, 1.5, config.hidden_size));
    norm->bias.copy_(torch::linspace(-0.1, 0.1, config.hidden_size));
  }
  model->eval();
  DocumentGenerator generator({.seq_len = 16, .vocab_size = config.vocab_size, .seed = 9});
  DocumentBatch batch = generator.Next(2);
  auto ids = torch::tensor(batch.input_ids).view({2, 16});
  auto types = torch::zeros({2, 16}, torch::kLong);
  auto bbox = torch::tensor(batch.bbox).view({2, 16, 4});
  torch::NoGradGuard no_grad;
  auto actual = model->embeddings->forward(ids, types, bbox);

  auto& e = *model->embeddings;
  auto table = [](const torch::nn::Embedding& t) { return t->weight.to(torch::kDouble); };
  auto word = table(e.word_embeddings), pos = table(e.position_embeddings);
  auto type = table(e.token_type_embeddings), x = table(e.x_position_embeddings);
  auto y = table(e.y_position_embeddings), h = table(e.h_position_embeddings);
  auto w = table(e.w_position_embeddings);
  auto gamma = e.layer_norm->weight.to(torch::kDouble);
  auto beta = e.layer_norm->bias.to(torch::kDouble);
  double max_diff = 0;
  for (std::int64_t r = 0; r < 2; ++r) {
    for (std::int64_t t = 0; t < 16; ++t) {
      const std::int64_t* box = &batch.bbox[(r * 16 + t) * 4];
      auto sum = word[batch.input_ids[r * 16 + t]] + pos[t] + type[0] + x[box[0]] + y[box[1]] +
                 x[box[2]] + y[box[3]] + h[box[3] - box[1]] + w[box[2] - box[0]];
      const double mean = sum.mean().item<double>();
      const double var = (sum - mean).pow(2).mean().item<double>();
      auto expected = (sum - mean) / std::sqrt(var + config.layer_norm_eps) * gamma + beta;
      max_diff = std::max(max_diff,
                          (actual[r][t].to(torch::kDouble) - expected).abs().max().item<double>());
    }
  }
  EXPECT_LE(max_diff, 1e-5);
}

TEST(StateDict, SavedWeightsReloadIntoADifferentlySeededModel) {
  ModelConfig config = FindModel("layoutlm-tiny");
  testing::TempDir dir;
  const auto path = (dir.path() / "weights.pt").string();
  {
    EncoderModel source(config, ModelHead::kTokenClassification);
    torch_impl::InitializeWeights(*source, 1);
    source->SaveStateDict(path);
  }
  DocumentGenerator generator({.seq_len = 12, .vocab_size = config.vocab_size, .seed = 2});
  DocumentBatch batch = generator.Next(2);
  EncoderInference from_file(config, {.seed = 99, .weights_path = path});
  EncoderInference original(config, {.seed = 1});
  EncoderInference other(config, {.seed = 99});
  auto a = from_file.RunAndFetch(batch);
  auto b = original.RunAndFetch(batch);
  auto c = other.RunAndFetch(batch);
  ASSERT_EQ(a.size(), static_cast<std::size_t>(2 * 12 * config.num_labels));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(StateDict, LoadsADictSavedByPythonTorchSave) {
  ModelConfig config = FindModel("bert-tiny");
  testing::TempDir dir;
  const auto cpp_path = (dir.path() / "cpp.pt").string();
  const auto python_path = (dir.path() / "python.pt").string();
  {
    EncoderModel source(config, ModelHead::kNone);
    torch_impl::InitializeWeights(*source, 21);
    source->SaveStateDict(cpp_path);
  }
  auto result = testing::RunProcess("/usr/bin/python3", {std::string(JOULEBENCH_SOURCE_DIR) +
                                                             "/tests/python/resave_state_dict.py",
                                                         cpp_path, python_path});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  DocumentGenerator generator({.seq_len = 10, .vocab_size = config.vocab_size, .seed = 2});
  DocumentBatch batch = generator.Next(2);
  auto from_python = EncoderInference(config, {.seed = 5, .weights_path = python_path});
  auto original = EncoderInference(config, {.seed = 21});
  EXPECT_EQ(from_python.RunAndFetch(batch), original.RunAndFetch(batch));

  // state_dict()'s own OrderedDict: libtorch 1.13 cannot unpickle it; the error says what to do.
  result = testing::RunProcess("/usr/bin/python3", {std::string(JOULEBENCH_SOURCE_DIR) +
                                                        "/tests/python/resave_state_dict.py",
                                                    "--ordered", cpp_path, python_path});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  try {
    EncoderInference(config, {.weights_path = python_path});
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dict(model.state_dict())"), std::string::npos);
  }
}

TEST(StateDict, MismatchedFileNamesMissingAndUnexpectedKeys) {
  testing::TempDir dir;
  const auto path = (dir.path() / "bert.pt").string();
  {
    EncoderModel bert(FindModel("bert-tiny"), ModelHead::kNone);
    bert->SaveStateDict(path);
  }
  try {
    EncoderInference layoutlm(FindModel("layoutlm-tiny"), {.weights_path = path});
    FAIL() << "loaded a BERT state dict into LayoutLM";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("missing keys: "), std::string::npos) << what;
    EXPECT_NE(what.find("layoutlm.embeddings.x_position_embeddings.weight"), std::string::npos)
        << what;
    EXPECT_NE(what.find("unexpected keys: bert.embeddings"), std::string::npos) << what;
  }
}

TEST(StateDict, FileThatIsNotAPickleIsAnInputError) {
  testing::TempDir dir;
  const auto path = dir.Write("junk.pt", "this is not a zip archive").string();
  EXPECT_THROW(EncoderInference(FindModel("bert-tiny"), {.weights_path = path}), InputError);
  EXPECT_THROW(EncoderInference(FindModel("bert-tiny"), {.weights_path = path + ".absent"}),
               InputError);
}

TEST(EncoderInference, CudaWithoutCudaIsAnEnvironmentError) {
  if (CudaAvailable()) GTEST_SKIP() << "a GPU is present";
  EXPECT_THROW(EncoderInference(FindModel("bert-tiny"), {.device = "cuda"}), EnvironmentError);
  EXPECT_THROW(EncoderInference(FindModel("bert-tiny"), {.device = "gpu0"}), InputError);
}

TEST(EncoderInference, Bf16OutputStaysCloseToFp32) {
  ModelConfig config = FindModel("bert-tiny");
  DocumentGenerator generator({.seq_len = 16, .vocab_size = config.vocab_size, .seed = 4});
  DocumentBatch batch = generator.Next(2);
  auto fp32 = EncoderInference(config, {}).RunAndFetch(batch);
  auto bf16 = EncoderInference(config, {.dtype = ComputeDtype::kBFloat16}).RunAndFetch(batch);
  ASSERT_EQ(fp32.size(), bf16.size());
  double max_diff = 0;
  for (std::size_t i = 0; i < fp32.size(); ++i) {
    max_diff = std::max<double>(max_diff, std::abs(fp32[i] - bf16[i]));
  }
  EXPECT_GT(max_diff, 0.0);   // it did compute in bf16
  EXPECT_LT(max_diff, 0.25);  // LayerNorm outputs are O(1); bf16 keeps ~3 significant digits
}

TEST(EncoderInference, SequenceLongerThanPositionsIsAnInputError) {
  ModelConfig config = FindModel("bert-tiny");
  EncoderInference model(config, {});
  DocumentGenerator generator({.seq_len = 513, .vocab_size = config.vocab_size});
  EXPECT_THROW(model.Run(generator.Next(1)), InputError);
}

}  // namespace
}  // namespace joulebench::workloads
