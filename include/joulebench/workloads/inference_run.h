// `joulebench infer` as a library function: a built-in encoder or a user's TorchScript
// model becomes a system under test of the load generator (dynamic batching), the sampler
// meters the machine while it runs, and the result is a run record.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"
#include "joulebench/load/test_settings.h"
#include "joulebench/run/run_observer.h"
#include "joulebench/run/run_record.h"
#include "joulebench/sampling/meter.h"
#include "joulebench/workloads/dynamic_batching_sut.h"
#include "joulebench/workloads/torch_runtime.h"

namespace joulebench::workloads {

struct InferenceRunOptions {
  // A built-in model name (KnownModels()) or the path of a TorchScript file.
  std::string model = "layoutlm-base";
  std::vector<std::string> input_specs;  // TorchScript only: "name:dtype[shape]" per argument
  TorchOptions torch;
  std::int64_t seq_len = 512;            // built-in models: tokens per document, 3..512
  // Batching: offline and server batch up to max_batch (server also waits up to max_delay);
  // single-stream always runs batches of one.
  DynamicBatchingOptions batching;
  std::size_t sample_count = 256;        // distinct synthetic documents
  load::TestSettings settings;           // scenario, rate, latency bound, durations
  bool find_peak = false;                // server: search the highest valid rate
  load::PeakSearchSettings peak_search;
  std::optional<std::chrono::nanoseconds> baseline;  // idle power measured first
  energy::SourceOptions sources;
  sampling::MeterOptions meter;
  // Measure this machine's GEMM peak (same device, dtype, threads) before the run, for the
  // fraction-of-peak metric. 0 = skip.
  std::chrono::nanoseconds gemm_peak_duration = std::chrono::seconds(1);
  // Power at partial load: after the peak is known (find_peak, else the server rate given,
  // else the measured throughput), mean power at each fraction of it (0..1; 0 = idle for
  // settings.min_duration_ms), each in steady state, into record.power_curve. Empty = skip.
  std::vector<double> load_levels;
  // Told about the run as it happens (storing, progress, stop requests); nullptr = none.
  // A stop request ends the run early with status incomplete and what was measured.
  run::RunObserver* observer = nullptr;
};

// Throws InputError / EnvironmentError before anything runs when the options, model or
// device are unusable. An INVALID run is a result, not an error.
run::RunRecord RunInference(const InferenceRunOptions& options);

}  // namespace joulebench::workloads
