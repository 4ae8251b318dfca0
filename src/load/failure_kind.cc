#include "joulebench/load/query.h"

namespace joulebench::load {

std::string_view FailureKindName(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::kSut:
      return "sut";
    case FailureKind::kServerError:
      return "http-5xx";
    case FailureKind::kClientError:
      return "http-4xx";
    case FailureKind::kTimeout:
      return "timeout";
    case FailureKind::kRefused:
      return "refused";
    case FailureKind::kReset:
      return "reset";
    case FailureKind::kMalformed:
      return "malformed";
    case FailureKind::kTransport:
      return "transport";
  }
  return "unknown";
}

}  // namespace joulebench::load
