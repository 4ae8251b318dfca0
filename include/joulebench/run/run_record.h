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

}  // namespace joulebench::run
