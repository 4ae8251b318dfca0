#include "joulebench/units.h"

#include <gtest/gtest.h>

#include <limits>

#include "joulebench/error.h"

namespace joulebench {
namespace {

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(ParseDuration("100ms", "x").count(), 100'000'000);
  EXPECT_EQ(ParseDuration("1.5s", "x").count(), 1'500'000'000);
  EXPECT_EQ(ParseDuration("2m", "x").count(), 120'000'000'000);
  EXPECT_EQ(ParseDuration("250us", "x").count(), 250'000);
  EXPECT_EQ(ParseDuration("1h", "x").count(), 3'600'000'000'000);
}

TEST(ParseDuration, RejectsZeroMissingUnitAndGarbage) {
  EXPECT_THROW(ParseDuration("0ms", "--interval"), InputError);
  EXPECT_THROW(ParseDuration("100", "--interval"), InputError);
  EXPECT_THROW(ParseDuration("abc", "--interval"), InputError);
  EXPECT_THROW(ParseDuration("5 parsecs", "--interval"), InputError);
  EXPECT_THROW(ParseDuration("-1s", "--interval"), InputError);
}

TEST(ParseDuration, ErrorNamesTheInput) {
  try {
    ParseDuration("abc", "--interval");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--interval"), std::string::npos);
  }
}

TEST(ParseRatePerSecond, ConvertsTimeUnits) {
  EXPECT_NEAR(ParseRatePerSecond("1000000/h", "x"), 277.777777, 1e-5);
  EXPECT_DOUBLE_EQ(ParseRatePerSecond("278/s", "x"), 278.0);
  EXPECT_DOUBLE_EQ(ParseRatePerSecond("60/min", "x"), 1.0);
  EXPECT_DOUBLE_EQ(ParseRatePerSecond("1M/h", "x"), 1e6 / 3600);
}

TEST(ParseRatePerSecond, RejectsMissingOrUnknownUnitAndNonPositive) {
  EXPECT_THROW(ParseRatePerSecond("278", "--sla"), InputError);
  EXPECT_THROW(ParseRatePerSecond("278/fortnight", "--sla"), InputError);
  EXPECT_THROW(ParseRatePerSecond("0/s", "--sla"), InputError);
  EXPECT_THROW(ParseRatePerSecond("-5/s", "--sla"), InputError);
}

TEST(ParseCount, AppliesSiSuffixes) {
  EXPECT_DOUBLE_EQ(ParseCount("450M", "x"), 450e6);
  EXPECT_DOUBLE_EQ(ParseCount("1.5k", "x"), 1500);
  EXPECT_DOUBLE_EQ(ParseCount("12", "x"), 12);
  EXPECT_THROW(ParseCount("12q", "x"), InputError);
}

TEST(Format, PicksAUnitThatFits) {
  EXPECT_EQ(FormatJoules(1500), "1.500 kJ");
  EXPECT_EQ(FormatWatts(45.6), "45.60 W");
  EXPECT_EQ(FormatDuration(0.0123), "12.300 ms");
  EXPECT_EQ(FormatIsoTime(0), "1970-01-01T00:00:00Z");
}

TEST(ParseDuration, ADurationThatRoundsToZeroNanosecondsIsRefused) {
  // "0.1ns" was 0 ns although the value is not zero: a zero interval or timeout where zero
  // is refused.
  EXPECT_THROW(ParseDuration("0.1ns", "--interval"), InputError);
  EXPECT_THROW(ParseDuration("1e-20s", "--interval"), InputError);
  EXPECT_EQ(ParseDuration("0.1ns", "--baseline", /*allow_zero=*/true).count(), 0);
  EXPECT_EQ(ParseDuration("0.6ns", "--interval").count(), 1);
}

TEST(ParseRatePerSecond, ARateOrCountOutsideADoubleIsRefused) {
  // 1e308 x 10^12 and 1e300 per microsecond were infinite rates; 1e-320 a day was zero.
  EXPECT_THROW(ParseCount("1e308T", "--sequences"), InputError);
  EXPECT_THROW(ParseRatePerSecond("1e308T/s", "--sla"), InputError);
  EXPECT_THROW(ParseRatePerSecond("1e303/us", "--sla"), InputError);
  EXPECT_THROW(ParseRatePerSecond("1e-320/d", "--sla"), InputError);
  EXPECT_DOUBLE_EQ(ParseRatePerSecond("1e300/us", "--sla"), 1e306);
}

TEST(FormatIsoTime, ATimeOutsideYears1970To9999IsEmpty) {
  EXPECT_EQ(FormatIsoTime(253402300799.0), "9999-12-31T23:59:59Z");
  // 1.27e19 s came from a fuzzed run file: converting it to time_t was undefined behaviour.
  EXPECT_EQ(FormatIsoTime(1.2727878272787887878e19), "");
  EXPECT_EQ(FormatIsoTime(253402300800.0), "");
  EXPECT_EQ(FormatIsoTime(-1), "");
  EXPECT_EQ(FormatIsoTime(std::numeric_limits<double>::quiet_NaN()), "");
  EXPECT_EQ(FormatIsoTime(std::numeric_limits<double>::infinity()), "");
}

}  // namespace
}  // namespace joulebench
