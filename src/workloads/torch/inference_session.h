// What `infer` does between building a model and finishing its run, in pieces, so that `tune`
// measures many serving configurations of one built model on one meter through the same code
// as `infer` (internal; torch-free).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/load/observer_hooks.h"
#include "joulebench/load/query_sample_library.h"
#include "joulebench/run/run_record.h"
#include "joulebench/workloads/dynamic_batching_sut.h"
#include "joulebench/workloads/gemm_peak.h"
#include "joulebench/workloads/inference_run.h"
#include "workloads/torch/run_metrics.h"

namespace joulebench::workloads {

class InferenceSession {
 public:
  // Builds the model (built-in or TorchScript, options.torch) and the synthetic documents,
  // and runs one warm-up batch. Every input problem surfaces here: InputError /
  // EnvironmentError before anything is measured.
  explicit InferenceSession(const InferenceRunOptions& options);
  ~InferenceSession();
  InferenceSession(const InferenceSession&) = delete;
  InferenceSession& operator=(const InferenceSession&) = delete;

  bool builtin() const;
  const std::string& model_description() const;
  double flops_per_sample() const;  // 0 for TorchScript models

  // The batching a run with these options uses (single-stream and TorchScript: batches of
  // one; no delay outside the server scenario).
  DynamicBatchingOptions EffectiveBatching(const InferenceRunOptions& options) const;
  // record.config: workload (model, batching, sequence) and torch (device, dtype, threads).
  void Describe(const InferenceRunOptions& options, run::RunRecord& record) const;
  // A system under test that runs this model with the given batching, its worker on
  // `threads` intra-op threads.
  std::unique_ptr<DynamicBatchingSut> MakeSut(const DynamicBatchingOptions& batching, int threads);
  load::QuerySampleLibrary& library();

  // Runs options.settings' scenario, or the server peak search when options.find_peak, on
  // `sut` with energy from `meter`, and fills `record`: verdict, windows, latency, peak
  // probes, metrics (throughput, energy per inference, FLOP/s against `gemm` when given) and
  // the energy report "measurement". Returns the rate load levels refer to (the peak, the
  // server rate, or the measured throughput), or nullopt when the peak search found no valid
  // rate (record INVALID, nothing measured).
  std::optional<double> Measure(const InferenceRunOptions& options, DynamicBatchingSut& sut,
                                const RunMeter& meter, const load::ObserverHooks& hooks,
                                const std::optional<GemmPeak>& gemm, run::RunRecord& record);

  // Wall time of one model run over `batch` documents on this thread with `threads` intra-op
  // threads (the median of three runs over different documents), e.g. to choose where a peak
  // search starts. The thread's intra-op threads are restored afterwards.
  double SecondsPerBatch(std::int64_t batch, int threads);

  // Built-in models: the outputs for the first `documents` synthetic documents (fp32, rows
  // of row_width values: one per token) and a mask of the rows that are real tokens.
  struct Outputs {
    std::vector<float> values;
    std::int64_t row_width = 0;
    std::vector<std::int64_t> row_mask;
  };
  Outputs RunAndFetch(std::int64_t documents);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::workloads
