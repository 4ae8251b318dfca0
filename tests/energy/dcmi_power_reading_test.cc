// DCMI Get Power Reading replies decoded from their bytes. FreeIPMI ships no BMC simulator, so
// the replies are the bytes of readings published with ipmitool's decoding of them:
// radiorabe/rabe-zabbix#101 (an active reading of a Supermicro-class BMC) and
// openbmc/openbmc#3257 (OpenBMC's reply with the "measurement active" bit clear).
#include "energy/dcmi_power_reading.h"

#include <gtest/gtest.h>

#include <vector>

namespace joulebench::energy::dcmi {
namespace {

// "Instantaneous 197 W, minimum 175 W, maximum 242 W, average 190 W, IPMI timestamp
// Sun Mar 6 15:13:42 2022 (CET), sampling period 00123893 seconds, activated".
const std::vector<std::uint8_t> kActiveReply = {0x02, 0x00, 0xDC, 0xC5, 0x00, 0xAF, 0x00,
                                                0xF2, 0x00, 0xBE, 0x00, 0x96, 0xC1, 0x24,
                                                0x62, 0x08, 0x75, 0x62, 0x07, 0x40};

// "Instantaneous 319 W, minimum 319 W, maximum 319 W, average 319 W, timestamp Thu Jan 1
// 00:00:00 1970, sampling period 00000000 seconds, deactivated".
const std::vector<std::uint8_t> kOpenBmcReply = {0x02, 0x00, 0xDC, 0x3F, 0x01, 0x3F, 0x01,
                                                 0x3F, 0x01, 0x3F, 0x01, 0x00, 0x00, 0x00,
                                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

TEST(DcmiPowerReading, RequestIsGroupExtensionDcmiSystemPowerStatistics) {
  const auto rq = GetPowerReadingRequest();
  EXPECT_EQ(std::vector<std::uint8_t>(rq.begin(), rq.end()),
            (std::vector<std::uint8_t>{0x02, 0xDC, 0x01, 0x00, 0x00}));
  EXPECT_EQ(kNetFnGroupExtension, 0x2C);
}

TEST(DcmiPowerReading, ActiveReadingDecodesEveryField) {
  const Decoded d = DecodeGetPowerReading(kActiveReply);
  ASSERT_TRUE(d.reading.has_value()) << d.error;
  EXPECT_EQ(d.reading->current_watts, 197);
  EXPECT_EQ(d.reading->minimum_watts, 175);
  EXPECT_EQ(d.reading->maximum_watts, 242);
  EXPECT_EQ(d.reading->average_watts, 190);
  EXPECT_EQ(d.reading->timestamp, 1646576022u);
  EXPECT_EQ(DescribeTimestamp(d.reading->timestamp), "2022-03-06T14:13:42Z");
  EXPECT_DOUBLE_EQ(d.reading->statistics_period_s, 123893.0);
  EXPECT_TRUE(d.reading->measurement_active);
  EXPECT_EQ(d.caveat, "");
}

TEST(DcmiPowerReading, ReadingWithTheActiveBitClearIsUsedWithACaveat) {
  const Decoded d = DecodeGetPowerReading(kOpenBmcReply);
  ASSERT_TRUE(d.reading.has_value()) << d.error;
  EXPECT_EQ(d.reading->current_watts, 319);
  EXPECT_FALSE(d.reading->measurement_active);
  EXPECT_EQ(d.reading->statistics_period_s, 0);
  EXPECT_NE(d.caveat.find("not active yet reports 319.00 W"), std::string::npos) << d.caveat;
}

TEST(DcmiPowerReading, InactiveZeroReadingIsNoReading) {
  std::vector<std::uint8_t> reply = kOpenBmcReply;
  for (std::size_t i = 3; i < 11; ++i) reply[i] = 0;
  const Decoded d = DecodeGetPowerReading(reply);
  EXPECT_FALSE(d.reading.has_value());
  EXPECT_NE(d.error.find("no power measurement is available"), std::string::npos) << d.error;
}

TEST(DcmiPowerReading, OnlyBitSixOfTheStateMeansActive) {
  std::vector<std::uint8_t> reply = kActiveReply;
  reply[19] = 0xBF;  // every bit but 6
  const Decoded d = DecodeGetPowerReading(reply);
  ASSERT_TRUE(d.reading.has_value());
  EXPECT_FALSE(d.reading->measurement_active);
  EXPECT_NE(d.caveat, "");
}

TEST(DcmiPowerReading, InvalidCommandSaysTheBmcHasNoDcmiPower) {
  const Decoded d = DecodeGetPowerReading(std::vector<std::uint8_t>{0x02, 0xC1});
  EXPECT_FALSE(d.reading.has_value());
  EXPECT_EQ(d.completion_code, 0xC1);
  EXPECT_EQ(d.error,
            "the BMC answered completion code 0xC1: invalid command (the BMC does not implement "
            "DCMI power readings)");
}

TEST(DcmiPowerReading, InsufficientPrivilegeIsNamed) {
  const Decoded d = DecodeGetPowerReading(std::vector<std::uint8_t>{0x02, 0xD4});
  EXPECT_EQ(d.completion_code, 0xD4);
  EXPECT_NE(d.error.find("insufficient privilege level"), std::string::npos) << d.error;
}

TEST(DcmiPowerReading, TruncatedReplyIsRejected) {
  const std::vector<std::uint8_t> reply(kActiveReply.begin(), kActiveReply.begin() + 12);
  const Decoded d = DecodeGetPowerReading(reply);
  EXPECT_FALSE(d.reading.has_value());
  EXPECT_EQ(d.error, "the reply has 12 bytes; Get Power Reading's has 20");
  EXPECT_NE(DecodeGetPowerReading(std::vector<std::uint8_t>{0x02}).error, "");
}

TEST(DcmiPowerReading, ReplyOfAnotherGroupOrCommandIsRejected) {
  std::vector<std::uint8_t> reply = kActiveReply;
  reply[2] = 0xDD;
  EXPECT_NE(DecodeGetPowerReading(reply).error.find("not DCMI's 0xDC"), std::string::npos);
  reply = kActiveReply;
  reply[0] = 0x03;
  EXPECT_NE(DecodeGetPowerReading(reply).error.find("command 0x03"), std::string::npos);
}

TEST(DcmiPowerReading, FaultValue65535WattsIsNotAReading) {
  std::vector<std::uint8_t> reply = kActiveReply;
  reply[3] = 0xFF;
  reply[4] = 0xFF;
  const Decoded d = DecodeGetPowerReading(reply);
  EXPECT_FALSE(d.reading.has_value());
  EXPECT_NE(d.error.find("65535 W"), std::string::npos) << d.error;
}

TEST(DcmiPowerReading, TimestampsRelativeAbsoluteAndUnspecified) {
  EXPECT_EQ(DescribeTimestamp(1234), "1234 s after the BMC started");
  EXPECT_EQ(DescribeTimestamp(0x20000000), "536870912 s after the BMC started");
  EXPECT_EQ(DescribeTimestamp(0xFFFFFFFF), "unspecified");
  EXPECT_EQ(DescribeTimestamp(1646576022u), "2022-03-06T14:13:42Z");
}

}  // namespace
}  // namespace joulebench::energy::dcmi
