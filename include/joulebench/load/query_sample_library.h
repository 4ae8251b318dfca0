// The samples queries refer to (LoadGen's QuerySampleLibrary). The load generator loads the
// performance set before a run (so no sample is read from disk while timing) and unloads it
// after.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "joulebench/load/query.h"

namespace joulebench::load {

class QuerySampleLibrary {
 public:
  virtual ~QuerySampleLibrary() = default;
  virtual std::string Name() const = 0;
  // Samples that exist, indices [0, TotalSampleCount()). Must be > 0.
  virtual std::size_t TotalSampleCount() const = 0;
  // How many samples fit in memory at once; the generator draws queries from the first
  // min(PerformanceSampleCount(), TotalSampleCount()) indices. Default: all.
  virtual std::size_t PerformanceSampleCount() const { return TotalSampleCount(); }
  // Called before timing starts / after it ends, from the generator's thread.
  virtual void LoadSamples(std::span<const SampleIndex> /*samples*/) {}
  virtual void UnloadSamples(std::span<const SampleIndex> /*samples*/) {}
};

// A library of `count` samples that need no loading (synthetic inputs, the built-in SUTs).
class SyntheticSampleLibrary final : public QuerySampleLibrary {
 public:
  explicit SyntheticSampleLibrary(std::size_t count = 1024) : count_(count) {}
  std::string Name() const override { return "synthetic"; }
  std::size_t TotalSampleCount() const override { return count_; }

 private:
  std::size_t count_;
};

}  // namespace joulebench::load
