// The load generator's part of a run record.
#include <cmath>

#include "joulebench/load/loadgen.h"

namespace joulebench::load {
namespace {

double Seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

void FillRunRecord(const ScenarioResult& r, run::RunRecord& record) {
  record.verdict = r.valid ? "VALID" : "INVALID";
  record.verdict_reasons = r.failed_checks;
  record.windows.clear();
  for (const WindowStats& w : r.windows) {
    run::WindowSample sample;
    sample.begin_s = w.begin_s;
    sample.end_s = w.end_s;
    sample.throughput_per_s = w.throughput_per_s;
    sample.watts = std::isnan(w.watts) ? 0 : w.watts;
    sample.latency_p50_s = Seconds(w.latency_p50_ns);
    sample.latency_p99_s = Seconds(w.latency_p99_ns);
    record.windows.push_back(sample);
  }
  record.steady_state_at_s = r.steady_state_at_s;
  record.steady_state_criterion = r.steady_state_criterion;
  record.latency_histogram.clear();
  for (const auto& [upper_ns, count] : r.latency_histogram) {
    record.latency_histogram.emplace_back(Seconds(upper_ns), count);
  }
  const std::string provenance = "measured: joulebench load generator (" + r.sut_name + ")";
  auto add = [&](std::string name, double value, std::string unit) {
    record.metrics.push_back(run::Metric{std::move(name), value, std::move(unit), provenance});
  };
  add("throughput", r.throughput_per_s, "1/s");
  if (r.scenario == Scenario::kServer) add("offered_rate", r.offered_qps, "1/s");
  add("measured_queries", static_cast<double>(r.measured_query_count), "1");
  add("measured_duration", r.measured_duration_s, "s");
  add("latency_min", Seconds(r.latency.min_ns), "s");
  add("latency_mean", r.latency.mean_ns / 1e9, "s");
  add("latency_p50", Seconds(r.latency.p50_ns), "s");
  add("latency_p90", Seconds(r.latency.p90_ns), "s");
  add("latency_p95", Seconds(r.latency.p95_ns), "s");
  add("latency_p99", Seconds(r.latency.p99_ns), "s");
  add("latency_p99.9", Seconds(r.latency.p999_ns), "s");
  add("latency_max", Seconds(r.latency.max_ns), "s");
  if (r.measurement_watts) add("measurement_power", *r.measurement_watts, "W");
  for (const auto& w : r.warnings) record.warnings.push_back(w);

  const TestSettings& s = r.settings;
  record.config["loadgen"] = {
      {"scenario", std::string(ScenarioName(s.scenario))},
      {"sut", r.sut_name},
      {"server_target_qps", s.server_target_qps},
      {"server_target_latency_ns", s.server_target_latency_ns},
      {"server_target_latency_percentile", s.server_target_latency_percentile},
      {"single_stream_target_latency_percentile", s.single_stream_target_latency_percentile},
      {"offline_expected_qps", s.offline_expected_qps},
      {"min_duration_ms", s.min_duration_ms},
      {"min_query_count", s.min_query_count},
      {"schedule_seed", s.schedule_seed},
      {"sample_index_seed", s.sample_index_seed},
      {"window_ms", s.window_ms},
      {"wait_for_steady_state", s.wait_for_steady_state},
      {"max_warmup_ms", s.max_warmup_ms},
      {"steady_state_windows", s.steady_state_windows},
      {"steady_state_band_relative", s.steady_state_band_relative},
      {"steady_state_drift_relative", s.steady_state_drift_relative},
  };
}

}  // namespace joulebench::load
