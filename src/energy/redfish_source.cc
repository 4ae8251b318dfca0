#include "energy/redfish_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "joulebench/error.h"
#include "joulebench/units.h"

namespace joulebench::energy {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Bounds on what discovery reads, so that a BMC with a huge tree cannot make the probe slow.
constexpr std::size_t kMaxChassis = 64;
constexpr std::size_t kMaxPowerSupplies = 16;
// The BMC's power when it publishes no sensing interval: BMCs refresh every 1-10 s.
constexpr double kDefaultPeriodS = 1.0;
constexpr double kMinPeriodS = 0.1;

double SecondsOf(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A link member: {"@odata.id": "/redfish/v1/..."}; "" when absent.
std::string Link(const json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return "";
  const auto id = it->find("@odata.id");
  if (id == it->end() || !id->is_string()) return "";
  std::string path = id->get<std::string>();
  // A fragment ("...#/PowerControl/0") names a part of a resource, not another resource.
  if (const auto hash = path.find('#'); hash != std::string::npos) path.resize(hash);
  return path;
}

std::string Text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<std::string> MemberLinks(const json& collection, std::size_t limit) {
  std::vector<std::string> out;
  const auto it = collection.find("Members");
  if (it == collection.end() || !it->is_array()) return out;
  for (const auto& member : *it) {
    if (out.size() >= limit) break;
    if (!member.is_object()) continue;
    const auto id = member.find("@odata.id");
    if (id != member.end() && id->is_string()) out.push_back(id->get<std::string>());
  }
  return out;
}

// The number at `pointer`, or why there is none.
std::optional<double> NumberAt(const json& doc, const std::string& pointer, std::string& why) {
  try {
    const json::json_pointer ptr(pointer);
    if (!doc.contains(ptr)) {
      why = fmt::format("it has no {}", pointer.substr(1));
      return std::nullopt;
    }
    const json& v = doc.at(ptr);
    if (v.is_null()) {
      why = fmt::format("{} is null (the BMC has no reading now; is the host powered off?)",
                        pointer.substr(1));
      return std::nullopt;
    }
    if (!v.is_number()) {
      why = fmt::format("{} is not a number", pointer.substr(1));
      return std::nullopt;
    }
    const double watts = v.get<double>();
    if (!std::isfinite(watts) || watts < 0) {
      why = fmt::format("{} is {}, not a power", pointer.substr(1), v.dump());
      return std::nullopt;
    }
    return watts;
  } catch (const json::exception&) {
    why = fmt::format("it has no {}", pointer.substr(1));
    return std::nullopt;
  }
}

// Chassis ids become part of a domain name: keep them to characters that need no quoting.
std::string DomainSafe(const std::string& id) {
  std::string out;
  for (char c : id) {
    const bool plain =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    out += plain ? c : '_';
  }
  return out.empty() ? "chassis" : out;
}

struct Chassis {
  std::string path;
  std::string id;
  std::string type;
  std::string maker;      // "Manufacturer Model"
  std::string container;  // path of the chassis that contains this one, "" if none known
  bool holds_system = false;
  std::size_t order = 0;
  int depth = 0;
  json doc;
};

using ReadingPlan = RedfishReadingPlan;

// Walks a Redfish service for one power reading. Network problems and refused credentials
// end discovery (fatal); a missing or null resource only rules out that way of reading.
class Discovery {
 public:
  Discovery(const RedfishGet& get, const BmcHttpSettings& settings, ProbeResult& result)
      : get_(get), settings_(settings), result_(result) {}

  enum class Outcome { kOk, kMissing, kFatal };

  Outcome Fetch(const std::string& path, json& out, std::string& why) {
    const HttpResponse& r = get_(path);
    const BmcHttpSettings& s = settings_;
    if (r.failure != HttpFailure::kNone) {
      result_.status = ProbeStatus::kError;
      result_.reason =
          fmt::format("GET {} from {}: {}", path, s.base_url, DescribeHttpFailure(r, s));
      switch (r.failure) {
        case HttpFailure::kTimeout:
          result_.fix = fmt::format(
              "check that the BMC at {} is reachable from this host (its management network) "
              "and answers; a slow BMC needs a longer --bmc-timeout (now {})",
              s.base_url, FormatDuration(SecondsOf(s.timeout)));
          break;
        case HttpFailure::kTls:
          result_.fix =
              "give the BMC's CA certificate (or its self-signed certificate) with --bmc-ca-file "
              "FILE; --bmc-insecure accepts any certificate, and the run's warnings then say so";
          break;
        case HttpFailure::kConnect:
        case HttpFailure::kResolve:
          result_.fix =
              "check the host and port in --bmc-url (the BMC's own address, not the "
              "host's)";
          break;
        default:
          result_.fix = "see the reason; check --bmc-url";
      }
      return Outcome::kFatal;
    }
    if (r.status == 401) {
      result_.status = ProbeStatus::kPermissionDenied;
      result_.reason = fmt::format("the BMC at {} refused user '{}' (HTTP 401 on GET {})",
                                   s.base_url, s.user, path);
      result_.fix =
          "check --bmc-user and the password (--bmc-password-file or JOULEBENCH_BMC_PASSWORD); "
          "the account must be allowed to log in to Redfish";
      return Outcome::kFatal;
    }
    if (r.status == 403) {
      result_.status = ProbeStatus::kPermissionDenied;
      result_.reason = fmt::format("user '{}' may not read {} on the BMC (HTTP 403)", s.user, path);
      result_.fix = "give the account a role that may read the chassis (ReadOnly is enough)";
      return Outcome::kFatal;
    }
    if (r.status != 200) {
      why = fmt::format("GET {} answered HTTP {}", path, r.status);
      return Outcome::kMissing;
    }
    out = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (out.is_discarded() || !out.is_object()) {
      why = fmt::format("GET {} did not return a JSON object", path);
      return Outcome::kMissing;
    }
    return Outcome::kOk;
  }

  // A reading of this chassis, the ways ruled out in `why`, or nullopt after a fatal error
  // (result_ then says why).
  std::optional<ReadingPlan> FindReading(const Chassis& c, std::vector<std::string>& why,
                                         bool& fatal) {
    fatal = false;
    if (const std::string env = Link(c.doc, "EnvironmentMetrics"); !env.empty()) {
      json doc;
      std::string miss;
      const Outcome o = Fetch(env, doc, miss);
      if (o == Outcome::kFatal) return Fatal(fatal);
      if (o == Outcome::kOk) {
        std::string reason;
        if (const auto watts = NumberAt(doc, "/PowerWatts/Reading", reason)) {
          ReadingPlan plan;
          plan.parts.push_back({env, "/PowerWatts/Reading"});
          plan.what = "EnvironmentMetrics PowerWatts";
          plan.first_watts = *watts;
          if (const std::string sensor =
                  Text(doc.value("PowerWatts", json::object()), "DataSourceUri");
              !sensor.empty()) {
            if (!UseSensor(sensor, plan, fatal) && fatal) return std::nullopt;
          }
          return plan;
        }
        why.push_back("EnvironmentMetrics: " + reason);
      } else {
        why.push_back(miss);
      }
    }
    if (const std::string subsystem = Link(c.doc, "PowerSubsystem"); !subsystem.empty()) {
      std::string reason;
      auto plan = PowerSupplies(subsystem, reason, fatal);
      if (fatal) return std::nullopt;
      if (plan) return plan;
      why.push_back("PowerSubsystem: " + reason);
    }
    if (const std::string power = Link(c.doc, "Power"); !power.empty()) {
      json doc;
      std::string miss;
      const Outcome o = Fetch(power, doc, miss);
      if (o == Outcome::kFatal) return Fatal(fatal);
      if (o == Outcome::kOk) {
        std::string reason;
        const std::size_t index = PowerControlIndex(doc);
        const std::string pointer = fmt::format("/PowerControl/{}/PowerConsumedWatts", index);
        if (const auto watts = NumberAt(doc, pointer, reason)) {
          ReadingPlan plan;
          plan.parts.push_back({power, pointer});
          plan.what = fmt::format("Power PowerControl[{}] PowerConsumedWatts", index);
          plan.first_watts = *watts;
          return plan;
        }
        why.push_back("Power: " + reason);
      } else {
        why.push_back(miss);
      }
    }
    if (why.empty()) why.push_back("it links no EnvironmentMetrics, PowerSubsystem or Power");
    return std::nullopt;
  }

 private:
  std::optional<ReadingPlan> Fatal(bool& fatal) {
    fatal = true;
    return std::nullopt;
  }

  // Polls the Sensor behind EnvironmentMetrics' PowerWatts when it has the reading: it is
  // smaller, and its SensingInterval says how often the BMC refreshes it.
  bool UseSensor(const std::string& path, ReadingPlan& plan, bool& fatal) {
    json doc;
    std::string miss;
    const Outcome o = Fetch(path, doc, miss);
    if (o == Outcome::kFatal) {
      fatal = true;
      return false;
    }
    if (o != Outcome::kOk) return false;
    std::string reason;
    const auto watts = NumberAt(doc, "/Reading", reason);
    if (!watts) return false;
    plan.parts = {{path, "/Reading"}};
    plan.first_watts = *watts;
    const std::string id = Text(doc, "Id");
    plan.what = fmt::format("Sensor {} (EnvironmentMetrics PowerWatts)", id.empty() ? path : id);
    plan.sensing_interval_text = Text(doc, "SensingInterval");
    if (!plan.sensing_interval_text.empty()) {
      plan.sensing_interval_s = ParseIsoDurationSeconds(plan.sensing_interval_text);
    }
    return true;
  }

  // PowerControl[] may hold the chassis and its parts (CPU, memory subsystems): take the entry
  // for the whole chassis, else the first.
  static std::size_t PowerControlIndex(const json& power) {
    const auto it = power.find("PowerControl");
    if (it == power.end() || !it->is_array()) return 0;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string context = Text((*it)[i], "PhysicalContext");
      if (context.empty() || context == "Chassis" || context == "SystemBoard" ||
          context == "PowerSupply") {
        return i;
      }
    }
    return 0;
  }

  std::optional<ReadingPlan> PowerSupplies(const std::string& subsystem, std::string& why,
                                           bool& fatal) {
    json doc;
    if (const Outcome o = Fetch(subsystem, doc, why); o != Outcome::kOk) {
      fatal = o == Outcome::kFatal;
      return std::nullopt;
    }
    const std::string supplies = Link(doc, "PowerSupplies");
    if (supplies.empty()) {
      why = "it links no PowerSupplies";
      return std::nullopt;
    }
    json collection;
    if (const Outcome o = Fetch(supplies, collection, why); o != Outcome::kOk) {
      fatal = o == Outcome::kFatal;
      return std::nullopt;
    }
    ReadingPlan plan;
    std::vector<std::string> names;
    for (const auto& psu_path : MemberLinks(collection, kMaxPowerSupplies)) {
      json psu;
      std::string miss;
      const Outcome o = Fetch(psu_path, psu, miss);
      if (o == Outcome::kFatal) return Fatal(fatal);
      if (o != Outcome::kOk) {
        why = miss;
        return std::nullopt;
      }
      const json status = psu.value("Status", json::object());
      if (Text(status, "State") == "Absent") continue;
      const std::string metrics = Link(psu, "Metrics");
      const std::string name = Text(psu, "Id").empty() ? psu_path : Text(psu, "Id");
      if (metrics.empty()) {
        why = fmt::format("power supply {} links no Metrics", name);
        return std::nullopt;
      }
      json m;
      const Outcome mo = Fetch(metrics, m, miss);
      if (mo == Outcome::kFatal) return Fatal(fatal);
      if (mo != Outcome::kOk) {
        why = miss;
        return std::nullopt;
      }
      std::string reason;
      const auto watts = NumberAt(m, "/InputPowerWatts/Reading", reason);
      if (!watts) {
        why = fmt::format("power supply {}: {}", name, reason);
        return std::nullopt;
      }
      plan.parts.push_back({metrics, "/InputPowerWatts/Reading"});
      plan.first_watts += *watts;
      names.push_back(name);
    }
    if (plan.parts.empty()) {
      why = "no power supply is present";
      return std::nullopt;
    }
    std::string joined;
    for (const auto& n : names) joined += (joined.empty() ? "" : " + ") + n;
    plan.what = fmt::format("PowerSubsystem input power of {} power suppl{} ({})", names.size(),
                            names.size() == 1 ? "y" : "ies", joined);
    plan.ac_input = true;
    return plan;
  }

  const RedfishGet& get_;
  const BmcHttpSettings& settings_;
  ProbeResult& result_;
};

// Depth of each chassis in the containment tree (0 = outermost), from Links.ContainedBy and
// the containers' Links.Contains.
void ComputeDepths(std::vector<Chassis>& all) {
  std::map<std::string, std::size_t> by_path;
  for (std::size_t i = 0; i < all.size(); ++i) by_path[all[i].path] = i;
  for (auto& c : all) {
    const json links = c.doc.value("Links", json::object());
    const std::string container = Link(links, "ContainedBy");
    if (by_path.contains(container)) c.container = container;
  }
  for (auto& c : all) {
    const json links = c.doc.value("Links", json::object());
    const auto contains = links.find("Contains");
    if (contains == links.end() || !contains->is_array()) continue;
    for (const auto& member : *contains) {
      if (!member.is_object() || !member.contains("@odata.id")) continue;
      const auto& id = member["@odata.id"];
      if (!id.is_string()) continue;
      const auto it = by_path.find(id.get<std::string>());
      if (it != by_path.end() && all[it->second].container.empty() && &all[it->second] != &c) {
        all[it->second].container = c.path;
      }
    }
  }
  for (auto& c : all) {
    int depth = 0;
    std::string at = c.container;
    while (!at.empty() && depth < 16) {
      ++depth;
      at = all[by_path[at]].container;
    }
    c.depth = depth;
  }
}

}  // namespace

