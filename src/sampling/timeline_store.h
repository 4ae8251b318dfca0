// The sampler's timeline: for each sample, its time and every domain's cumulative joules.
// Grows in fixed-size chunks so that appending a sample allocates only once per chunk.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace joulebench::sampling {

class TimelineStore {
 public:
  // chunk_samples: samples per allocation (default 4096: 410 s at 100 ms, 4 s at 1 ms).
  explicit TimelineStore(std::size_t domain_count, std::size_t chunk_samples = 4096);

  // Appends one sample; joules points at domain_count() values.
  void Append(double time_s, const double* joules);

  std::size_t size() const { return size_; }
  std::size_t domain_count() const { return domain_count_; }
  double time_s(std::size_t sample) const { return Row(sample)[0]; }
  double joules(std::size_t sample, std::size_t domain) const { return Row(sample)[1 + domain]; }
  // Index of the last sample with time_s <= t, or size() when t is before the first sample.
  std::size_t LastAtOrBefore(double t) const;
  // Cumulative joules of a domain at time t, linearly interpolated between samples and
  // clamped to the first and last sample.
  double JoulesAt(std::size_t domain, double t) const;
  // Number of chunk allocations so far (for tests of the no-allocation-per-sample property).
  std::size_t chunk_count() const { return chunks_.size(); }

 private:
  const double* Row(std::size_t sample) const {
    return chunks_[sample / chunk_samples_].get() + (sample % chunk_samples_) * stride_;
  }

  std::size_t domain_count_;
  std::size_t chunk_samples_;
  std::size_t stride_;
  std::size_t size_ = 0;
  std::vector<std::unique_ptr<double[]>> chunks_;
};

}  // namespace joulebench::sampling
