#include "joulebench/load/test_settings.h"

#include <fmt/format.h>

#include <cmath>

#include "joulebench/error.h"

namespace joulebench::load {

std::string_view ScenarioName(Scenario s) {
  switch (s) {
    case Scenario::kOffline:
      return "offline";
    case Scenario::kServer:
      return "server";
    case Scenario::kSingleStream:
      return "single-stream";
  }
  return "unknown";
}

Scenario ParseScenario(std::string_view name) {
  if (name == "offline") return Scenario::kOffline;
  if (name == "server") return Scenario::kServer;
  if (name == "single-stream" || name == "singlestream") return Scenario::kSingleStream;
  throw InputError(
      fmt::format("unknown scenario '{}': use offline, server or single-stream", name));
}

namespace {

void RequirePercent(double value, std::string_view field) {
  if (!(value > 0 && value < 100)) {
    throw InputError(
        fmt::format("{} must be a percentage strictly between 0 and 100 (got {})", field, value));
  }
}

void RequirePositive(double value, std::string_view field) {
  if (!(value > 0) || std::isinf(value)) {
    throw InputError(fmt::format("{} must be a positive number (got {})", field, value));
  }
}

}  // namespace

void Validate(const TestSettings& s) {
  RequirePositive(s.server_target_qps, "server_target_qps");
  RequirePositive(static_cast<double>(s.server_target_latency_ns), "server_target_latency_ns");
  RequirePercent(s.server_target_latency_percentile, "server_target_latency_percentile");
  if (s.server_max_coalesce < 1) throw InputError("server_max_coalesce must be >= 1");
  if (!(s.offline_expected_qps >= 0) || std::isinf(s.offline_expected_qps)) {
    throw InputError("offline_expected_qps must be >= 0 (0 = measure it during warm-up)");
  }
  RequirePercent(s.single_stream_target_latency_percentile,
                 "single_stream_target_latency_percentile");
  if (s.single_stream_target_latency_ns < 0) {
    throw InputError("single_stream_target_latency_ns must be >= 0 (0 = no bound)");
  }
  if (s.min_duration_ms < 0) throw InputError("min_duration_ms must be >= 0");
  if (s.max_duration_ms < 0) throw InputError("max_duration_ms must be >= 0 (0 = no limit)");
  if (s.max_outstanding_queries < 2 || s.max_outstanding_queries > (std::uint64_t{1} << 30)) {
    throw InputError("max_outstanding_queries must be between 2 and 2^30");
  }
  if (!(s.max_failed_query_fraction >= 0 && s.max_failed_query_fraction < 1)) {
    throw InputError(fmt::format("max_failed_query_fraction must be in [0, 1) (got {})",
                                 s.max_failed_query_fraction));
  }
  if (s.window_ms < 1) throw InputError("window_ms must be >= 1");
  if (s.max_warmup_ms < 0) throw InputError("max_warmup_ms must be >= 0");
  if (s.steady_state_windows < 2) throw InputError("steady_state_windows must be >= 2");
  RequirePositive(s.steady_state_band_relative, "steady_state_band_relative");
  RequirePositive(s.steady_state_drift_relative, "steady_state_drift_relative");
}

}  // namespace joulebench::load