std::string NormalizeBmcUrl(const std::string& url, std::string& why) {
  const std::string scheme = "https://";
  if (Lower(url.substr(0, scheme.size())) != scheme) {
    why = "must start with https:// (Redfish is served over HTTPS)";
    return "";
  }
  std::string rest = url.substr(scheme.size());
  std::string path;
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    path = rest.substr(slash);
    rest.resize(slash);
  }
  if (rest.find('@') != std::string::npos) {
    why = "must not hold a user or password; use --bmc-user and --bmc-password-file";
    return "";
  }
  if (rest.empty() || rest.find_first_of("?#") != std::string::npos) {
    why = "must name the BMC's host, e.g. https://10.0.0.5 or https://bmc.example:8443";
    return "";
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (Lower(path) == "/redfish/v1" || Lower(path) == "/redfish") path.clear();
  if (!path.empty()) {
    why =
        "must be the BMC's address without a path (the service root /redfish/v1 is found "
        "under it)";
    return "";
  }
  return scheme + rest;
}

std::optional<double> ParseIsoDurationSeconds(const std::string& text) {
  // P[nD][T[nH][nM][n[.n]S]], the forms Redfish's "duration" properties use.
  if (text.size() < 3 || (text[0] != 'P' && text[0] != 'p')) return std::nullopt;
  double seconds = 0;
  bool in_time = false;
  bool any = false;
  std::size_t i = 1;
  while (i < text.size()) {
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
    if (c == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) {
      ++end;
    }
    if (end == i || end >= text.size()) return std::nullopt;
    double value = 0;
    try {
      std::size_t used = 0;
      value = std::stod(text.substr(i, end - i), &used);
      if (used != end - i) return std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
    const char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(text[end])));
    if (!in_time && unit == 'D') {
      seconds += value * 86400;
    } else if (in_time && unit == 'H') {
      seconds += value * 3600;
    } else if (in_time && unit == 'M') {
      seconds += value * 60;
    } else if (in_time && unit == 'S') {
      seconds += value;
    } else {
      return std::nullopt;
    }
    any = true;
    i = end + 1;
  }
  // Digits enough make a sum of finite parts infinite: that is not an interval either.
  if (!any || !std::isfinite(seconds)) return std::nullopt;
  return seconds;
}

