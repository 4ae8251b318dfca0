#include "energy/ipmi_dcmi_source.h"

#include <fmt/format.h>
#include <freeipmi/freeipmi.h>

#include <algorithm>
#include <array>

#include "joulebench/units.h"

namespace joulebench::energy {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kDefaultPeriodS = 1.0;
// RMCP+ cipher suite 3: RAKP-HMAC-SHA1 authentication, HMAC-SHA1-96 integrity, AES-CBC-128
// confidentiality; the one every IPMI 2.0 BMC must support (IPMI 2.0, section 22.15.2).
constexpr std::uint8_t kCipherSuite = 3;

std::string ContextError(ipmi_ctx_t ctx) {
  const char* text = ipmi_ctx_errormsg(ctx);
  return text != nullptr ? text : "unknown FreeIPMI error";
}

constexpr const char* kInbandFix =
    "on a server with a BMC: sudo modprobe ipmi_devintf ipmi_si (then /dev/ipmi0 appears, "
    "readable by root: docs/permissions.md); virtual machines and most cloud instances have no "
    "BMC; or read a BMC over the network: --ipmi-host HOST --bmc-user USER --bmc-password-file "
    "FILE";

// Fills result from a failed open; returns false.
bool OpenFailed(ipmi_ctx_t ctx, const std::string& host, const BmcOptions& bmc,
                ProbeResult& result) {
  const int errnum = ipmi_ctx_errnum(ctx);
  const std::string what = ContextError(ctx);
  if (host.empty()) {
    switch (errnum) {
      case IPMI_ERR_DEVICE_NOT_FOUND:
      case IPMI_ERR_DEVICE_NOT_SUPPORTED:
        result.status = ProbeStatus::kAbsent;
        result.reason = fmt::format(
            "no in-band IPMI device (/dev/ipmi0): FreeIPMI says '{}': this machine has no BMC, "
            "or the kernel's IPMI driver is not loaded",
            what);
        result.fix = kInbandFix;
        return false;
      case IPMI_ERR_PERMISSION:
        result.status = ProbeStatus::kPermissionDenied;
        result.reason =
            fmt::format("/dev/ipmi0 is not readable and writable by this user ({})", what);
        result.fix =
            "run as root, or let a group use /dev/ipmi0 with a udev rule (docs/permissions.md)";
        return false;
      default:
        result.status = ProbeStatus::kError;
        result.reason = fmt::format("opening the in-band IPMI device failed: {}", what);
        result.fix = "check dmesg for the ipmi_si driver's messages";
        return false;
    }
  }
  switch (errnum) {
    case IPMI_ERR_SESSION_TIMEOUT:
    case IPMI_ERR_CONNECTION_TIMEOUT:
      result.status = ProbeStatus::kError;
      result.reason =
          fmt::format("no IPMI answer from {} within {} ({})", host,
                      FormatDuration(std::chrono::duration<double>(bmc.timeout).count()), what);
      result.fix =
          "check the address, and that IPMI over LAN is enabled on the BMC (UDP port 623 "
          "reachable from this host); a slow BMC needs a longer --bmc-timeout";
      return false;
    case IPMI_ERR_USERNAME_INVALID:
    case IPMI_ERR_PASSWORD_INVALID:
    case IPMI_ERR_K_G_INVALID:
      result.status = ProbeStatus::kPermissionDenied;
      result.reason = fmt::format("the BMC at {} refused user '{}': {}", host, bmc.user, what);
      result.fix =
          "check --bmc-user and the password (--bmc-password-file or "
          "JOULEBENCH_BMC_PASSWORD)";
      return false;
    case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
    case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
      result.status = ProbeStatus::kPermissionDenied;
      result.reason =
          fmt::format("user '{}' cannot open an IPMI session with User privilege on {}: {}",
                      bmc.user, host, what);
      result.fix = "give the account at least the User privilege on the BMC's LAN channel";
      return false;
    case IPMI_ERR_IPMI_2_0_UNAVAILABLE:
    case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
      result.status = ProbeStatus::kUnsupported;
      result.reason =
          fmt::format("the BMC at {} does not offer IPMI 2.0 with cipher suite 3: {}", host, what);
      result.fix = "enable IPMI 2.0 (RMCP+) on the BMC, or use its Redfish service (--bmc-url)";
      return false;
    default:
      result.status = ProbeStatus::kError;
      result.reason = fmt::format("opening an IPMI session with {} failed: {}", host, what);
      result.fix = "check --ipmi-host and that IPMI over LAN is enabled on the BMC";
      return false;
  }
}

}  // namespace

IpmiDcmiPoller::IpmiDcmiPoller(ipmi_ctx* ctx, std::string where)
    : ctx_(ctx), where_(std::move(where)) {}

IpmiDcmiPoller::~IpmiDcmiPoller() {
  ipmi_ctx_close(ctx_);
  ipmi_ctx_destroy(ctx_);
}

PowerPoller::Result IpmiDcmiPoller::Poll() {
  Result result;
  const auto request = dcmi::GetPowerReadingRequest();
  std::array<std::uint8_t, 64> reply{};
  const int n = ipmi_cmd_raw(ctx_, 0 /* BMC LUN */, dcmi::kNetFnGroupExtension, request.data(),
                             request.size(), reply.data(), reply.size());
  if (n < 0) {
    result.error = fmt::format("DCMI Get Power Reading {} failed: {}", where_, ContextError(ctx_));
    return result;
  }
  dcmi::Decoded decoded =
      dcmi::DecodeGetPowerReading(std::span<const std::uint8_t>(reply.data(), std::size_t(n)));
  if (!decoded.reading) {
    result.error = fmt::format("DCMI Get Power Reading {}: {}", where_, decoded.error);
    last_ = std::move(decoded);
    return result;
  }
  result.ok = true;
  result.watts = decoded.reading->current_watts;
  last_ = std::move(decoded);
  return result;
}

