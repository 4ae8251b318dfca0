// Torch-free orchestration (lives here because it drives the libtorch workloads).
#include "workloads/torch/inference_session.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "joulebench/error.h"
#include "joulebench/load/loadgen.h"
#include "joulebench/sampling/cpu_share.h"
#include "joulebench/workloads/encoder_inference.h"
#include "joulebench/workloads/model_config.h"
#include "joulebench/workloads/synthetic_documents.h"
#include "joulebench/workloads/torchscript_model.h"

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
  if (auto warning = SharedMachineWarning(others, threads, "throughput and latency",
                                          "cpu_time_per_inference")) {
    record.warnings.push_back(std::move(*warning));
  }
}

}  // namespace

struct InferenceSession::Impl {
  std::unique_ptr<EncoderInference> encoder;
  std::unique_ptr<TorchScriptModel> script;
  DocumentBatch pool;
  double flops_per_sample = 0;
  std::string model_description;
  std::unique_ptr<load::SyntheticSampleLibrary> library;
};

InferenceSession::InferenceSession(const InferenceRunOptions& options)
    : impl_(std::make_unique<Impl>()) {
  const bool builtin = IsBuiltin(options.model);
  if (!builtin && options.model.find('/') == std::string::npos &&
      options.model.find(".pt") == std::string::npos) {
    FindModel(options.model);  // throws naming the known models
  }
  if (options.sample_count < 1) throw InputError("--samples must be at least 1");
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
      throw InputError(
          fmt::format("--batch: {} is out of range: 1..4096", options.batching.max_batch));
    }
    impl_->encoder = std::make_unique<EncoderInference>(config, options.torch);
    DocumentGenerator documents(
        {.seq_len = options.seq_len, .vocab_size = config.vocab_size, .seed = options.torch.seed});
    impl_->pool = documents.Next(static_cast<std::int64_t>(options.sample_count));
    const load::SampleIndex first = 0;
    impl_->encoder->Run(Gather(impl_->pool, {&first, 1}));  // warm-up and shape check
    impl_->flops_per_sample = EncoderForwardFlops(config, options.seq_len);
    impl_->model_description =
        fmt::format("{} ({} parameters)", config.name, impl_->encoder->parameter_count());
  } else {
    if (options.torch.quantization != DenseQuantization::kNone) {
      throw InputError("--dtype int8 applies to the built-in models, not to TorchScript files");
    }
    std::vector<InputSpec> specs;
    for (const auto& text : options.input_specs) specs.push_back(ParseInputSpec(text));
    if (specs.empty()) {
      throw InputError(
          fmt::format("--model '{}' is a TorchScript file: describe its inputs with --input "
                      "name:dtype[shape], one per forward() argument",
                      options.model));
    }
    impl_->script = std::make_unique<TorchScriptModel>(options.model, specs, options.torch);
    impl_->model_description =
        "TorchScript " + std::filesystem::path(options.model).filename().string();
  }
  impl_->library = std::make_unique<load::SyntheticSampleLibrary>(options.sample_count);
}

InferenceSession::~InferenceSession() = default;

bool InferenceSession::builtin() const { return impl_->encoder != nullptr; }
const std::string& InferenceSession::model_description() const { return impl_->model_description; }
double InferenceSession::flops_per_sample() const { return impl_->flops_per_sample; }
load::QuerySampleLibrary& InferenceSession::library() { return *impl_->library; }

DynamicBatchingOptions InferenceSession::EffectiveBatching(
    const InferenceRunOptions& options) const {
  DynamicBatchingOptions batching = options.batching;
  if (options.settings.scenario == load::Scenario::kSingleStream || impl_->script) {
    batching.max_batch = 1;
  }
  if (options.settings.scenario != load::Scenario::kServer) batching.max_delay = {};
  return batching;
}

void InferenceSession::Describe(const InferenceRunOptions& options, run::RunRecord& record) const {
  const DynamicBatchingOptions batching = EffectiveBatching(options);
  record.config["workload"] = {
      {"model", options.model},
      {"description", impl_->model_description},
      {"seq_len", options.seq_len},
      {"max_batch", batching.max_batch},
      {"max_delay_s", std::chrono::duration<double>(batching.max_delay).count()},
      {"input_specs", options.input_specs},
      {"samples", options.sample_count},
  };
  if (!options.load_levels.empty()) record.config["load_levels"] = options.load_levels;
  AddTorchConfig(record, options.torch);
}