std::string DescribeHttpFailure(const HttpResponse& r, const BmcHttpSettings& settings) {
  switch (r.failure) {
    case HttpFailure::kNone:
      return fmt::format("HTTP {}", r.status);
    case HttpFailure::kTimeout:
      return fmt::format("no answer within {} (the BMC is unreachable or stalled)",
                         FormatDuration(SecondsOf(settings.timeout)));
    case HttpFailure::kTls:
      return fmt::format("TLS verification failed: {}", r.error);
    default:
      return fmt::format("{}: {}", HttpFailureName(r.failure), r.error);
  }
}

RedfishPoller::RedfishPoller(std::unique_ptr<BmcHttpClient> client,
                             std::vector<RedfishReadingPart> parts)
    : client_(std::move(client)), parts_(std::move(parts)) {}

PowerPoller::Result RedfishPoller::Poll() {
  return PollRedfishParts(
      [this](const std::string& path) -> const HttpResponse& { return client_->Get(path); }, parts_,
      client_->settings());
}

PowerPoller::Result PollRedfishParts(const RedfishGet& get,
                                     const std::vector<RedfishReadingPart>& parts,
                                     const BmcHttpSettings& settings) {
  PowerPoller::Result result;
  double sum = 0;
  for (const auto& part : parts) {
    const HttpResponse& r = get(part.path);
    if (r.failure != HttpFailure::kNone) {
      result.error = fmt::format("GET {}: {}", part.path, DescribeHttpFailure(r, settings));
      return result;
    }
    if (r.status != 200) {
      result.error = fmt::format("GET {} answered HTTP {}", part.path, r.status);
      return result;
    }
    const json doc = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      result.error = fmt::format("GET {} did not return JSON", part.path);
      return result;
    }
    std::string why;
    const auto watts = NumberAt(doc, part.pointer, why);
    if (!watts) {
      result.error = fmt::format("{}: {}", part.path, why);
      return result;
    }
    sum += *watts;
  }
  result.ok = true;
  result.watts = sum;
  return result;
}

