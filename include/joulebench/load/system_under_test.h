// The system under test (SUT): anything that processes queries asynchronously. The load
// generator calls IssueQuery from its own thread; the SUT completes queries later (or
// inline) from any thread through the QueryCompleter it was given.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "joulebench/load/query.h"

namespace joulebench::load {

// Knobs an offline sweep may turn between runs (never while queries are in flight). Unset
// fields mean "leave as is".
struct SutTuning {
  std::optional<int> batch_size;   // samples per model invocation
  std::optional<int> concurrency;  // parallel workers / streams / threads
  friend bool operator==(const SutTuning&, const SutTuning&) = default;
};

// The values a SUT is willing to try; an empty list means the knob is not exposed.
struct SutTuningSpace {
  std::vector<int> batch_sizes;
  std::vector<int> concurrencies;
};

class SystemUnderTest {
 public:
  virtual ~SystemUnderTest() = default;

  // Short label for reports, e.g. "null", "sleep(workers=4, service=2 ms, fixed)".
  virtual std::string Name() const = 0;

  // Takes ownership of nothing: `queries` is valid only during the call (copy what you
  // need). Must return quickly: queue the work, do not process a large batch inline unless
  // the SUT is meant to be synchronous (the `null` SUT completes inline, on purpose).
  // Server scenario: usually one query per call; when the generator is behind schedule it
  // coalesces the late queries into one call. Offline: all queries in one call.
  virtual void IssueQuery(std::span<const Query> queries, QueryCompleter& completer) = 0;

  // No more queries will arrive for a while (end of a run, or the generator is idle): a
  // SUT that batches dynamically should dispatch its partial batch now. Default: nothing.
  virtual void FlushQueries() {}

  // Offline peak search sweeps these (every combination); default: nothing exposed.
  virtual SutTuningSpace TuningSpace() const { return {}; }
  // Applies one point of TuningSpace(); called only while no query is outstanding.
  // Throws InputError for a value outside the space.
  virtual void ApplyTuning(const SutTuning& /*tuning*/) {}
};

}  // namespace joulebench::load
