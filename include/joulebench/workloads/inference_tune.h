// `joulebench tune infer` as a library function: the serving configuration of a model that
// uses the least energy per inference at its VALID peak rate under a latency bound.
//
// Knobs: dynamic batching (most documents per batch, longest wait for a batch to fill),
// libtorch intra-op threads, dtype (fp32; bf16 where the CPU runs it natively or on a GPU;
// int8 dynamic quantization of the dense layers on the CPU) and, on NVIDIA GPUs where NVML
// permits it, the power limit. Each probe is a server-scenario peak search through the same
// code as `infer --find-peak`, metered by one sampler for the whole search; the search
// (tune/search.h) screens one knob at a time, then measures the best configurations longer
// (successive halving) within a time budget. The result is one run record of kind "tune":
// every probe (run::TuneProbe), the chosen configuration's figures as its metrics (what
// `plan infer` reads from `run=ID`), the default configuration's, and their ratio.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/run/run_record.h"
#include "joulebench/tune/search.h"
#include "joulebench/workloads/inference_run.h"

namespace joulebench::workloads {

struct InferenceTuneOptions {
  // Model, sequence length, documents, seed / weights / device / linear kernel (base.torch),
  // the latency bound (base.settings.server_target_latency_ns, p99), energy sources, meter,
  // idle baseline, observer. Batching, threads, dtype and the scenario are the search's.
  InferenceRunOptions base;

  // Values of each knob; empty = the defaults for this machine (docs/tune.md): batches
  // 1, 2, 4, 8, 16; delays 0 and a tenth of the latency bound; threads 1, 2, 4... up to the
  // CPUs; dtypes fp32, bf16 (where native), int8 (CPU, built-in models).
  std::vector<std::int64_t> batches;
  std::vector<std::chrono::nanoseconds> delays;
  std::vector<int> threads;
  std::vector<std::string> dtypes;
  // GPU power limits in watts. nullopt: automatic (on a CUDA device, four levels from the
  // maximum down to 55 % of it, when NVML permits setting them); empty: not searched.
  std::optional<std::vector<double>> power_limits_w;
  unsigned int gpu_index = 0;  // the GPU whose limit is tuned (the model's, on CUDA)

  tune::SearchSettings search;  // budget, finalists, rungs
  // Least measured time of each peak-search step at rung 0 (rung r: times eta^r).
  std::chrono::nanoseconds probe_duration = std::chrono::seconds(2);
  std::uint64_t probe_min_queries = 50;  // least measured queries of each step
  // Throughput and power windows of the probes, their steady-state test and its longest wait.
  std::chrono::nanoseconds probe_window = std::chrono::milliseconds(500);
  int probe_steady_windows = 3;
  std::chrono::nanoseconds probe_max_warmup = std::chrono::seconds(20);
  // Documents whose outputs are compared with fp32 for bf16 and int8.
  std::int64_t accuracy_documents = 8;
  std::string procfs_root = "/proc";  // where cpuinfo's flags are read
};

// Throws InputError / EnvironmentError before measuring when the options, model or device are
// unusable. A search that finds no VALID configuration is an INVALID result, not an error.
run::RunRecord RunInferenceTune(const InferenceTuneOptions& options);

// The name `tune` gives a configuration: "fp32 t1 b8 d5ms", "int8 t2 b1 d0 250W".
std::string InferenceConfigurationName(const tune::Configuration& config);

}  // namespace joulebench::workloads
