#include <fmt/format.h>

#include "joulebench/error.h"
#include "joulebench/workloads/torch_runtime.h"
#include "workloads/torch/int8_dense_layers.h"

namespace joulebench::workloads {

void ApplyInferenceDtype(std::string_view text, TorchOptions& options) {
  if (text == "int8" || text == "qint8") {
    options.dtype = ComputeDtype::kFloat32;
    options.quantization = DenseQuantization::kDynamicInt8;
    return;
  }
  if (text != "fp32" && text != "float32" && text != "bf16" && text != "bfloat16") {
    throw InputError(fmt::format("--dtype: '{}' is not supported; use fp32, bf16 or int8", text));
  }
  options.dtype = ParseComputeDtype(text);
  options.quantization = DenseQuantization::kNone;
}

std::string_view InferenceDtypeName(const TorchOptions& options) {
  if (options.quantization == DenseQuantization::kDynamicInt8) return "int8";
  return ComputeDtypeName(options.dtype);
}

std::string QuantizedEngine() { return torch_impl::QuantizedEngineName(); }

}  // namespace joulebench::workloads
