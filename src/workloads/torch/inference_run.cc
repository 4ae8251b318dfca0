// Torch-free orchestration (lives here because it drives the libtorch workloads).
#include "joulebench/workloads/inference_run.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

#include "joulebench/error.h"
#include "joulebench/load/loadgen.h"
#include "joulebench/load/observer_hooks.h"
#include "joulebench/sampling/cpu_share.h"
#include "joulebench/workloads/encoder_inference.h"
#include "joulebench/workloads/gemm_peak.h"
#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/synthetic_documents.h"
#include "joulebench/workloads/torchscript_model.h"
#include "report/energy_report_format.h"
#include "workloads/torch/run_metrics.h"

namespace joulebench::workloads {
namespace {

bool IsBuiltin(const std::string& name) {
  for (const auto& m : KnownModels()) {
    if (m.name == name) return true;
  }
  return false;
}

// Copies the chosen documents' rows into one batch.
DocumentBatch Gather(const DocumentBatch& pool, std::span<const load::SampleIndex> samples) {
  DocumentBatch batch;
  const std::int64_t s = pool.seq_len;
  batch.batch_size = static_cast<std::int64_t>(samples.size());
  batch.seq_len = s;
  for (load::SampleIndex index : samples) {
    const auto row = static_cast<std::int64_t>(index % static_cast<std::uint64_t>(pool.batch_size));
    auto append = [&](std::vector<std::int64_t>& to, const std::vector<std::int64_t>& from,
                      std::int64_t width) {
      to.insert(to.end(), from.begin() + row * width, from.begin() + (row + 1) * width);
    };
    append(batch.input_ids, pool.input_ids, s);
    append(batch.token_type_ids, pool.token_type_ids, s);
    append(batch.attention_mask, pool.attention_mask, s);
    append(batch.bbox, pool.bbox, s * 4);
    batch.lengths.push_back(pool.lengths[row]);
  }
  return batch;
}

// Process CPU seconds per inference, and the share of the machine's CPU time that other
// processes used: on a shared machine they stretch wall-clock throughput and latency, while
// the CPU time per inference (at one intra-op thread) barely moves.
void AddCpuTimeMetrics(run::RunRecord& record, const sampling::CpuShareWindow& w,
                       std::uint64_t inferences, int threads) {
  if (w.duration_s <= 0 || inferences == 0) return;
  const std::string provenance =
      "measured: /proc/self/stat utime+stime (all threads) over the measurement window";
  AddMetric(record, "process_cpu_time", w.self_cpu_s, "s", provenance);
  AddMetric(record, "cpu_time_per_inference", w.self_cpu_s / static_cast<double>(inferences), "s",
            provenance);
  if (w.machine_cpu_s <= 0) return;
  const double others =
      std::clamp((w.machine_busy_cpu_s - w.self_cpu_s) / w.machine_cpu_s, 0.0, 1.0);
  AddMetric(record, "other_processes_cpu_share", others, "1",
            "measured: /proc/stat busy time less this process's, over every CPU's time in the "
            "measurement window");
  if (others > 0.1) {
    std::string hint;
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    if (threads > 1 && (policy == nullptr || std::string_view(policy) != "passive")) {
      // An intra-op thread that reaches a barrier spins (libgomp: up to ~300,000 pauses) while
      // its partner is descheduled: on a busy machine each thread loses its time slices to
      // the other's absence (measured here: bert-base's 12 layers at batch 1 and 2 threads
      // ran 3.7x slower spinning than waiting passively, while 20 other processes ran).
      hint =
          "; with several --threads on a shared machine, OMP_WAIT_POLICY=passive stops "
          "waiting threads from spinning through their partners' preemption";
    }
    record.warnings.push_back(fmt::format(
        "other processes used {:.0f} % of the machine's CPU time during the measurement: "
        "throughput and latency are those of a shared machine (cpu_time_per_inference is "
        "less affected){}",
        others * 100, hint));
  }
}

}  // namespace

run::RunRecord RunInference(const InferenceRunOptions& options) {
  run::RunRecord record;
  record.kind = "infer";
  record.name = options.model;
  load::Validate(options.settings);
  const bool builtin = IsBuiltin(options.model);
  if (!builtin && options.model.find('/') == std::string::npos &&
      options.model.find(".pt") == std::string::npos) {
    FindModel(options.model);  // throws naming the known models
  }
  if (options.sample_count < 1) throw InputError("--samples must be at least 1");

  // Build the model first: every input problem surfaces before anything is measured.
  std::unique_ptr<EncoderInference> encoder;
  std::unique_ptr<TorchScriptModel> script;
  DocumentBatch pool;
  double flops_per_sample = 0;
  std::string model_description;
  if (builtin) {
    if (!options.input_specs.empty()) {
      throw InputError("--input applies only to TorchScript models (--model path.pt)");
    }
    const ModelConfig config = FindModel(options.model);
    if (options.seq_len < 3 || options.seq_len > config.max_positions) {
      throw InputError(fmt::format("--seq-len: {} is out of range for {}: 3..{} positions",
                                   options.seq_len, config.name, config.max_positions));
    }
    if (options.batching.max_batch > 4096) {
      throw InputError(fmt::format("--batch: {} is out of range: 1..4096",
                                   options.batching.max_batch));
    }
    encoder = std::make_unique<EncoderInference>(config, options.torch);
    DocumentGenerator documents({.seq_len = options.seq_len,
                                 .vocab_size = config.vocab_size,
                                 .seed = options.torch.seed});
    pool = documents.Next(static_cast<std::int64_t>(options.sample_count));
    const load::SampleIndex first = 0;
    encoder->Run(Gather(pool, {&first, 1}));  // warm-up and shape check
    flops_per_sample = EncoderForwardFlops(config, options.seq_len);
    model_description = fmt::format("{} ({} parameters)", config.name, encoder->parameter_count());
  } else {
    std::vector<InputSpec> specs;
    for (const auto& text : options.input_specs) specs.push_back(ParseInputSpec(text));
    if (specs.empty()) {
      throw InputError(fmt::format(
          "--model '{}' is a TorchScript file: describe its inputs with --input "
          "name:dtype[shape], one per forward() argument",
          options.model));
    }
    script = std::make_unique<TorchScriptModel>(options.model, specs, options.torch);
    model_description = "TorchScript " + std::filesystem::path(options.model).filename().string();
  }

  std::optional<GemmPeak> gemm;
  if (options.gemm_peak_duration.count() > 0) {
    gemm = MeasureGemmPeak({.torch = options.torch, .duration = options.gemm_peak_duration});
  }

  DynamicBatchingOptions batching = options.batching;
  if (options.settings.scenario == load::Scenario::kSingleStream || script) batching.max_batch = 1;
  if (options.settings.scenario != load::Scenario::kServer) batching.max_delay = {};
  const int threads = options.torch.threads;
  DynamicBatchingSut sut(
      model_description, batching,
      [&](std::span<const load::SampleIndex> samples) {
        if (encoder) {
          encoder->Run(Gather(pool, samples));
        } else {
          for (std::size_t i = 0; i < samples.size(); ++i) script->Run();
        }
      },
      [threads] { SetIntraOpThreads(threads); });
  load::SyntheticSampleLibrary library(options.sample_count);

  if (options.find_peak && options.settings.scenario != load::Scenario::kServer) {
    throw InputError("--find-peak applies to the server scenario (--scenario server)");
  }
  record.config["workload"] = {
      {"model", options.model},
      {"description", model_description},
      {"seq_len", options.seq_len},
      {"max_batch", batching.max_batch},
      {"max_delay_s", std::chrono::duration<double>(batching.max_delay).count()},
      {"input_specs", options.input_specs},
      {"samples", options.sample_count},
  };
  if (!options.load_levels.empty()) record.config["load_levels"] = options.load_levels;
  AddTorchConfig(record, options.torch);

  RunMeter meter(options.sources, options.meter);
  record.start_unix_s = meter.start_unix_s();
  run::RunObserver no_observer;
  run::RunObserver& observer = options.observer != nullptr ? *options.observer : no_observer;
  const load::ObserverHooks hooks(options.observer);
  load::TestSettings settings = options.settings;
  load::PeakSearchSettings peak_search = options.peak_search;
  hooks.Connect(settings, &peak_search);
  observer.OnBegin(record, meter.meter());
  // Ends the run early (stop request) or normally: status, timeline, observers.
  auto finish = [&] {
    record.status = run::RunStatus::kComplete;
    if (hooks.StopRequested()) {
      record.status = run::RunStatus::kIncomplete;
      record.warnings.push_back("stopped on request (SIGINT/SIGTERM): results are partial");
    }
    meter.Finish(record);
    observer.OnEnd(record);
  };
  if (options.baseline) {
    hooks.Phase("baseline", std::chrono::duration<double>(*options.baseline).count());
    record.energy.push_back(meter.MeasureBaseline(*options.baseline));
  }
  const load::PowerSignal power = meter.power_signal();

  // This process's CPU time (every thread) and the machine's, sampled by a thread of its
  // own, to report the CPU cost of an inference and how much of the machine other processes
  // took during the measurement.
  std::optional<sampling::CpuShareSampler> cpu_time;
  try {
    cpu_time.emplace(sampling::CpuShareOptions{.pid = static_cast<int>(getpid())});
    cpu_time->Start();
  } catch (const InputError&) {
    cpu_time.reset();  // no /proc: the run goes on without CPU-time metrics
  }

  load::ScenarioResult result;
  double peak_qps = 0;
  if (options.find_peak) {
    load::ServerPeakResult peak =
        load::FindServerPeak(sut, library, settings, peak_search, power);
    for (const auto& p : peak.probes) {
      record.peak_probes.push_back({p.rate_per_s, static_cast<double>(p.latency_percentile_ns) / 1e9,
                                    p.valid});
    }
    if (!peak.found || !peak.peak_run) {
      record.verdict = "INVALID";
      record.verdict_reasons.push_back(fmt::format(
          "no rate met the latency bound, not even the first probe at {}/s",
          options.peak_search.start_qps));
      finish();
      return record;
    }
    result = *peak.peak_run;
    peak_qps = peak.peak_qps;
  } else {
    hooks.Phase(std::string(load::ScenarioName(settings.scenario)));
    result = load::RunScenario(sut, library, settings, power);
    peak_qps = settings.scenario == load::Scenario::kServer ? settings.server_target_qps
                                                             : result.throughput_per_s;
  }
  load::FillRunRecord(result, record);
  if (cpu_time) {
    cpu_time->Stop();
    AddCpuTimeMetrics(
        record,
        cpu_time->Window(result.measurement_begin_steady_s, result.measurement_end_steady_s),
        result.measured_query_count, options.torch.threads);
  }
  sampling::EnergyReport energy =
      meter.Report(result.measurement_begin_steady_s, result.measurement_end_steady_s);
  energy.name = "measurement";

  const double per_hour = result.throughput_per_s * 3600.0;
  const std::string load_provenance = "measured: joulebench load generator";
  AddMetric(record, "throughput_per_hour", per_hour, "1/h", load_provenance);
  AddEnergyPerUnitMetrics(record, energy, static_cast<double>(result.measured_query_count),
                          "energy_per_inference");
  if (flops_per_sample > 0) {
    AddFlopsMetrics(record, result.throughput_per_s * flops_per_sample, flops_per_sample,
                    "inference", gemm);
  }
  if (sut.failed_batches() > 0) {
    record.warnings.push_back(fmt::format("{} batch(es) failed; the first: {}",
                                          sut.failed_batches(), sut.first_error()));
  }
  record.energy.push_back(std::move(energy));
  observer.OnPartial(record);

  if (!options.load_levels.empty() && !hooks.StopRequested()) {
    if (!power) {
      throw EnvironmentError("--load-levels measures power and no energy source is available "
                             "(see 'joulebench probe')");
    }
    load::LoadLevelSettings levels;
    levels.idle_duration_ms = settings.min_duration_ms;
    std::vector<std::string> invalid;
    record.config["load_levels_peak_per_s"] = peak_qps;
    // One level at a time, so that each is announced and stored as soon as it is measured.
    for (double level : options.load_levels) {
      if (hooks.StopRequested()) break;
      hooks.Phase(fmt::format("load level {:g} %", level * 100));
      levels.load_fractions = {level};
      for (auto& p : load::MeasurePowerAtLoadLevels(sut, library, settings, peak_qps, levels,
                                                    power, &invalid)) {
        record.power_curve.push_back(std::move(p));
      }
      observer.OnPartial(record);
    }
    for (auto& i : invalid) record.warnings.push_back("load level " + i);
  }
  finish();
  return record;
}

}  // namespace joulebench::workloads