ProbeResult ProbeIpmi(const SourceOptions& options) {
  ProbeResult result;
  result.source_name = "ipmi";
  const BmcOptions& bmc = options.bmc;
  const std::string& host = bmc.ipmi_host;
  if (!host.empty() && (bmc.user.empty() || bmc.password.empty())) {
    result.status = ProbeStatus::kPermissionDenied;
    result.reason = fmt::format("no BMC credentials for IPMI over the LAN to {}", host);
    result.fix =
        "give --bmc-user USER and the password in a file (--bmc-password-file FILE) or "
        "in JOULEBENCH_BMC_PASSWORD";
    return result;
  }
  ipmi_ctx_t ctx = ipmi_ctx_create();
  if (ctx == nullptr) {
    result.status = ProbeStatus::kError;
    result.reason = "FreeIPMI cannot create a context (out of memory?)";
    return result;
  }
  const unsigned int timeout_ms =
      static_cast<unsigned int>(std::max<long long>(100, bmc.timeout.count()));
  int rc = 0;
  std::string where;
  if (host.empty()) {
    // Only the kernel driver: FreeIPMI's direct KCS/SSIF drivers would poke I/O ports.
    rc = ipmi_ctx_open_inband(ctx, IPMI_DEVICE_OPENIPMI, 0, 0, 0, nullptr,
                              IPMI_WORKAROUND_FLAGS_DEFAULT, IPMI_FLAGS_DEFAULT);
    where = "in-band (OpenIPMI driver)";
  } else {
    // Retransmit a few times within the session timeout (UDP may drop a datagram).
    const unsigned int retransmit_ms = std::clamp(timeout_ms / 4, 100u, 1000u);
    rc = ipmi_ctx_open_outofband_2_0(ctx, host.c_str(), bmc.user.c_str(), bmc.password.c_str(),
                                     nullptr, 0, IPMI_PRIVILEGE_LEVEL_USER, kCipherSuite,
                                     timeout_ms, retransmit_ms, IPMI_WORKAROUND_FLAGS_DEFAULT,
                                     IPMI_FLAGS_DEFAULT);
    where = fmt::format("to {} over the LAN", host);
  }
  if (rc < 0) {
    OpenFailed(ctx, host, bmc, result);
    ipmi_ctx_destroy(ctx);
    return result;
  }
  auto poller = std::make_unique<IpmiDcmiPoller>(ctx, where);
  const Clock::time_point before = Clock::now();
  PowerPoller::Result first = poller->Poll();
  const Clock::time_point after = Clock::now();
  const dcmi::Decoded& reply = poller->last();
  if (!first.ok) {
    const std::uint8_t code = reply.completion_code;
    if (code == 0xC1 || code == 0xCC || code == 0xD5 || code == 0xD6) {
      result.status = ProbeStatus::kUnsupported;
      result.fix = "this BMC does not report DCMI power; try its Redfish service (--bmc-url)";
    } else if (code == 0xD4) {
      result.status = ProbeStatus::kPermissionDenied;
      result.fix = "give the account a higher privilege on the BMC";
    } else {
      result.status = ProbeStatus::kError;
      result.fix = "see the reason";
    }
    result.reason = first.error;
    return result;
  }
  const dcmi::PowerReading& r = *reply.reading;
  result.details.push_back(fmt::format(
      "DCMI Get Power Reading {}: current {}; over the last {}: minimum {}, maximum {}, average "
      "{}; BMC time stamp {}",
      where, FormatWatts(r.current_watts), FormatDuration(r.statistics_period_s),
      FormatWatts(r.minimum_watts), FormatWatts(r.maximum_watts), FormatWatts(r.average_watts),
      dcmi::DescribeTimestamp(r.timestamp)));
  if (!reply.caveat.empty()) result.details.push_back(reply.caveat);
  const double period_s = bmc.poll_interval
                              ? std::chrono::duration<double>(*bmc.poll_interval).count()
                              : kDefaultPeriodS;
  result.details.push_back(fmt::format(
      "polled every {} ({}) on its own thread; the current power is used, not the period's "
      "average",
      FormatDuration(period_s),
      bmc.poll_interval ? "set by --bmc-interval"
                        : "DCMI publishes no refresh period; --bmc-interval sets it"));

  DomainInfo d;
  d.name = "ipmi/dcmi";
  d.component = Component::kPlatform;
  d.signal = SignalKind::kCounter;
  d.whole_machine = true;
  d.provenance = {ProvenanceKind::kMeasured,
                  fmt::format("IPMI DCMI Get Power Reading {}, current power", where)};
  d.update_period_s = period_s;
  d.note = fmt::format(
      "the whole machine as its BMC measures it (CPUs, memory, accelerators, fans, disks, NICs, "
      "power-supply losses); polled every {} on joulebench's own thread, each reading "
      "timestamped mid-request and integrated between readings (trapezoid)",
      FormatDuration(period_s));
  if (!reply.caveat.empty()) d.note += "; " + reply.caveat;

  PolledPowerSource::Settings settings;
  settings.source_name = "ipmi";
  settings.period =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(period_s));
  settings.hold_limit =
      2 * settings.period + std::chrono::duration_cast<std::chrono::nanoseconds>(bmc.timeout);
  result.status = ProbeStatus::kAvailable;
  result.source =
      std::make_unique<PolledPowerSource>(std::move(settings), std::move(d), std::move(poller),
                                          first.watts, before + (after - before) / 2);
  return result;
}

}  // namespace joulebench::energy
