// A run record: everything one run of measure / loadgen / infer / train produced, in the
// shape the store persists, the planner reads and the reports draw. Serialises to JSON
// (the documented `--json` output of a run and the planner's candidate file format).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "joulebench/run/node_result.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::run {

enum class RunStatus { kRunning, kComplete, kIncomplete, kFailed };
std::string_view RunStatusName(RunStatus s);  // "running", "complete", "incomplete", "failed"
RunStatus ParseRunStatus(std::string_view s);

// One reported number with its unit and where it comes from.
struct Metric {
  std::string name;        // e.g. "throughput", "energy_per_inference", "p99_latency"
  double value = 0;
  std::string unit;        // e.g. "1/s", "J", "s", "W", "FLOP/s"
  std::string provenance;  // "measured: powercap RAPL intel-rapl:0", "modelled: ...", "given: ..."
};

// Throughput, latency and power over one fixed time window of the run (e.g. 1 s), so that
// warm-up, steady state and drift are visible.
struct WindowSample {
  double begin_s = 0;  // seconds since the run started
  double end_s = 0;
  double throughput_per_s = 0;
  double watts = 0;    // total power (non-overlapping domains) in the window
  double latency_p50_s = 0;
  double latency_p99_s = 0;
};

// One point of a power-versus-load curve.
struct LoadLevelPoint {
  double load_fraction = 0;  // of the peak rate, 0..1
  double rate_per_s = 0;     // offered rate at this level
  double achieved_per_s = 0;
  double watts_total = 0;
  std::vector<std::pair<std::string, double>> watts_by_domain;
};

// One probe of a server-scenario peak search.
struct PeakProbe {
  double rate_per_s = 0;
  double latency_percentile_s = 0;
  bool valid = false;
};

// One configuration a `tune` search measured (or left out), as stored with the tune run.
// Probes of one configuration name at several rungs are several entries.
struct TuneProbe {
  std::string name;  // the configuration, e.g. "int8 t2 b8 d5ms"; unique per rung
  // The knobs' values: dtype, threads, max_batch, max_delay_s, power_limit_w (infer);
  // dtype, threads, batch (train).
  nlohmann::json knobs = nlohmann::json::object();
  int rung = 0;                 // 0 = screening; each higher rung measures longer
  double probe_duration_s = 0;  // least measured time of each run in this probe
  std::string outcome;          // "measured", "stopped" (SIGINT or budget), "failed", "skipped"
  std::string verdict;          // "VALID", "INVALID"; "" when not measured
  std::vector<std::string> reasons;  // why INVALID, stopped, failed or skipped
  // infer: the highest VALID server rate under the latency bound; train: 0.
  double rate_per_s = 0;
  double throughput_per_s = 0;  // achieved: inferences (at rate_per_s) or sequences per second
  double latency_s = 0;         // infer: p99 at the peak; train: mean step time
  double mean_watts = 0;
  double joules_per_unit = 0;  // total energy per inference (per sequence for train)
  std::optional<double> joules_per_unit_attributable;  // above the idle baseline, when measured
  std::string energy_provenance;
  // Outputs against the fp32 model on the same weights and inputs (bf16, int8).
  std::optional<double> accuracy_max_abs_diff;
  std::optional<double> accuracy_cosine;
  std::optional<double> accuracy_argmax_agreement;
  double elapsed_s = 0;  // wall time the probe took
  bool chosen = false;   // the configuration the search chose (at the rung it chose from)
  bool pareto = false;   // on the throughput / energy-per-unit Pareto front
};

// A distribution other than the query latency, e.g. the time to first token of streamed
// replies: (bucket upper bound in `unit`, count), non-empty buckets only.
struct NamedHistogram {
  std::string name;  // "time_to_first_token", "inter_token_latency", ...
  std::string unit = "s";
  std::string provenance;  // as a Metric's
  std::vector<std::pair<double, std::uint64_t>> buckets;
};

struct RunRecord {
  std::string id;          // assigned by the store (or a UUID-like string when not stored)
  std::string kind;        // "measure", "loadgen", "infer", "train"
  std::string name;        // user label; may contain anything (escape when drawing)
  double start_unix_s = 0;
  double end_unix_s = 0;
  RunStatus status = RunStatus::kRunning;
  std::string verdict;                   // "VALID", "INVALID" or "" when not applicable
  std::vector<std::string> verdict_reasons;
  nlohmann::json config = nlohmann::json::object();       // the full configuration
  nlohmann::json fingerprint = nlohmann::json::object();  // machine and software
  sampling::Timeline timeline;
  std::vector<sampling::EnergyReport> energy;  // named windows: "baseline", "measurement", ...
  std::vector<WindowSample> windows;
  std::optional<double> steady_state_at_s;     // when the measurement window began
  std::string steady_state_criterion;
  // Latency histogram: (bucket upper bound in seconds, count), non-empty buckets only.
  std::vector<std::pair<double, std::uint64_t>> latency_histogram;
  // Other distributions (token latencies of streamed replies...); empty when none.
  std::vector<NamedHistogram> histograms;
  std::vector<LoadLevelPoint> power_curve;
  std::vector<PeakProbe> peak_probes;
  std::vector<TuneProbe> tune_probes;  // `tune` runs only
  std::vector<Metric> metrics;
  std::vector<std::string> warnings;
  // Multi-node runs (--mpi): what each node measured; the run's energy is their sum. Empty
  // for a run on one machine.
  std::vector<NodeResult> nodes;

  const Metric* FindMetric(std::string_view metric_name) const;
};

// JSON text of a run document (or any part of one) for the store and for --json output. A
// string that is not valid UTF-8 (a command line's file name in ISO 8859-1, a device name) is
// written with U+FFFD in place of each bad byte: nlohmann::json would throw instead, and the
// run would be lost. indent < 0: one line.
std::string DumpJson(const nlohmann::json& json, int indent = -1);

nlohmann::json ToJson(const RunRecord& record);
RunRecord RunRecordFromJson(const nlohmann::json& json);  // throws InputError on bad shape

nlohmann::json ToJson(const sampling::EnergyReport& report);
sampling::EnergyReport EnergyReportFromJson(const nlohmann::json& json);

// The parts, in the same shapes as inside a run document (docs/json-schema.md); the store
// keeps a run's domains in this form.
nlohmann::json ToJson(const energy::DomainInfo& domain);
energy::DomainInfo DomainInfoFromJson(const nlohmann::json& json);  // throws InputError
nlohmann::json ToJson(const sampling::Timeline& timeline);
sampling::Timeline TimelineFromJson(const nlohmann::json& json);    // throws InputError
// A timeline's gaps alone, as in its "gaps" array (multi-node runs send them with samples).
nlohmann::json TimelineGapsToJson(const std::vector<sampling::TimelineGap>& gaps);
std::vector<sampling::TimelineGap> TimelineGapsFromJson(const nlohmann::json& array);  // InputError

}  // namespace joulebench::run