std::unique_ptr<DynamicBatchingSut> InferenceSession::MakeSut(
    const DynamicBatchingOptions& batching, int threads) {
  Impl* impl = impl_.get();
  return std::make_unique<DynamicBatchingSut>(
      impl->model_description, batching,
      [impl](std::span<const load::SampleIndex> samples) {
        if (impl->encoder) {
          impl->encoder->Run(Gather(impl->pool, samples));
        } else {
          for (std::size_t i = 0; i < samples.size(); ++i) impl->script->Run();
        }
      },
      [threads] { SetIntraOpThreads(threads); });
}

std::optional<double> InferenceSession::Measure(const InferenceRunOptions& options,
                                                DynamicBatchingSut& sut, const RunMeter& meter,
                                                const load::ObserverHooks& hooks,
                                                const std::optional<GemmPeak>& gemm,
                                                run::RunRecord& record) {
  load::TestSettings settings = options.settings;
  load::PeakSearchSettings peak_search = options.peak_search;
  hooks.Connect(settings, &peak_search);
  const load::PowerSignal& power = meter.power_signal();
  load::QuerySampleLibrary& library = *impl_->library;

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
    load::ServerPeakResult peak = load::FindServerPeak(sut, library, settings, peak_search, power);
    for (const auto& p : peak.probes) {
      record.peak_probes.push_back(
          {p.rate_per_s, static_cast<double>(p.latency_percentile_ns) / 1e9, p.valid});
    }
    if (!peak.found || !peak.peak_run) {
      record.verdict = "INVALID";
      record.verdict_reasons.push_back(
          fmt::format("no rate met the latency bound, not even the first probe at {:.6g}/s{}",
                      peak_search.start_qps,
                      peak.probes.empty() || peak.probes.front().failed_checks.empty()
                          ? ""
                          : " (" + peak.probes.front().failed_checks.front() + ")"));
      if (!peak.stopped_because.empty()) record.verdict_reasons.push_back(peak.stopped_because);
      return std::nullopt;
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
  AddMetric(record, "throughput_per_hour", per_hour, "1/h", "measured: joulebench load generator");
  AddEnergyPerUnitMetrics(record, energy, static_cast<double>(result.measured_query_count),
                          "energy_per_inference");
  if (impl_->flops_per_sample > 0) {
    AddFlopsMetrics(record, result.throughput_per_s * impl_->flops_per_sample,
                    impl_->flops_per_sample, "inference", gemm);
  }
  if (sut.failed_batches() > 0) {
    record.warnings.push_back(
        fmt::format("{} batch(es) failed; the first: {}", sut.failed_batches(), sut.first_error()));
  }
  record.energy.push_back(std::move(energy));
  return peak_qps;
}

double InferenceSession::SecondsPerBatch(std::int64_t batch, int threads) {
  const int threads_before = IntraOpThreads();
  SetIntraOpThreads(threads);
  std::vector<double> seconds;
  for (std::int64_t run = 0; run < 3; ++run) {
    // Other documents each time: a kernel whose cost depends on the input (the oneDNN int8
    // kernels build a primitive for each new activation scale) is timed as it serves.
    std::vector<load::SampleIndex> rows;
    for (std::int64_t i = 0; i < batch; ++i) {
      rows.push_back(static_cast<load::SampleIndex>(run * batch + i));
    }
    const DocumentBatch documents = impl_->encoder ? Gather(impl_->pool, rows) : DocumentBatch{};
    const double begin = load::SteadyNowSeconds();
    if (impl_->encoder) {
      impl_->encoder->Run(documents);
    } else {
      for (std::int64_t k = 0; k < batch; ++k) impl_->script->Run();
    }
    seconds.push_back(load::SteadyNowSeconds() - begin);
  }
  SetIntraOpThreads(threads_before);
  std::sort(seconds.begin(), seconds.end());
  return seconds[1];
}

InferenceSession::Outputs InferenceSession::RunAndFetch(std::int64_t documents) {
  if (!impl_->encoder) throw InputError("outputs can be compared for the built-in models only");
  std::vector<load::SampleIndex> rows;
  for (std::int64_t i = 0; i < documents; ++i) rows.push_back(static_cast<load::SampleIndex>(i));
  const DocumentBatch batch = Gather(impl_->pool, rows);
  Outputs out;
  out.values = impl_->encoder->RunAndFetch(batch);
  const auto tokens = static_cast<std::size_t>(batch.batch_size * batch.seq_len);
  out.row_width = tokens == 0 ? 0 : static_cast<std::int64_t>(out.values.size() / tokens);
  out.row_mask = batch.attention_mask;
  return out;
}

}  // namespace joulebench::workloads
