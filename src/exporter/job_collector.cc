#include "exporter/job_collector.h"

#include <chrono>
#include <cmath>

#include "exporter/latency_buckets.h"
#include "exporter/metric_families.h"

namespace joulebench::exporter {
namespace {

using prometheus::MetricType;

constexpr RunPhase kPhases[] = {RunPhase::kStarting, RunPhase::kBaseline, RunPhase::kWarmUp,
                                RunPhase::kMeasuring, RunPhase::kDone};

double UnixNowS() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool EndsWith(std::string_view text, std::string_view end) {
  return text.size() >= end.size() && text.substr(text.size() - end.size()) == end;
}

}  // namespace

std::string_view RunPhaseName(RunPhase phase) {
  switch (phase) {
    case RunPhase::kStarting:
      return "starting";
    case RunPhase::kBaseline:
      return "baseline";
    case RunPhase::kWarmUp:
      return "warm-up";
    case RunPhase::kMeasuring:
      return "measuring";
    case RunPhase::kDone:
      return "done";
  }
  return "starting";
}

RunPhase ClassifyPhase(std::string_view text) {
  if (text.find("baseline") != std::string_view::npos) return RunPhase::kBaseline;
  if (EndsWith(text, "measuring")) return RunPhase::kMeasuring;
  // "warm-up", "<context>: warm-up", and the start of a peak-search probe or a load level,
  // which warm up before they measure.
  return RunPhase::kWarmUp;
}

JobCollector::JobCollector(MeterCollector& meter) : meter_(meter) {}

void JobCollector::set_run_id(std::function<std::string()> run_id) {
  std::lock_guard lock(mutex_);
  run_id_ = std::move(run_id);
}

void JobCollector::OnBegin(const run::RunRecord& record, const sampling::Meter& meter) {
  meter_.Attach(meter);
  std::lock_guard lock(mutex_);
  begun_ = true;
  kind_ = record.kind;
  name_ = record.name;
  start_unix_s_ = record.start_unix_s > 0 ? record.start_unix_s : UnixNowS();
  end_unix_s_.reset();
  phase_ = RunPhase::kStarting;
  throughput_per_s_.reset();
  latencies_.reset();
}

void JobCollector::OnPhase(std::string_view phase, std::optional<double> /*eta_s*/) {
  std::lock_guard lock(mutex_);
  if (phase_ != RunPhase::kDone) phase_ = ClassifyPhase(phase);
}

void JobCollector::OnProgress(double throughput_per_s, double /*watts*/) {
  std::lock_guard lock(mutex_);
  // Runs without a unit of work (measure) report 0: no throughput until some work is seen.
  if (throughput_per_s > 0 || throughput_per_s_) throughput_per_s_ = throughput_per_s;
}

void JobCollector::OnLatencies(const load::LatencyHistogram& window) {
  std::lock_guard lock(mutex_);
  if (!latencies_) latencies_ = std::make_unique<load::LatencyHistogram>();
  latencies_->Merge(window);
}

void JobCollector::OnEnd(const run::RunRecord& record) {
  meter_.Freeze();
  std::lock_guard lock(mutex_);
  phase_ = RunPhase::kDone;
  end_unix_s_ = record.end_unix_s > 0 ? record.end_unix_s : UnixNowS();
}

std::vector<prometheus::MetricFamily> JobCollector::Collect() const {
  std::function<std::string()> run_id_source;
  {
    std::lock_guard lock(mutex_);
    run_id_source = run_id_;
  }
  // Asked outside the lock: it may take the store's lock, which a run's thread holds while
  // it calls observers.
  const std::string run_id = run_id_source ? run_id_source() : "";

  std::lock_guard lock(mutex_);
  std::vector<prometheus::MetricFamily> families;
  if (!begun_) return families;
  AddSingle(families, "joulebench_run_info",
            "The run this process measures: its kind (measure, loadgen, infer, train), name "
            "and id in the store (empty when not stored); value 1",
            MetricType::Gauge, {{"kind", kind_}, {"name", name_}, {"run_id", run_id}}, 1);
  auto phase = MakeFamily("joulebench_run_phase",
                          "1 for the phase the run is in (starting, baseline, warm-up, "
                          "measuring, done), 0 for the others; a peak-search probe or a load "
                          "level warms up before it measures",
                          MetricType::Gauge);
  for (const RunPhase p : kPhases) {
    AddSample(phase, {{"phase", std::string(RunPhaseName(p))}}, p == phase_ ? 1 : 0);
  }
  families.push_back(std::move(phase));
  AddSingle(families, "joulebench_run_start_timestamp_seconds",
            "Unix time the run began, in seconds", MetricType::Gauge, {}, start_unix_s_);
  if (end_unix_s_) {
    AddSingle(families, "joulebench_run_end_timestamp_seconds",
              "Unix time the run ended, in seconds", MetricType::Gauge, {}, *end_unix_s_);
  }
  if (throughput_per_s_) {
    AddSingle(families, "joulebench_run_throughput_per_second",
              "Work done per second in the run's last statistics window (queries for loadgen "
              "and infer, sequences for train)",
              MetricType::Gauge, {}, *throughput_per_s_);
  }
  if (latencies_) {
    auto latency = MakeFamily("joulebench_run_latency_seconds",
                              "Latency of every completed query, warm-up included, in seconds "
                              "(server scenario: from its scheduled time); _count is the number "
                              "of completed queries",
                              MetricType::Histogram);
    latency.metric.emplace_back().histogram = ToPrometheusHistogram(*latencies_, kLatencyBoundsS);
    families.push_back(std::move(latency));
  }
  return families;
}

}  // namespace joulebench::exporter
