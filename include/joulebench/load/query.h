// What the load generator hands a system under test (queries) and how the SUT hands them
// back (responses through a QueryCompleter). Modelled on MLPerf LoadGen's seam: tiny value
// types, and completion that is thread-safe and never blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

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

// Why a query failed, counted per kind in the result. A SUT that does not say why reports
// kSut. The HTTP kinds are what a client sees of a server (see docs/http.md).
enum class FailureKind : std::uint8_t {
  kSut = 0,      // the SUT failed without saying why (an exception in a model run...)
  kServerError,  // HTTP 5xx
  kClientError,  // HTTP 4xx (the request was refused: wrong model name, bad payload...)
  kTimeout,      // no complete reply within the timeout (connect or total)
  kRefused,      // the connection was refused (nothing listening)
  kReset,        // the connection was reset or closed before the reply was complete
  kMalformed,    // a complete reply that is not what the protocol says (bad JSON, bad SSE)
  kTransport,    // any other transport error (name resolution, TLS, ...)
};
inline constexpr std::size_t kFailureKindCount = 8;
// "sut", "http-5xx", "http-4xx", "timeout", "refused", "reset", "malformed", "transport".
std::string_view FailureKindName(FailureKind kind) noexcept;

// The SUT's answer to one query. `ok = false` marks a query the SUT failed to process; it
// still counts as completed (its latency is recorded), is counted under `failure`, and makes
// the result INVALID when failures exceed TestSettings::max_failed_query_fraction.
struct QueryResponse {
  QueryId id = 0;
  bool ok = true;
  FailureKind failure = FailureKind::kSut;  // why, when ok is false; ignored otherwise
  // Token streams (e.g. an OpenAI-compatible server streaming a completion): the arrival time
  // of each output token or chunk, in CLOCK_MONOTONIC nanoseconds, in order.
  // Valid only during Complete(). Empty for an ordinary reply. From it the generator records
  // the time to first token (from the query's scheduled time), every inter-token gap and the
  // time per output token, as MLPerf LoadGen's token latencies.
  std::span<const std::int64_t> token_times_ns = {};
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
