#include "joulebench/load/latency_histogram.h"

#include <bit>
#include <cmath>
#include <limits>

namespace joulebench::load {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr std::int64_t kNoMin = std::numeric_limits<std::int64_t>::max();

// Single writer: a relaxed load and store is enough and avoids a locked instruction.
inline void Bump(std::atomic<std::uint64_t>& counter, std::uint64_t by) {
  counter.store(counter.load(kRelaxed) + by, kRelaxed);
}

}  // namespace

LatencyHistogram::LatencyHistogram() { Reset(); }

LatencyHistogram::LatencyHistogram(const LatencyHistogram& other) : LatencyHistogram() {
  Merge(other);
}

LatencyHistogram& LatencyHistogram::operator=(const LatencyHistogram& other) {
  if (this != &other) {
    Reset();
    Merge(other);
  }
  return *this;
}

std::size_t LatencyHistogram::BucketIndex(std::int64_t value_ns) noexcept {
  if (value_ns < kSubBucketCount) return value_ns < 0 ? 0 : static_cast<std::size_t>(value_ns);
  const int exponent = std::bit_width(static_cast<std::uint64_t>(value_ns)) - 1;  // >= 7
  const int shift = exponent - kSubBucketBits;
  const auto sub = static_cast<std::size_t>((value_ns >> shift) - kSubBucketCount);
  return static_cast<std::size_t>(kSubBucketCount) +
         static_cast<std::size_t>(shift) * kSubBucketCount + sub;
}

std::int64_t LatencyHistogram::BucketLowerNs(std::size_t index) noexcept {
  if (index < static_cast<std::size_t>(kSubBucketCount)) return static_cast<std::int64_t>(index);
  const std::size_t rest = index - kSubBucketCount;
  const int shift = static_cast<int>(rest / kSubBucketCount);
  const auto sub = static_cast<std::int64_t>(rest % kSubBucketCount);
  return (kSubBucketCount + sub) << shift;
}

std::int64_t LatencyHistogram::BucketUpperNs(std::size_t index) noexcept {
  if (index < static_cast<std::size_t>(kSubBucketCount))
    return static_cast<std::int64_t>(index) + 1;
  const int shift = static_cast<int>((index - kSubBucketCount) / kSubBucketCount);
  const std::int64_t lower = BucketLowerNs(index);
  const std::int64_t width = std::int64_t{1} << shift;
  // The last bucket ends at INT64_MAX (avoid overflow).
  return lower > std::numeric_limits<std::int64_t>::max() - width
             ? std::numeric_limits<std::int64_t>::max()
             : lower + width;
}

void LatencyHistogram::Record(std::int64_t latency_ns) noexcept {
  if (latency_ns < 0) latency_ns = 0;
  Bump(counts_[BucketIndex(latency_ns)], 1);
  Bump(total_, 1);
  sum_ns_.store(sum_ns_.load(kRelaxed) + latency_ns, kRelaxed);
  if (latency_ns < min_ns_.load(kRelaxed)) min_ns_.store(latency_ns, kRelaxed);
  if (latency_ns > max_ns_.load(kRelaxed)) max_ns_.store(latency_ns, kRelaxed);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    const std::uint64_t c = other.counts_[i].load(kRelaxed);
    if (c != 0) Bump(counts_[i], c);
  }
  Bump(total_, other.total_.load(kRelaxed));
  sum_ns_.store(sum_ns_.load(kRelaxed) + other.sum_ns_.load(kRelaxed), kRelaxed);
  const std::int64_t other_min = other.min_ns_.load(kRelaxed);
  const std::int64_t other_max = other.max_ns_.load(kRelaxed);
  if (other_min < min_ns_.load(kRelaxed)) min_ns_.store(other_min, kRelaxed);
  if (other_max > max_ns_.load(kRelaxed)) max_ns_.store(other_max, kRelaxed);
}

void LatencyHistogram::Subtract(const LatencyHistogram& earlier) noexcept {
  std::int64_t new_min = kNoMin;
  std::int64_t new_max = -1;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    const std::uint64_t mine = counts_[i].load(kRelaxed);
    const std::uint64_t theirs = earlier.counts_[i].load(kRelaxed);
    const std::uint64_t left = mine > theirs ? mine - theirs : 0;
    counts_[i].store(left, kRelaxed);
    if (left == 0) continue;
    total += left;
    if (new_min == kNoMin) new_min = BucketLowerNs(i);
    new_max = BucketUpperNs(i) - 1;
  }
  // Keep exact extremes when they are still inside the remaining range.
  const std::int64_t old_min = min_ns_.load(kRelaxed);
  const std::int64_t old_max = max_ns_.load(kRelaxed);
  if (total != 0) {
    if (BucketIndex(old_min) == BucketIndex(new_min)) new_min = old_min;
    if (BucketIndex(old_max) == BucketIndex(new_max)) new_max = old_max;
  }
  total_.store(total, kRelaxed);
  sum_ns_.store(sum_ns_.load(kRelaxed) - earlier.sum_ns_.load(kRelaxed), kRelaxed);
  min_ns_.store(new_min, kRelaxed);
  max_ns_.store(new_max, kRelaxed);
}

void LatencyHistogram::Reset() noexcept {
  for (auto& c : counts_) c.store(0, kRelaxed);
  total_.store(0, kRelaxed);
  sum_ns_.store(0, kRelaxed);
  min_ns_.store(kNoMin, kRelaxed);
  max_ns_.store(-1, kRelaxed);
}

std::uint64_t LatencyHistogram::count() const noexcept { return total_.load(kRelaxed); }

std::int64_t LatencyHistogram::min_ns() const noexcept {
  return count() == 0 ? 0 : min_ns_.load(kRelaxed);
}

std::int64_t LatencyHistogram::max_ns() const noexcept {
  return count() == 0 ? 0 : max_ns_.load(kRelaxed);
}

double LatencyHistogram::mean_ns() const noexcept {
  const std::uint64_t n = count();
  return n == 0 ? 0.0 : static_cast<double>(sum_ns_.load(kRelaxed)) / static_cast<double>(n);
}

std::int64_t LatencyHistogram::PercentileNs(double percent) const noexcept {
  std::uint64_t n = 0;
  for (const auto& c : counts_) n += c.load(kRelaxed);
  if (n == 0) return 0;
  double rank_d = std::ceil(percent / 100.0 * static_cast<double>(n));
  if (!(rank_d >= 1)) rank_d = 1;
  const auto rank = static_cast<std::uint64_t>(std::min(rank_d, static_cast<double>(n)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i].load(kRelaxed);
    if (seen < rank) continue;
    const std::int64_t lower = BucketLowerNs(i);
    const std::int64_t width = BucketUpperNs(i) - lower;
    std::int64_t value = lower + width / 2;
    const std::int64_t lo = min_ns_.load(kRelaxed);
    const std::int64_t hi = max_ns_.load(kRelaxed);
    if (hi >= 0 && value > hi) value = hi;
    if (lo != kNoMin && value < lo) value = lo;
    return value;
  }
  return max_ns();
}

std::vector<std::pair<std::int64_t, std::uint64_t>> LatencyHistogram::NonEmptyBuckets() const {
  std::vector<std::pair<std::int64_t, std::uint64_t>> out;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    const std::uint64_t c = counts_[i].load(kRelaxed);
    if (c != 0) out.emplace_back(BucketUpperNs(i), c);
  }
  return out;
}

}  // namespace joulebench::load