ProbeResult ProbeRedfish(const SourceOptions& options) {
  ProbeResult result;
  result.source_name = "redfish";
  const BmcOptions& bmc = options.bmc;
  if (bmc.url.empty()) {
    result.status = ProbeStatus::kAbsent;
    result.reason = "no BMC address given (--bmc-url)";
    result.fix =
        "to measure the whole machine through its BMC: --bmc-url https://BMC --bmc-user USER "
        "--bmc-password-file FILE (docs/sources.md)";
    return result;
  }
  std::string why;
  BmcHttpSettings settings;
  settings.base_url = NormalizeBmcUrl(bmc.url, why);
  if (settings.base_url.empty()) {
    result.status = ProbeStatus::kError;
    result.reason = "the BMC URL " + why;
    result.fix = "give --bmc-url https://HOST[:PORT]";
    return result;
  }
  if (bmc.user.empty() || bmc.password.empty()) {
    result.status = ProbeStatus::kPermissionDenied;
    result.reason = fmt::format("no BMC credentials for {}: {} missing", settings.base_url,
                                bmc.user.empty() && bmc.password.empty() ? "user and password are"
                                : bmc.user.empty()                       ? "the user is"
                                                                         : "the password is");
    result.fix =
        "give --bmc-user USER and the password in a file (--bmc-password-file FILE, mode 0600) "
        "or in JOULEBENCH_BMC_PASSWORD";
    return result;
  }
  settings.user = bmc.user;
  settings.password = bmc.password;
  settings.ca_file = bmc.ca_file;
  settings.insecure = bmc.insecure;
  settings.timeout = bmc.timeout;

  std::unique_ptr<BmcHttpClient> client;
  try {
    client = std::make_unique<BmcHttpClient>(settings);
  } catch (const Error& e) {
    result.status = ProbeStatus::kError;
    result.reason = e.what();
    result.fix = "check that libcurl is installed (libcurl4)";
    return result;
  }
  const RedfishGet get = [&client](const std::string& path) -> const HttpResponse& {
    return client->Get(path);
  };
  const auto found = DiscoverRedfishReading(get, settings, bmc.chassis, result);
  if (!found) return result;
  const RedfishReadingPlan* plan = &found->plan;
  const std::string& chosen_id = found->chassis_id;
  const std::string& chosen_maker = found->chassis_maker;
  const std::size_t candidate_count = found->candidates;
  // The poll period: the user's, else the sensor's own refresh, else 1 s.
  double period_s = kDefaultPeriodS;
  std::string period_origin = "the BMC publishes no sensing interval; --bmc-interval sets it";
  if (bmc.poll_interval) {
    period_s = SecondsOf(*bmc.poll_interval);
    period_origin = "set by --bmc-interval";
  } else if (plan->sensing_interval_s && *plan->sensing_interval_s > 0) {
    period_s = std::clamp(*plan->sensing_interval_s, kMinPeriodS, 3600.0);
    period_origin = fmt::format("the sensor's SensingInterval {}", plan->sensing_interval_text);
  }
  if (plan->sensing_interval_s && bmc.poll_interval) {
    period_origin +=
        fmt::format(" (the sensor refreshes every {})", FormatDuration(*plan->sensing_interval_s));
  }
  const double refresh_s = std::max(period_s, plan->sensing_interval_s.value_or(0.0));

  result.details.push_back(fmt::format("reading chassis {}{}: {} = {}", chosen_id,
                                       chosen_maker.empty() ? "" : " (" + chosen_maker + ")",
                                       plan->what, FormatWatts(plan->first_watts)));
  if (candidate_count > 1 && bmc.chassis.empty()) {
    result.details.push_back("another chassis can be chosen with --bmc-chassis ID");
  }
  result.details.push_back(fmt::format("polled every {} ({}) on its own thread",
                                       FormatDuration(period_s), period_origin));
  result.details.push_back(
      settings.insecure          ? "TLS certificate verification is OFF (--bmc-insecure)"
      : settings.ca_file.empty() ? "TLS certificate verified against the system's CA store"
                                 : "TLS certificate verified against " + settings.ca_file);
  if (settings.insecure) {
    result.fix = "verify the BMC instead: give its certificate with --bmc-ca-file FILE";
  }

  DomainInfo d;
  d.name = "redfish/" + DomainSafe(chosen_id);
  d.component = Component::kPlatform;
  d.signal = SignalKind::kCounter;
  d.whole_machine = true;
  d.provenance = {ProvenanceKind::kMeasured, fmt::format("Redfish {} chassis {} {}",
                                                         settings.base_url, chosen_id, plan->what)};
  d.update_period_s = refresh_s;
  d.note = fmt::format(
      "the whole machine as its BMC measures it{} (CPUs, memory, accelerators, fans, disks, "
      "NICs, power-supply losses); polled every {} on joulebench's own thread, each reading "
      "timestamped mid-request and integrated between readings (trapezoid)",
      plan->ac_input ? " at the power supplies' inputs" : "", FormatDuration(period_s));

  PolledPowerSource::Settings source_settings;
  source_settings.source_name = "redfish";
  source_settings.period =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(period_s));
  source_settings.hold_limit =
      2 * source_settings.period +
      std::chrono::duration_cast<std::chrono::nanoseconds>(settings.timeout);
  if (settings.insecure) {
    source_settings.initial_warnings.push_back(fmt::format(
        "redfish: TLS certificate verification is off (--bmc-insecure): the identity of the BMC "
        "at {} was not checked, so its readings and the password went to whoever answered",
        settings.base_url));
  }
  auto poller = std::make_unique<RedfishPoller>(std::move(client), plan->parts);
  // The first reading for the source comes from the poller, as every later one, so that its
  // timestamp is exact (discovery's reading was taken a few requests ago).
  const Clock::time_point before = Clock::now();
  PowerPoller::Result first = poller->Poll();
  const Clock::time_point after = Clock::now();
  if (!first.ok) {
    result.status = ProbeStatus::kError;
    result.reason = "the first reading failed: " + first.error;
    result.fix = "see the reason; check that the BMC answers steadily";
    return result;
  }
  result.status = ProbeStatus::kAvailable;
  result.source = std::make_unique<PolledPowerSource>(std::move(source_settings), std::move(d),
                                                      std::move(poller), first.watts,
                                                      before + (after - before) / 2);
  return result;
}

