#include "exporter/latency_buckets.h"

#include <cmath>
#include <limits>

namespace joulebench::exporter {

prometheus::ClientMetric::Histogram ToPrometheusHistogram(const load::LatencyHistogram& h,
                                                          std::span<const double> bounds_s) {
  prometheus::ClientMetric::Histogram out;
  const auto buckets = h.NonEmptyBuckets();  // (exclusive upper bound ns, count), ascending
  std::uint64_t total = 0;
  for (const auto& [upper_ns, count] : buckets) total += count;
  std::size_t next = 0;
  std::uint64_t cumulative = 0;
  for (const double bound_s : bounds_s) {
    const auto bound_ns = static_cast<double>(std::llround(bound_s * 1e9));
    // Whole buckets only: the largest value of [lower, upper) is upper - 1.
    while (next < buckets.size() && static_cast<double>(buckets[next].first - 1) <= bound_ns) {
      cumulative += buckets[next].second;
      ++next;
    }
    out.bucket.push_back({cumulative, bound_s});
  }
  out.bucket.push_back({total, std::numeric_limits<double>::infinity()});
  out.sample_count = total;
  out.sample_sum = h.mean_ns() * static_cast<double>(h.count()) * 1e-9;
  return out;
}

}  // namespace joulebench::exporter
