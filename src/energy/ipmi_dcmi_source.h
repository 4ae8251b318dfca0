// The whole machine's power from its BMC through IPMI DCMI "Get Power Reading", sent with
// FreeIPMI's library (libfreeipmi): in-band through the kernel's OpenIPMI driver
// (/dev/ipmi0), or over the LAN (RMCP+, IPMI 2.0) to BmcOptions::ipmi_host with the BMC
// user and password. One domain, "ipmi/dcmi", component kPlatform with whole_machine set,
// polled on its own thread (PolledPowerSource).
#pragma once

#include <string>

#include "energy/dcmi_power_reading.h"
#include "energy/polled_power_source.h"

struct ipmi_ctx;  // FreeIPMI's context (ipmi_ctx_t)

namespace joulebench::energy {

class IpmiDcmiPoller final : public PowerPoller {
 public:
  // Takes an open FreeIPMI context; closes and destroys it.
  IpmiDcmiPoller(ipmi_ctx* ctx, std::string where);
  ~IpmiDcmiPoller() override;
  IpmiDcmiPoller(const IpmiDcmiPoller&) = delete;
  IpmiDcmiPoller& operator=(const IpmiDcmiPoller&) = delete;

  Result Poll() override;
  // The full reply of the last successful Poll (for the probe's details).
  const dcmi::Decoded& last() const { return last_; }

 private:
  ipmi_ctx* ctx_;
  std::string where_;  // "in-band (/dev/ipmi0)" or "bmc.example (LAN)"
  dcmi::Decoded last_;
};

}  // namespace joulebench::energy