std::optional<RedfishDiscovery> DiscoverRedfishReading(const RedfishGet& get,
                                                       const BmcHttpSettings& settings,
                                                       const std::string& chassis,
                                                       ProbeResult& result) {
  Discovery discovery(get, settings, result);
  json root;
  std::string miss;
  const Discovery::Outcome root_outcome = discovery.Fetch("/redfish/v1", root, miss);
  if (root_outcome == Discovery::Outcome::kFatal) return std::nullopt;
  if (root_outcome == Discovery::Outcome::kMissing) {
    result.status = ProbeStatus::kUnsupported;
    result.reason = fmt::format("no Redfish service at {}: {}", settings.base_url, miss);
    result.fix = "check that --bmc-url is the BMC's address and that its Redfish service is on";
    return std::nullopt;
  }
  const std::string vendor = Text(root, "Vendor");
  const std::string product = Text(root, "Product");
  const std::string version = Text(root, "RedfishVersion");
  result.details.push_back(fmt::format(
      "service {}/redfish/v1: {}{}Redfish {}", settings.base_url, vendor,
      vendor.empty() && product.empty() ? "" : (product.empty() ? ", " : " " + product + ", "),
      version.empty() ? "(version not given)" : version));

  const std::string chassis_path = Link(root, "Chassis");
  json collection;
  if (chassis_path.empty()) {
    result.status = ProbeStatus::kUnsupported;
    result.reason = "the Redfish service has no Chassis collection";
    result.fix = "this BMC does not publish power through Redfish; try IPMI DCMI (--ipmi-host)";
    return std::nullopt;
  }
  const Discovery::Outcome collection_outcome = discovery.Fetch(chassis_path, collection, miss);
  if (collection_outcome == Discovery::Outcome::kFatal) return std::nullopt;
  if (collection_outcome == Discovery::Outcome::kMissing) {
    result.status = ProbeStatus::kUnsupported;
    result.reason = "the Chassis collection cannot be read: " + miss;
    result.fix = "see the reason; try IPMI DCMI (--ipmi-host)";
    return std::nullopt;
  }
  std::vector<Chassis> all;
  for (const auto& path : MemberLinks(collection, kMaxChassis)) {
    Chassis c;
    c.path = path;
    c.order = all.size();
    const Discovery::Outcome o = discovery.Fetch(path, c.doc, miss);
    if (o == Discovery::Outcome::kFatal) return std::nullopt;
    if (o == Discovery::Outcome::kMissing) {
      result.details.push_back("chassis " + path + ": " + miss);
      continue;
    }
    c.id = Text(c.doc, "Id");
    if (c.id.empty()) c.id = path.substr(path.rfind('/') + 1);
    c.type = Text(c.doc, "ChassisType");
    c.maker = Text(c.doc, "Manufacturer");
    const std::string model = Text(c.doc, "Model");
    if (!model.empty()) c.maker += (c.maker.empty() ? "" : " ") + model;
    const json links = c.doc.value("Links", json::object());
    const auto systems = links.find("ComputerSystems");
    c.holds_system = systems != links.end() && systems->is_array() && !systems->empty();
    all.push_back(std::move(c));
  }
  if (all.empty()) {
    result.status = ProbeStatus::kUnsupported;
    result.reason = "the Redfish service lists no chassis";
    result.fix = "this BMC does not publish power through Redfish; try IPMI DCMI (--ipmi-host)";
    return std::nullopt;
  }
  ComputeDepths(all);
  std::string listed;
  for (const auto& c : all) {
    listed += fmt::format("{}{} ({}{})", listed.empty() ? "" : ", ", c.id,
                          c.type.empty() ? "no type" : c.type,
                          c.depth == 0 ? "" : ", inside another chassis");
  }
  result.details.push_back("chassis: " + listed);

  // Candidates: the chosen chassis, or all from the outermost in (the outermost chassis
  // reports the whole product's power: OCP Sustainability profile, "Product-level power"),
  // those holding the computer system first.
  std::vector<const Chassis*> candidates;
  for (const auto& c : all) {
    if (chassis.empty() || c.id == chassis || c.path == chassis) {
      candidates.push_back(&c);
    }
  }
  if (candidates.empty()) {
    std::string ids;
    for (const auto& c : all) ids += (ids.empty() ? "" : ", ") + c.id;
    result.status = ProbeStatus::kError;
    result.reason = fmt::format("the BMC has no chassis '{}'", chassis);
    result.fix = fmt::format("give --bmc-chassis one of: {}", ids);
    return std::nullopt;
  }
  std::stable_sort(candidates.begin(), candidates.end(), [](const Chassis* a, const Chassis* b) {
    if (a->depth != b->depth) return a->depth < b->depth;
    if (a->holds_system != b->holds_system) return a->holds_system;
    return a->order < b->order;
  });

  const Chassis* chosen = nullptr;
  std::optional<ReadingPlan> plan;
  std::vector<std::string> ruled_out;
  for (const Chassis* c : candidates) {
    std::vector<std::string> why_not;
    bool fatal = false;
    plan = discovery.FindReading(*c, why_not, fatal);
    if (fatal) return std::nullopt;
    if (plan) {
      chosen = c;
      break;
    }
    std::string joined;
    for (const auto& w : why_not) joined += (joined.empty() ? "" : "; ") + w;
    ruled_out.push_back(fmt::format("chassis {}: no power reading ({})", c->id, joined));
  }
  for (const auto& line : ruled_out) result.details.push_back(line);
  if (!plan) {
    result.status = ProbeStatus::kUnsupported;
    result.reason = "no chassis of the BMC reports its power through Redfish (details below)";
    result.fix = "try IPMI DCMI (--ipmi-host, or in-band /dev/ipmi0); update the BMC firmware";
    return std::nullopt;
  }

  RedfishDiscovery found;
  found.plan = std::move(*plan);
  found.chassis_id = chosen->id;
  found.chassis_maker = chosen->maker;
  found.candidates = candidates.size();
  return found;
}

}  // namespace joulebench::energy
