// Replies of a BMC's Redfish service. The fuzz input is a recorded service: documents separated
// by lines "%%", each "PATH [STATUS]" on its first line and the reply's body after it (a path
// not recorded answers 404; STATUS "timeout" is a request that got no answer). Discovery walks
// it as it walks a real BMC, then one poll reads the reading it chose. Whatever the BMC sends,
// discovery must end, say why in storable text when it finds nothing, and a reading must be a
// finite, non-negative number of watts. The user's --bmc-url and the replies' ISO 8601
// durations are checked on the same text.
#include <cstdint>
#include <map>
#include <string>

#include "energy/redfish_source.h"
#include "fuzz_support.h"

namespace {

namespace energy = joulebench::energy;
using joulebench::fuzz::Check;
using joulebench::fuzz::CheckFinite;
using joulebench::fuzz::CheckStorable;

std::map<std::string, energy::HttpResponse> Service(std::string_view text) {
  std::map<std::string, energy::HttpResponse> service;
  for (const auto document : joulebench::fuzz::SplitDocuments(text, "%%")) {
    const std::size_t nl = document.find('\n');
    std::string_view head = document.substr(0, nl);
    energy::HttpResponse r;
    r.status = 200;
    r.body = nl == std::string_view::npos ? "" : std::string(document.substr(nl + 1));
    if (const std::size_t space = head.find(' '); space != std::string_view::npos) {
      const std::string_view status = head.substr(space + 1);
      head = head.substr(0, space);
      if (status == "timeout") {
        r.failure = energy::HttpFailure::kTimeout;
        r.error = "timed out";
      } else {
        r.status = 0;
        for (char c : status.substr(0, 3))
          r.status = r.status * 10 + (c >= '0' && c <= '9' ? c - '0' : 0);
      }
    }
    service.emplace(std::string(head), std::move(r));
  }
  return service;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = joulebench::fuzz::AsText(data, size);
  const auto service = Service(text);
  energy::HttpResponse not_found;
  not_found.status = 404;
  std::size_t requests = 0;
  const energy::RedfishGet get = [&](const std::string& path) -> const energy::HttpResponse& {
    ++requests;
    const auto it = service.find(path);
    return it == service.end() ? not_found : it->second;
  };
  energy::BmcHttpSettings settings;
  settings.base_url = "https://bmc.fuzz";
  settings.user = "fuzz";

  energy::ProbeResult result;
  const auto found = energy::DiscoverRedfishReading(get, settings, "", result);
  CheckStorable(result.reason, "reason");
  CheckStorable(result.fix, "fix");
  for (const auto& d : result.details) CheckStorable(d, "detail");
  // Discovery reads a bounded number of resources (kMaxChassis, kMaxPowerSupplies).
  Check(requests <= 2 + 64 * (1 + 5 + 2 * 16), "discovery made too many requests");
  if (found) {
    Check(!found->plan.parts.empty(), "a reading without parts");
    CheckFinite(found->plan.first_watts, "first reading");
    Check(found->plan.first_watts >= 0, "negative first reading");
    CheckStorable(found->chassis_id, "chassis id");
    CheckStorable(found->plan.what, "what");
    if (found->plan.sensing_interval_s) {
      CheckFinite(*found->plan.sensing_interval_s, "sensing interval");
    }
    const auto poll = energy::PollRedfishParts(get, found->plan.parts, settings);
    if (poll.ok) {
      CheckFinite(poll.watts, "polled watts");
      Check(poll.watts >= 0, "negative polled watts");
    } else {
      CheckStorable(poll.error, "poll error");
    }
  }

  for (const auto line : joulebench::fuzz::SplitLines(text.substr(0, 1024))) {
    if (const auto seconds = energy::ParseIsoDurationSeconds(std::string(line))) {
      CheckFinite(*seconds, "ISO 8601 duration");
      Check(*seconds >= 0, "negative ISO 8601 duration");
    }
    std::string why;
    const std::string url = energy::NormalizeBmcUrl(std::string(line), why);
    Check(url.empty() != why.empty(), "a BMC URL and a reason, or neither");
    if (!url.empty()) {
      Check(url.starts_with("https://") && url.find('@') == std::string::npos, "BMC URL");
    }
  }
  return 0;
}
