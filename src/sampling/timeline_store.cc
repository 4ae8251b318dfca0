#include "sampling/timeline_store.h"

#include <algorithm>

namespace joulebench::sampling {

TimelineStore::TimelineStore(std::size_t domain_count, std::size_t chunk_samples)
    : domain_count_(domain_count),
      chunk_samples_(std::max<std::size_t>(chunk_samples, 1)),
      stride_(domain_count + 1) {
  chunks_.reserve(1024);
}

void TimelineStore::Append(double time_s, const double* joules) {
  if (size_ == (dropped_chunks_ + chunks_.size()) * chunk_samples_) {
    chunks_.push_back(std::make_unique_for_overwrite<double[]>(chunk_samples_ * stride_));
  }
  double* row = chunks_.back().get() + (size_ % chunk_samples_) * stride_;
  row[0] = time_s;
  std::copy(joules, joules + domain_count_, row + 1);
  ++size_;
}

std::size_t TimelineStore::LastAtOrBefore(double t) const {
  // Binary search over sample times (increasing).
  std::size_t lo = first();
  std::size_t hi = size_;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (time_s(mid) <= t) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == first() ? size_ : lo - 1;
}

double TimelineStore::JoulesAt(std::size_t domain, double t) const {
  if (size_ == 0) return 0;
  const std::size_t i = LastAtOrBefore(t);
  if (i == size_) return joules(first(), domain);
  if (i + 1 >= size_) return joules(i, domain);
  const double t0 = time_s(i);
  const double t1 = time_s(i + 1);
  const double j0 = joules(i, domain);
  const double j1 = joules(i + 1, domain);
  if (t1 <= t0) return j1;
  return j0 + (j1 - j0) * (t - t0) / (t1 - t0);
}

void TimelineStore::DropBefore(double t) {
  std::size_t drop = 0;
  while (drop + 1 < chunks_.size() &&
         time_s((dropped_chunks_ + drop + 1) * chunk_samples_ - 1) < t) {
    ++drop;
  }
  if (drop == 0) return;
  chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(drop));
  dropped_chunks_ += drop;
}

}  // namespace joulebench::sampling
