// Log-linear latency histogram (HdrHistogram's layout): values below 2^kSubBucketBits ns are
// counted exactly; above, each power-of-two range [2^e, 2^(e+1)) is split into
// 2^kSubBucketBits equal buckets. A bucket's width is at most 2^-kSubBucketBits = 1/128 of
// its lower bound, and a quantile is reported as the middle of its bucket, so the relative
// error of any reported quantile is at most 1/256 ~= 0.4 % (stated and tested: <= 0.5 %).
// Fixed memory (kBucketCount counters, ~59 KiB) for the whole int64 nanosecond range.
//
// Single writer, concurrent readers: Record() is called by one thread only; other threads
// may read (Snapshot/Merge) at any time and see each counter atomically (relaxed loads),
// which is how per-window statistics are taken while a run is going.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace joulebench::load {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr std::int64_t kSubBucketCount = std::int64_t{1} << kSubBucketBits;  // 128
  // Exact buckets [0, 128) plus 128 buckets for each exponent 7..62.
  static constexpr std::size_t kBucketCount =
      kSubBucketCount + (63 - kSubBucketBits) * kSubBucketCount;

  LatencyHistogram();
  LatencyHistogram(const LatencyHistogram& other);
  LatencyHistogram& operator=(const LatencyHistogram& other);

  // Adds one latency (negative values count as 0). Not thread-safe against another writer.
  void Record(std::int64_t latency_ns) noexcept;
  // Adds every count of `other` (which may be written concurrently by its own thread).
  void Merge(const LatencyHistogram& other) noexcept;
  // this -= other, bucket by bucket; `other` must be an earlier snapshot of this one.
  // Min/max become those of the remaining buckets (bucket resolution).
  void Subtract(const LatencyHistogram& earlier) noexcept;
  void Reset() noexcept;

  std::uint64_t count() const noexcept;
  std::int64_t min_ns() const noexcept;  // 0 when empty
  std::int64_t max_ns() const noexcept;  // 0 when empty
  double mean_ns() const noexcept;       // exact (from the running sum); 0 when empty
  // The value at `percent` (0..100]: the smallest bucket with at least ceil(p/100 * n)
  // values at or below it, reported as the bucket's middle clamped to [min, max]. 0 when
  // empty.
  std::int64_t PercentileNs(double percent) const noexcept;
  // Non-empty buckets as (upper bound ns, count), ascending; for storage and drawing.
  std::vector<std::pair<std::int64_t, std::uint64_t>> NonEmptyBuckets() const;

  static std::size_t BucketIndex(std::int64_t value_ns) noexcept;
  static std::int64_t BucketLowerNs(std::size_t index) noexcept;
  static std::int64_t BucketUpperNs(std::size_t index) noexcept;  // exclusive

 private:
  std::array<std::atomic<std::uint64_t>, kBucketCount> counts_;
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::int64_t> sum_ns_{0};
  std::atomic<std::int64_t> min_ns_;
  std::atomic<std::int64_t> max_ns_;
};

}  // namespace joulebench::load
