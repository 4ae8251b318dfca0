// The load generator's log-linear latency histogram as a Prometheus histogram (cumulative
// counts at fixed upper bounds, in seconds).
#pragma once

#include <prometheus/client_metric.h>

#include <array>
#include <span>

#include "joulebench/load/latency_histogram.h"

namespace joulebench::exporter {

// Upper bounds of joulebench_run_latency_seconds: 100 us to 60 s in 1-2.5-5 steps, which
// covers an in-process model (sub-millisecond) up to a slow generative server.
inline constexpr std::array<double, 18> kLatencyBoundsS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};

// Cumulative counts of `h` at `bounds_s` (ascending) plus +Inf, the count and the exact sum.
// A log-linear bucket is counted under a bound only when all of its values are at or below
// the bound: a bucket count is never more than the true count of latencies <= the bound, and
// misses at most the one log-linear bucket that straddles it (values within 1/128 above it).
prometheus::ClientMetric::Histogram ToPrometheusHistogram(const load::LatencyHistogram& h,
                                                          std::span<const double> bounds_s);

}  // namespace joulebench::exporter
