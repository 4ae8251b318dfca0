// The whole machine's power from its BMC's Redfish service (DMTF DSP0266), over HTTPS with
// libcurl. Discovery walks the service root (/redfish/v1) to the Chassis collection and, per
// chassis from the outermost in, looks for a power reading in this order:
//   1. EnvironmentMetrics: PowerWatts.Reading (newer schema; the Sensor behind its
//      DataSourceUri is polled instead when it exists, and its SensingInterval sets the period),
//   2. PowerSubsystem: the sum of PowerSupplies[]/Metrics InputPowerWatts.Reading,
//   3. Power: PowerControl[].PowerConsumedWatts (older schema, deprecated in 2020).
// The reading is polled on the source's own thread (PolledPowerSource) and is one domain,
// "redfish/<chassis id>", component kPlatform with whole_machine set.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "energy/bmc_http_client.h"
#include "energy/polled_power_source.h"

namespace joulebench::energy {

// One number to read and sum: the JSON pointer inside the resource at path.
struct RedfishReadingPart {
  std::string path;     // "/redfish/v1/Chassis/1/Power"
  std::string pointer;  // "/PowerControl/0/PowerConsumedWatts"
};

// What discovery and polling need of the BMC: the answer to a GET of a path. The poller's
// BmcHttpClient over HTTPS; recorded replies in tests and the fuzz target.
using RedfishGet = std::function<const HttpResponse&(const std::string& path)>;

// How to read one chassis's power, as discovery found it.
struct RedfishReadingPlan {
  std::vector<RedfishReadingPart> parts;
  std::string what;  // "EnvironmentMetrics PowerWatts"
  double first_watts = 0;
  std::optional<double> sensing_interval_s;
  std::string sensing_interval_text;
  bool ac_input = false;
};

struct RedfishDiscovery {
  RedfishReadingPlan plan;
  std::string chassis_id;
  std::string chassis_maker;   // "Manufacturer Model"
  std::size_t candidates = 0;  // chassis that were tried or could be chosen
};

// Walks the service from /redfish/v1 to the first chassis with a power reading (`chassis`, an
// Id or path, restricts the choice; "" = any, outermost first). Adds what it saw to
// result.details; on failure returns nullopt with result's status, reason and fix set.
std::optional<RedfishDiscovery> DiscoverRedfishReading(const RedfishGet& get,
                                                       const BmcHttpSettings& settings,
                                                       const std::string& chassis,
                                                       ProbeResult& result);

// One reading: GETs the parts and sums them.
PowerPoller::Result PollRedfishParts(const RedfishGet& get,
                                     const std::vector<RedfishReadingPart>& parts,
                                     const BmcHttpSettings& settings);

// Reads the parts (one GET each, on the kept-alive connection) and sums them.
class RedfishPoller final : public PowerPoller {
 public:
  RedfishPoller(std::unique_ptr<BmcHttpClient> client, std::vector<RedfishReadingPart> parts);
  Result Poll() override;
  void Cancel() override { client_->Cancel(); }
  const BmcHttpClient& client() const { return *client_; }

 private:
  std::unique_ptr<BmcHttpClient> client_;
  std::vector<RedfishReadingPart> parts_;
};

// "https://host[:port]" from what the user gave (a trailing "/" or "/redfish/v1" is
// dropped). Empty, with `why` set, when it is not an https URL of a host, or carries a user
// or password (those come from --bmc-user and the password file, never from the URL).
std::string NormalizeBmcUrl(const std::string& url, std::string& why);

// An ISO 8601 duration as Redfish writes it ("PT1S", "PT0.5S", "PT1M30S", "P1DT2H"), in
// seconds; nullopt when it is not one.
std::optional<double> ParseIsoDurationSeconds(const std::string& text);

// "why the request failed" for messages: "no answer within 5 s", "TLS: <libcurl's words>".
std::string DescribeHttpFailure(const HttpResponse& response, const BmcHttpSettings& settings);

}  // namespace joulebench::energy
