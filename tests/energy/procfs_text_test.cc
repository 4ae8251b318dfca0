// The procfs text parsers on the lines the kernel writes (proc(5)) and on what it never
// writes but a broken or hostile file could hold.
#include "energy/procfs_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace joulebench::energy {
namespace {

TEST(ParseProcStatCpuLine, ReadsTheEightTickFields) {
  const auto ticks = ParseProcStatCpuLine("cpu  4705 356 584 3699176 23060 0 277 9 1 2\ncpu0 1\n");
  ASSERT_TRUE(ticks.has_value());
  EXPECT_EQ(ticks->count, 8);
  EXPECT_EQ(ticks->fields[0], 4705u);
  EXPECT_EQ(ticks->fields[3], 3699176u);
  EXPECT_EQ(ticks->fields[7], 9u);
}

TEST(ParseProcStatCpuLine, AnOldKernelsFourFieldsAreEnough) {
  const auto ticks = ParseProcStatCpuLine("cpu 1 2 3 4\n");
  ASSERT_TRUE(ticks.has_value());
  EXPECT_EQ(ticks->count, 4);
  EXPECT_EQ(ticks->fields[4], 0u);
}

TEST(ParseProcStatCpuLine, RefusesOtherLinesAndShortOnes) {
  EXPECT_FALSE(ParseProcStatCpuLine("cpu0 1 2 3 4\n").has_value());
  EXPECT_FALSE(ParseProcStatCpuLine("cpu 1 2 3\ncpu0 4 5 6 7\n").has_value());
  EXPECT_FALSE(ParseProcStatCpuLine("cpu -1 2 3 4\n").has_value());
  EXPECT_FALSE(ParseProcStatCpuLine("").has_value());
}

TEST(CountProcStatCpus, CountsCpuNLinesOnly) {
  EXPECT_EQ(CountProcStatCpus("cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu1 1 2 3 4\nintr 5\ncpux 1\n"), 2);
  EXPECT_EQ(CountProcStatCpus("cpu"), 0);
}

TEST(ParseMemTotalKib, ReadsTheKibNumber) {
  EXPECT_EQ(ParseMemTotalKib("MemTotal:       16303164 kB\nMemFree: 1 kB\n"), 16303164u);
  EXPECT_FALSE(ParseMemTotalKib("MemFree: 1 kB\n").has_value());
  EXPECT_FALSE(ParseMemTotalKib("MemTotal:\n 5 kB\n").has_value());
}

TEST(NextNetDevInterface, SkipsTheHeadersAndReadsEachInterface) {
  std::string_view text =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n"
      "    lo:  123 4 0 0 0 0 0 0 456 4 0 0 0 0 0 0\n"
      "  eth0: 98765 100 0 0 0 0 0 0 4321 50 0 0 0 0 0 0\n"
      "  eth1: 1 2 3\n"
      "  eth2: 5 0 0 0 0 0 0 0 6 0 0 0 0 0 0 0";  // cut short: no '\n'
  NetDevCounters c;
  std::vector<std::string> names;
  ASSERT_TRUE(NextNetDevInterface(text, c));
  EXPECT_EQ(c.name, "lo");
  EXPECT_EQ(c.receive_bytes, 123u);
  EXPECT_EQ(c.transmit_bytes, 456u);
  ASSERT_TRUE(NextNetDevInterface(text, c));
  EXPECT_EQ(c.name, "eth0");
  EXPECT_EQ(c.receive_bytes, 98765u);
  EXPECT_EQ(c.transmit_bytes, 4321u);
  EXPECT_FALSE(NextNetDevInterface(text, c));
}

TEST(ParseProcPidStat, CountsFieldsFromTheLastParenthesis) {
  const auto stat = ParseProcPidStat(
      "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 4 0 123456 "
      "1000000\n");
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->comm, "my (odd) name");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->utime_ticks, 250u);
  EXPECT_EQ(stat->stime_ticks, 75u);
  EXPECT_EQ(stat->start_ticks, 123456u);
}

TEST(ParseProcPidStat, ACommandNameMayHoldALineBreak) {
  const auto stat =
      ParseProcPidStat("7 (two\nlines) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 99 1\n");
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->utime_ticks, 3u);
  EXPECT_EQ(stat->start_ticks, 99u);
}

TEST(ParseProcPidStat, RefusesTimesThatAreNotNumbers) {
  // Before the shared parser, std::stoull threw std::invalid_argument here, which ended the
  // CPU-share sampler's thread with std::terminate.
  EXPECT_FALSE(ParseProcPidStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 4 0 0 20 0 1 0 99\n"));
  EXPECT_FALSE(ParseProcPidStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 -3 4 0 0 20 0 1 0 99\n"));
  EXPECT_FALSE(ParseProcPidStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 99999999999999999999 4\n"));
  EXPECT_FALSE(ParseProcPidStat("1 (x) S 1 1\n"));
  EXPECT_FALSE(ParseProcPidStat("1 x S 1 1 1 0 -1 0 0 0 0 0 3 4\n"));
}

TEST(ParseProcPidStat, AStartTimeThatIsNotANumberIsLeftOut) {
  const auto stat = ParseProcPidStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 zz\n");
  ASSERT_TRUE(stat.has_value());
  EXPECT_FALSE(stat->start_ticks.has_value());
}

TEST(ParseCgroupCpuUsageUsec, ReadsUsageUsec) {
  EXPECT_EQ(ParseCgroupCpuUsageUsec("usage_usec 123\nuser_usec 100\n"), 123u);
  EXPECT_EQ(ParseCgroupCpuUsageUsec("user_usec 100\nusage_usec 7"), 7u);
  EXPECT_FALSE(ParseCgroupCpuUsageUsec("user_usec 100\n").has_value());
  EXPECT_FALSE(ParseCgroupCpuUsageUsec("usage_usec x\n").has_value());
}

}  // namespace
}  // namespace joulebench::energy
