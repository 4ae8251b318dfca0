// What the load generator hands a system under test (queries) and how the SUT hands them
// back (responses through a QueryCompleter). Modelled on MLPerf LoadGen's seam: tiny value
// types, and completion that is thread-safe and never blocks.
#pragma once

#include <cstdint>
#include <span>

namespace joulebench::load {

// Unique within one scenario run. Opaque to the SUT: return it unchanged in QueryResponse.
using QueryId = std::uint64_t;
// Index into the QuerySampleLibrary, in [0, TotalSampleCount()).
using SampleIndex = std::uint64_t;

// One query = one sample to process (LoadGen's QuerySample).
struct Query {
  QueryId id = 0;
  SampleIndex sample_index = 0;
};

// The SUT's answer to one query. `ok = false` marks a query the SUT failed to process; it
// still counts as completed (its latency is recorded) and makes the result INVALID.
struct QueryResponse {
  QueryId id = 0;
  bool ok = true;
};

// Receives completions. The load generator owns it; the SUT receives a reference with every
// IssueQuery call (the same object for the whole scenario run) and may keep it until it has
// completed every query it was given.
//
// Complete() may be called from any thread, concurrently, with any number of responses
// (one at a time or a whole batch), and never blocks: it records latencies into per-thread
// histograms and bumps counters, no lock, no allocation after a thread's first call. Each
// issued query must be completed exactly once; completing an unknown id is undefined.
class QueryCompleter {
 public:
  virtual ~QueryCompleter() = default;
  virtual void Complete(std::span<const QueryResponse> responses) noexcept = 0;
  // Convenience for one response.
  void Complete(const QueryResponse& response) noexcept { Complete({&response, 1}); }
};

}  // namespace joulebench::load
