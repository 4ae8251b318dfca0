// The sampler's timeline: for each sample, its time and every domain's cumulative joules.
// Grows in fixed-size chunks so that appending a sample allocates only once per chunk, and
// may drop its oldest chunks (DropBefore) to bound the memory of a meter that runs for days.
// Sample indices stay absolute: after a drop, first() is the oldest sample still held.
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

  // Samples appended so far (dropped ones included); the newest is size() - 1.
  std::size_t size() const { return size_; }
  // Index of the oldest sample still held (0 until a chunk was dropped).
  std::size_t first() const { return dropped_chunks_ * chunk_samples_; }
  std::size_t domain_count() const { return domain_count_; }
  double time_s(std::size_t sample) const { return Row(sample)[0]; }
  double joules(std::size_t sample, std::size_t domain) const { return Row(sample)[1 + domain]; }
  // Index of the last sample with time_s <= t, or size() when t is before the first held
  // sample.
  std::size_t LastAtOrBefore(double t) const;
  // Cumulative joules of a domain at time t, linearly interpolated between samples and
  // clamped to the first held and the last sample.
  double JoulesAt(std::size_t domain, double t) const;
  // Frees every chunk whose samples are all older than t, keeping the newest chunk.
  void DropBefore(double t);
  // Number of chunk allocations so far (for tests of the no-allocation-per-sample property).
  std::size_t chunk_count() const { return chunks_.size(); }

 private:
  const double* Row(std::size_t sample) const {
    return chunks_[sample / chunk_samples_ - dropped_chunks_].get() +
           (sample % chunk_samples_) * stride_;
  }

  std::size_t domain_count_;
  std::size_t chunk_samples_;
  std::size_t stride_;
  std::size_t size_ = 0;
  std::size_t dropped_chunks_ = 0;
  std::vector<std::unique_ptr<double[]>> chunks_;
};

}  // namespace joulebench::sampling
