// A built-in encoder (BERT or LayoutLM) ready to serve: weights initialised or loaded, on
// its device and dtype, in inference mode. Torch-free interface over the libtorch model.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/synthetic_documents.h"
#include "joulebench/workloads/torch_runtime.h"

namespace joulebench::workloads {

class EncoderInference {
 public:
  // Builds the model: BERT returns the encoder's hidden states, LayoutLM adds its
  // token-classification head. Throws InputError (bad weights file, bad options),
  // EnvironmentError (device). Sets this thread's intra-op threads.
  EncoderInference(const ModelConfig& config, const TorchOptions& options);
  ~EncoderInference();
  EncoderInference(const EncoderInference&) = delete;
  EncoderInference& operator=(const EncoderInference&) = delete;

  // One forward pass over the whole padded batch (batch_size x seq_len, seq_len <=
  // max_positions); returns once the results exist (device synchronised). Thread-compatible:
  // one caller at a time. Throws InputError on shapes the model cannot take.
  void Run(const DocumentBatch& batch);
  // As Run, and returns the output (hidden states [B, S, H] for BERT, logits [B, S, labels]
  // for LayoutLM) as fp32, row-major. For tests and checks. With int8 dense layers, throws
  // RuntimeError unless every quantized layer ran.
  std::vector<float> RunAndFetch(const DocumentBatch& batch);

  // FLOPs of one Run over `batch_size` rows of `seq_len` tokens (padding included: it is
  // computed).
  double FlopsPerRun(std::int64_t batch_size, std::int64_t seq_len) const;
  const ModelConfig& config() const;
  const TorchOptions& options() const;  // device canonicalised
  std::int64_t parameter_count() const;
  // Dense layers quantized to int8 (options().quantization); 0 when none.
  std::size_t int8_layer_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::workloads
