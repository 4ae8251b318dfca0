// Torch-free orchestration (lives here because it drives the libtorch workloads).
#include "joulebench/workloads/inference_run.h"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string_view>

#include "joulebench/error.h"
#include "joulebench/load/loadgen.h"
#include "joulebench/load/observer_hooks.h"
#include "joulebench/workloads/gemm_peak.h"
#include "workloads/torch/inference_session.h"
#include "workloads/torch/run_metrics.h"

namespace joulebench::workloads {

run::RunRecord RunInference(const InferenceRunOptions& options) {
  run::RunRecord record;
  record.kind = "infer";
  record.name = options.model;
  load::Validate(options.settings);

  // Build the model first: every input problem surfaces before anything is measured.
  InferenceSession session(options);
  std::optional<GemmPeak> gemm;
  if (options.gemm_peak_duration.count() > 0) {
    gemm = MeasureGemmPeak({.torch = options.torch, .duration = options.gemm_peak_duration});
  }
  if (options.find_peak && options.settings.scenario != load::Scenario::kServer) {
    throw InputError("--find-peak applies to the server scenario (--scenario server)");
  }
  std::unique_ptr<DynamicBatchingSut> sut =
      session.MakeSut(session.EffectiveBatching(options), options.torch.threads);
  session.Describe(options, record);

  RunMeter meter(options.sources, options.meter);
  run::RunObserver& observer = ObserverOrNone(options.observer);
  const load::ObserverHooks hooks(options.observer);
  BeginMeteredRun(meter, record, observer, options.baseline, &hooks);
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
  const std::optional<double> peak_qps = session.Measure(options, *sut, meter, hooks, gemm, record);
  if (!peak_qps) {
    finish();
    return record;
  }
  observer.OnPartial(record);

  if (!options.load_levels.empty() && !hooks.StopRequested()) {
    const load::PowerSignal& power = meter.power_signal();
    if (!power) {
      throw EnvironmentError(
          "--load-levels measures power and no energy source is available "
          "(see 'joulebench probe')");
    }
    load::TestSettings settings = options.settings;
    hooks.Connect(settings);
    load::LoadLevelSettings levels;
    levels.idle_duration_ms = settings.min_duration_ms;
    std::vector<std::string> invalid;
    record.config["load_levels_peak_per_s"] = *peak_qps;
    // One level at a time, so that each is announced and stored as soon as it is measured.
    for (double level : options.load_levels) {
      if (hooks.StopRequested()) break;
      hooks.Phase(fmt::format("load level {:g} %", level * 100));
      levels.load_fractions = {level};
      for (auto& p : load::MeasurePowerAtLoadLevels(*sut, session.library(), settings, *peak_qps,
                                                    levels, power, &invalid)) {
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
