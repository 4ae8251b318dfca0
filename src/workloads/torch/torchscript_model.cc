#include "joulebench/workloads/torchscript_model.h"

#include <fmt/format.h>
#include <torch/script.h>

#include <filesystem>

#include "joulebench/error.h"
#include "workloads/torch/torch_util.h"

namespace joulebench::workloads {

struct TorchScriptModel::Impl {
  torch::jit::Module module;
  std::vector<torch::jit::IValue> inputs;
  std::vector<std::string> argument_names;
  torch::Device device{torch::kCPU};
  std::string path;
};

namespace {

torch::ScalarType SpecType(const std::string& dtype) {
  if (dtype == "int64") return torch::kLong;
  if (dtype == "int32") return torch::kInt;
  if (dtype == "float32") return torch::kFloat;
  if (dtype == "float16") return torch::kHalf;
  if (dtype == "bfloat16") return torch::kBFloat16;
  return torch::kBool;
}

// The informative line of a libtorch / TorchScript error: TorchScript wraps the cause
// ("RuntimeError: ...") after a traceback of the scripted code.
std::string KeyLine(const std::string& message) {
  std::string best;
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    const std::string line = message.substr(start, end - start);
    if (best.empty() && !line.empty()) best = line;
    if (line.find("Error: ") != std::string::npos) best = line;
    start = end + 1;
  }
  return best.substr(0, 240);
}

std::string FirstLine(const c10::Error& e) { return KeyLine(e.what_without_backtrace()); }

}  // namespace

TorchScriptModel::TorchScriptModel(const std::string& path, const std::vector<InputSpec>& inputs,
                                   const TorchOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw InputError(fmt::format(
        "--model: '{}' is neither a built-in model nor an existing file; built-in models are "
        "listed by 'joulebench infer --list-models'",
        path));
  }
  const std::string device = CheckDevice(options.device);
  SetIntraOpThreads(options.threads);
  KeepFreedHostMemory();
  impl_->device = torch_impl::ToDevice(device);
  try {
    impl_->module = torch::jit::load(path, impl_->device);
  } catch (const c10::Error& e) {
    throw InputError(fmt::format(
        "--model: '{}' is not a TorchScript file ({}); save one with "
        "torch.jit.script(model).save(path) or torch.jit.trace(...).save(path)",
        path, FirstLine(e)));
  }
  impl_->module.eval();
  auto method = impl_->module.find_method("forward");
  if (!method) throw InputError(fmt::format("--model: '{}' has no forward method", path));
  const auto& arguments = method->function().getSchema().arguments();
  for (std::size_t i = 1; i < arguments.size(); ++i) {
    impl_->argument_names.push_back(arguments[i].name());
  }
  std::string wanted;
  for (const auto& n : impl_->argument_names) wanted += (wanted.empty() ? "" : ", ") + n;
  if (inputs.size() != impl_->argument_names.size()) {
    throw InputError(fmt::format(
        "--input: {} spec(s) given but '{}' takes forward({}); give one --input per argument",
        inputs.size(), path, wanted));
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].name != impl_->argument_names[i]) {
      throw InputError(fmt::format(
          "--input '{}': argument {} of forward({}) is '{}'; give the specs in that order",
          inputs[i].name, i + 1, wanted, impl_->argument_names[i]));
    }
  }
  torch::manual_seed(options.seed);
  torch_impl::Guarded("making inputs", [&] {
    for (const auto& spec : inputs) {
      const auto type = SpecType(spec.dtype);
      auto tensor_options = torch::TensorOptions().dtype(type);
      torch::Tensor t;
      if (type == torch::kBool) {
        t = torch::ones(spec.shape, tensor_options);
      } else if (c10::isIntegralType(type, false)) {
        t = torch::randint(0, 100, spec.shape, tensor_options);
      } else {
        t = torch::randn(spec.shape, torch::kFloat).to(type);
      }
      impl_->inputs.emplace_back(t.to(impl_->device));
    }
  });
  try {
    Run();
  } catch (const RuntimeError& e) {
    throw InputError(fmt::format("--input: the specs do not fit '{}': {}", path, e.what()));
  }
}

TorchScriptModel::~TorchScriptModel() = default;

void TorchScriptModel::Run() {
  try {
    c10::InferenceMode inference;
    impl_->module.forward(impl_->inputs);
    torch_impl::Synchronize(impl_->device);
  } catch (const c10::Error& e) {
    throw RuntimeError(fmt::format("running '{}': {}", impl_->path, FirstLine(e)));
  } catch (const std::exception& e) {
    // TorchScript raises its own exception types (e.g. torch::jit::JITException).
    throw RuntimeError(fmt::format("running '{}': {}", impl_->path, KeyLine(e.what())));
  }
}

const std::vector<std::string>& TorchScriptModel::argument_names() const {
  return impl_->argument_names;
}

}  // namespace joulebench::workloads
