// The load generator's part of a run record.
#include <fmt/format.h>

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
  // Failures by kind, so that a run with failures says which (and a reader comparing runs
  // finds each kind under its own name).
  add("failed_queries", static_cast<double>(r.failed_query_count), "1");
  for (std::size_t k = 0; k < kFailureKindCount; ++k) {
    if (r.failed_by_kind[k] == 0) continue;
    add(fmt::format("failed_queries.{}", FailureKindName(static_cast<FailureKind>(k))),
        static_cast<double>(r.failed_by_kind[k]), "1");
  }
  record.histograms.clear();
  if (r.tokens) {
    const TokenStats& t = *r.tokens;
    add("output_tokens", static_cast<double>(t.tokens), "1");
    add("output_tokens_per_s", t.tokens_per_s, "1/s");
    add("token_streams", static_cast<double>(t.queries), "1");
    auto add_summary = [&](const std::string& name, const LatencySummary& l) {
      add(name + "_mean", l.mean_ns / 1e9, "s");
      add(name + "_p50", Seconds(l.p50_ns), "s");
      add(name + "_p90", Seconds(l.p90_ns), "s");
      add(name + "_p99", Seconds(l.p99_ns), "s");
      add(name + "_p99.9", Seconds(l.p999_ns), "s");
      add(name + "_max", Seconds(l.max_ns), "s");
    };
    auto add_histogram = [&](const std::string& name,
                             const std::vector<std::pair<std::int64_t, std::uint64_t>>& buckets) {
      run::NamedHistogram h;
      h.name = name;
      h.unit = "s";
      h.provenance = provenance;
      for (const auto& [upper_ns, count] : buckets)
        h.buckets.emplace_back(Seconds(upper_ns), count);
      record.histograms.push_back(std::move(h));
    };
    add_summary("time_to_first_token", t.time_to_first_token);
    add_summary("inter_token_latency", t.inter_token_latency);
    add_summary("time_per_output_token", t.time_per_output_token);
    add_histogram("time_to_first_token", t.time_to_first_token_histogram);
    add_histogram("inter_token_latency", t.inter_token_latency_histogram);
    add_histogram("time_per_output_token", t.time_per_output_token_histogram);
  }
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
      {"max_failed_query_fraction", s.max_failed_query_fraction},
  };
}

}  // namespace joulebench::load
