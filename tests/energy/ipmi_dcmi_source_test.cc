// The IPMI source through FreeIPMI for real: this machine has no BMC, so the in-band probe
// meets FreeIPMI's "device not found", and a LAN session to 127.0.0.1 meets silence.
#include <gtest/gtest.h>

#include <filesystem>

#include "joulebench/energy/source.h"

namespace joulebench::energy {
namespace {

bool HasInbandDevice() {
  for (const char* path : {"/dev/ipmi0", "/dev/ipmi/0", "/dev/ipmidev/0"}) {
    if (std::filesystem::exists(path)) return true;
  }
  return false;
}

TEST(IpmiSource, NoInbandDeviceIsAbsentWithTheReasonAndTheFix) {
  if (HasInbandDevice()) GTEST_SKIP() << "this machine has an IPMI device";
  const ProbeResult r = ProbeIpmi(SourceOptions{});
  EXPECT_EQ(r.source_name, "ipmi");
  EXPECT_EQ(r.status, ProbeStatus::kAbsent) << r.reason;
  EXPECT_NE(r.reason.find("no in-band IPMI device (/dev/ipmi0)"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("FreeIPMI says"), std::string::npos) << r.reason;
  EXPECT_NE(r.fix.find("modprobe ipmi_devintf ipmi_si"), std::string::npos) << r.fix;
  EXPECT_NE(r.fix.find("--ipmi-host"), std::string::npos) << r.fix;
  EXPECT_EQ(r.source, nullptr);
}

TEST(IpmiSource, LanWithoutCredentialsIsPermissionDenied) {
  SourceOptions o;
  o.bmc.ipmi_host = "127.0.0.1";
  const ProbeResult r = ProbeIpmi(o);
  EXPECT_EQ(r.status, ProbeStatus::kPermissionDenied);
  EXPECT_EQ(r.reason, "no BMC credentials for IPMI over the LAN to 127.0.0.1");
  EXPECT_NE(r.fix.find("--bmc-password-file"), std::string::npos);
}

// Nothing answers RMCP+ on 127.0.0.1: the session times out at the configured limit, and the
// probe says so instead of hanging.
TEST(IpmiSource, LanHostThatDoesNotAnswerTimesOut) {
  SourceOptions o;
  o.bmc.ipmi_host = "127.0.0.1";
  o.bmc.user = "admin";
  o.bmc.password = "Ipmi-test-only-5521";
  o.bmc.timeout = std::chrono::milliseconds(600);
  const ProbeResult r = ProbeIpmi(o);
  EXPECT_EQ(r.status, ProbeStatus::kError) << r.reason;
  EXPECT_NE(r.reason.find("no IPMI answer from 127.0.0.1 within 600.000 ms"), std::string::npos)
      << r.reason;
  EXPECT_NE(r.fix.find("UDP port 623"), std::string::npos) << r.fix;
  EXPECT_EQ(r.reason.find(o.bmc.password), std::string::npos);
}

TEST(IpmiSource, DisabledIpmiIsSkippedAndRedfishAbsentWithoutAUrl) {
  SourceOptions o;
  o.sysfs_root = std::filesystem::temp_directory_path() / "joulebench-no-sysfs";
  o.disabled = {"powercap", "perf_event", "nvml", "neuron", "model", "ipmi"};
  const auto results = ProbeAll(o);
  ASSERT_EQ(results.size(), 7u);
  EXPECT_EQ(results[4].source_name, "redfish");
  EXPECT_EQ(results[4].status, ProbeStatus::kAbsent);
  EXPECT_EQ(results[4].reason, "no BMC address given (--bmc-url)");
  EXPECT_EQ(results[5].source_name, "ipmi");
  EXPECT_EQ(results[5].status, ProbeStatus::kSkipped);
}

}  // namespace
}  // namespace joulebench::energy
