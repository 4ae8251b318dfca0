#include "workloads/torch/tune_record.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/load/power_signal.h"
#include "report/energy_report_format.h"
#include "workloads/torch/run_metrics.h"

namespace joulebench::workloads {
namespace {

const run::RunRecord* ProbeRecord(
    const std::map<std::pair<std::string, int>, run::RunRecord>& records, const run::TuneProbe& p) {
  auto it = records.find({p.name, p.rung});
  return it == records.end() ? nullptr : &it->second;
}

std::string Describe(const run::TuneProbe& p) {
  return fmt::format("tune probe '{}' at rung {} ({:g} s per measurement)", p.name, p.rung,
                     p.probe_duration_s);
}

void AddProbeMetrics(const run::TuneProbe& p, const TuneUnits& units, const std::string& prefix,
                     run::RunRecord& record) {
  const std::string measured = fmt::format("measured: {}", Describe(p));
  const std::string energy = p.energy_provenance.empty()
                                 ? measured
                                 : fmt::format("{} ({})", p.energy_provenance, Describe(p));
  AddMetric(record, prefix + units.throughput_metric, p.throughput_per_s, "1/s", measured);
  if (p.rate_per_s > 0) {
    AddMetric(record, prefix + "offered_rate", p.rate_per_s, "1/s",
              measured + ": the highest rate whose latency met the bound");
  }
  AddMetric(record, prefix + units.latency_metric, p.latency_s, "s", measured);
  AddMetric(record, prefix + "mean_power", p.mean_watts, "W", energy);
  AddMetric(record, prefix + units.energy_metric, p.joules_per_unit, "J", energy);
  if (p.joules_per_unit_attributable) {
    AddMetric(record, prefix + units.energy_metric + "_attributable",
              *p.joules_per_unit_attributable, "J", energy + " minus idle baseline");
  }
  if (p.accuracy_cosine) {
    const std::string against = fmt::format("measured: {} outputs against fp32 on the same weights",
                                            p.knobs.value("dtype", std::string("?")));
    AddMetric(record, prefix + "accuracy_max_abs_diff", *p.accuracy_max_abs_diff, "1", against);
    AddMetric(record, prefix + "accuracy_cosine", *p.accuracy_cosine, "1", against);
  }
}

}  // namespace

tune::Knob DtypeKnob(std::vector<nlohmann::json> values, const std::vector<std::string>& requested,
                     std::string_view verb) {
  if (values.empty()) {
    throw InputError(fmt::format("--dtypes: none of {} can {} here (see the reasons above)",
                                 fmt::join(requested, ", "), verb));
  }
  const nlohmann::json fp32("fp32");
  const bool has_fp32 = std::find(values.begin(), values.end(), fp32) != values.end();
  nlohmann::json default_value = has_fp32 ? fp32 : values.front();
  return {"dtype", std::move(values), std::move(default_value), false};
}

tune::Knob ThreadsKnob(const std::vector<int>& requested, bool cpu, const SkipKnobValue& skip,
                       const std::string& on_gpu) {
  std::vector<int> threads = requested;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (threads.empty()) {
    for (int t = 1; t < cores; t *= 2) threads.push_back(t);
    threads.push_back(cores);
  }
  std::vector<nlohmann::json> values;
  for (int t : threads) {
    if (t < 1) throw InputError(fmt::format("--threads: {} must be at least 1", t));
    if (!cpu && t != threads.front()) continue;
    values.emplace_back(t);
  }
  if (!cpu && threads.size() > 1) skip("threads", "all but the first", on_gpu);
  const bool has_one = std::find(values.begin(), values.end(), nlohmann::json(1)) != values.end();
  nlohmann::json default_value = has_one ? nlohmann::json(1) : values.front();
  return {"threads", std::move(values), std::move(default_value), true};
}

void InvalidateIfEnergyIncomplete(const run::RunRecord& probe_record, run::TuneProbe& probe) {
  for (const auto& e : probe_record.energy) {
    if (e.name != "measurement" || e.total_complete) continue;
    probe.verdict = "INVALID";
    probe.reasons.push_back("energy not measured whole: " + report::TotalCompleteness(e));
  }
}

void FinishTuneRecord(const tune::SearchResult& result,
                      const std::map<std::pair<std::string, int>, run::RunRecord>& probe_records,
                      const TuneUnits& units, run::RunRecord& record) {
  record.tune_probes = result.probes;
  std::size_t measured = 0;
  for (const auto& p : result.probes) measured += p.outcome == "measured" ? 1 : 0;
  record.config["tune"]["complete_rungs"] = result.complete_rungs;
  if (!result.ended_early.empty()) record.config["tune"]["ended_early"] = result.ended_early;
  if (!result.ended_early.empty()) {
    record.warnings.push_back("the search ended early: " + result.ended_early);
  }
  AddMetric(record, "tune_probes_measured", static_cast<double>(measured), "1",
            "counted: probes of this search");
  if (!result.chosen) {
    record.verdict = "INVALID";
    record.verdict_reasons.push_back(
        fmt::format("no configuration was VALID (met the latency bound and the run's checks) "
                    "in a completed rung; {} probe(s) measured",
                    measured));
    return;
  }
  record.verdict = "VALID";
  const run::TuneProbe& chosen = result.probes[*result.chosen];
  record.config["tune"]["chosen"] = {
      {"name", chosen.name}, {"knobs", chosen.knobs}, {"rung", chosen.rung}};
  AddProbeMetrics(chosen, units, "", record);
  if (const run::RunRecord* r = ProbeRecord(probe_records, chosen)) {
    for (const auto& e : r->energy) {
      if (e.name == "measurement") record.energy.push_back(e);
    }
    record.peak_probes = r->peak_probes;
    record.latency_histogram = r->latency_histogram;
    if (auto it = r->config.find("loadgen"); it != r->config.end()) record.config["loadgen"] = *it;
  }
  if (!result.default_probe) {
    record.warnings.push_back(fmt::format(
        "the default configuration has no VALID measurement at rung {}: no ratio against it",
        result.chosen_rung));
    return;
  }
  const run::TuneProbe& base = result.probes[*result.default_probe];
  record.config["tune"]["default"] = {{"name", base.name}, {"knobs", base.knobs}};
  if (base.verdict != "VALID") {
    record.warnings.push_back(fmt::format(
        "the default configuration '{}' was INVALID at rung {} ({}): no ratio against it",
        base.name, base.rung, base.reasons.empty() ? "" : base.reasons.front()));
    return;
  }
  AddProbeMetrics(base, units, "default_", record);
  if (const run::RunRecord* r = ProbeRecord(probe_records, base)) {
    for (auto e : r->energy) {
      if (e.name != "measurement") continue;
      e.name = "default configuration";
      record.energy.push_back(std::move(e));
    }
  }
  const bool attributable = chosen.joules_per_unit_attributable.has_value() &&
                            base.joules_per_unit_attributable.has_value();
  const double ratio = tune::Objective(chosen) / tune::Objective(base);
  if (std::isfinite(ratio)) {
    AddMetric(record, units.energy_metric + "_ratio_to_default", ratio, "1",
              fmt::format("measured: {} energy per {} of '{}' over '{}', both at rung {} of this "
                          "run",
                          attributable ? "attributable" : "total", units.unit, chosen.name,
                          base.name, chosen.rung));
  }
}

tune::SearchResult RunTuneSearch(const std::vector<tune::Knob>& knobs, tune::SearchSettings search,
                                 double command_start_s, tune::SearchCallbacks callbacks,
                                 run::RunObserver& observer, run::RunRecord& record) {
  search.budget_s = std::max(1.0, search.budget_s - (load::SteadyNowSeconds() - command_start_s));
  callbacks.stop_requested = [&observer] { return observer.StopRequested(); };
  callbacks.on_probe = [&](const std::vector<run::TuneProbe>& probes) {
    record.tune_probes = probes;
    observer.OnPartial(record);
  };
  return tune::RunSearch(knobs, search, callbacks);
}

void EndTuneRun(const tune::SearchResult& result, RunMeter& meter, run::RunObserver& observer,
                run::RunRecord& record) {
  record.status = result.stopped ? run::RunStatus::kIncomplete : run::RunStatus::kComplete;
  if (result.stopped) {
    record.warnings.push_back("stopped on request (SIGINT/SIGTERM): the search is partial");
  }
  meter.Finish(record);
  observer.OnEnd(record);
}

}  // namespace joulebench::workloads
