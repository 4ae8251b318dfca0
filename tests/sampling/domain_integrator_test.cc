#include "sampling/domain_integrator.h"

#include <gtest/gtest.h>

namespace joulebench::sampling {
namespace {

energy::DomainInfo Counter(double range_joules, double max_watts = 0) {
  energy::DomainInfo d;
  d.name = "rapl/package-0";
  d.signal = energy::SignalKind::kCounter;
  d.counter_range_joules = range_joules;
  d.max_watts = max_watts;
  return d;
}

energy::Reading At(double value) { return {value, true}; }

TEST(DomainIntegrator, CounterIsDifferenced) {
  DomainIntegrator i(Counter(1000));
  i.Add(0.0, At(100));
  i.Add(0.1, At(105));
  i.Add(0.2, At(112.5));
  EXPECT_DOUBLE_EQ(i.joules(), 12.5);
}

TEST(DomainIntegrator, CounterWrapsAroundOnceBetweenSamples) {
  DomainIntegrator i(Counter(100));
  i.Add(0.0, At(95));
  const IntegrationEvent e = i.Add(0.1, At(3));  // 95 -> 100 == 0 -> 3
  EXPECT_DOUBLE_EQ(i.joules(), 8);
  EXPECT_EQ(e.extra_wraps, 0);
}

TEST(DomainIntegrator, CounterThatWrapsSeveralTimesInALongGapIsEstimatedFromRecentPower) {
  DomainIntegrator i(Counter(100));
  i.Add(0.0, At(0));
  i.Add(1.0, At(50));  // 50 W
  i.Add(2.0, At(0));   // 100 J later, one wrap: still 50 W
  // 7 s without a sample at 50 W: 350 J = 3 wraps + 50 J; the raw value only shows 50 J.
  const IntegrationEvent e = i.Add(9.0, At(50));
  EXPECT_EQ(e.extra_wraps, 3);
  EXPECT_DOUBLE_EQ(e.gap_s, 7.0);
  EXPECT_NEAR(e.assumed_watts, 50, 1e-9);
  EXPECT_DOUBLE_EQ(i.joules(), 450);
}

TEST(DomainIntegrator, FirstLongGapUsesTheDomainsMaxPower) {
  DomainIntegrator i(Counter(100, 40));
  i.Add(0.0, At(10));
  // 5 s at up to 40 W is about 200 J; the raw values show 90 J (10, wrap, 0): one more wrap.
  const IntegrationEvent e = i.Add(5.0, At(0));
  EXPECT_EQ(e.extra_wraps, 1);
  EXPECT_DOUBLE_EQ(i.joules(), 190);
}

TEST(DomainIntegrator, ShortGapNeverAddsWraps) {
  DomainIntegrator i(Counter(100, 40));
  i.Add(0.0, At(10));
  const IntegrationEvent e = i.Add(0.1, At(14));
  EXPECT_EQ(e.extra_wraps, 0);
  EXPECT_DOUBLE_EQ(i.joules(), 4);
}

TEST(DomainIntegrator, FailedReadingIsSkippedAndTheNextCoversTheGap) {
  DomainIntegrator i(Counter(1000));
  i.Add(0.0, At(10));
  i.Add(0.1, energy::Reading{0, false});
  i.Add(0.2, At(30));
  EXPECT_DOUBLE_EQ(i.joules(), 20);
}

TEST(DomainIntegrator, CounterWithoutRangeThatGoesBackwardsDropsThatInterval) {
  DomainIntegrator i(Counter(0));
  i.Add(0.0, At(10));
  i.Add(0.1, At(20));
  const IntegrationEvent e = i.Add(0.2, At(5));
  EXPECT_TRUE(e.counter_reset);
  EXPECT_TRUE(e.dropped);
  i.Add(0.3, At(8));
  EXPECT_DOUBLE_EQ(i.joules(), 13);
}

TEST(DomainIntegrator, CounterThatGoesBackMoreThanAWrapAllowsIsAFaultNotAWrap) {
  DomainIntegrator i(Counter(262144, 50));  // RAPL-like range, at most 50 W
  i.Add(0.0, At(100000));
  i.Add(0.1, At(100002));  // 20 W
  // Back by 50 kJ in 0.1 s: as a wrap it would be 212 kJ in 0.1 s, 2 MW.
  const IntegrationEvent e = i.Add(0.2, At(50000));
  EXPECT_TRUE(e.dropped);
  EXPECT_TRUE(e.implausible_jump);
  EXPECT_DOUBLE_EQ(e.jump_joules, 50002);
  EXPECT_DOUBLE_EQ(e.dropped_from_s, 0.1);
  EXPECT_DOUBLE_EQ(i.joules(), 2);
  // Counting goes on from the new value.
  i.Add(0.3, At(50003));
  EXPECT_DOUBLE_EQ(i.joules(), 5);
}

TEST(DomainIntegrator, WrapThatFitsThePlausiblePowerIsStillAWrap) {
  DomainIntegrator i(Counter(100, 50));
  i.Add(0.0, At(90));
  i.Add(0.1, At(92));                            // 20 W
  const IntegrationEvent e = i.Add(0.2, At(1));  // 92 -> 100 == 0 -> 1: 9 J, 90 W < 2 x 50 W
  EXPECT_FALSE(e.dropped);
  EXPECT_DOUBLE_EQ(i.joules(), 11);
}

TEST(DomainIntegrator, GaugeAfterFailedReadsDropsTheGapInsteadOfInterpolating) {
  energy::DomainInfo d;
  d.signal = energy::SignalKind::kGauge;
  DomainIntegrator i(d);
  i.Add(0.0, At(100));
  i.Add(1.0, At(100));  // 100 J
  i.Add(2.0, energy::Reading{0, false});
  const IntegrationEvent e = i.Add(5.0, At(300));
  EXPECT_TRUE(e.dropped);
  EXPECT_TRUE(e.after_failed_reads);
  EXPECT_DOUBLE_EQ(e.dropped_from_s, 1.0);
  EXPECT_DOUBLE_EQ(i.joules(), 100);  // nothing for 1 s..5 s
  i.Add(6.0, At(300));
  EXPECT_DOUBLE_EQ(i.joules(), 400);
}

TEST(DomainIntegrator, CounterBuiltFromPowerReadingsDoesNotBridgeFailedReads) {
  energy::DomainInfo d = Counter(0);
  d.counts_through_gaps = false;  // a BMC's readings integrated by joulebench
  DomainIntegrator i(d);
  i.Add(0.0, At(0));
  i.Add(1.0, At(250));
  i.Add(2.0, energy::Reading{0, false});
  const IntegrationEvent e = i.Add(4.0, At(1000));
  EXPECT_TRUE(e.dropped);
  EXPECT_DOUBLE_EQ(i.joules(), 250);
  i.Add(5.0, At(1250));
  EXPECT_DOUBLE_EQ(i.joules(), 500);
}

TEST(DomainIntegrator, CounterThatMayHaveWrappedDuringFailedReadsIsAGapNotAnEstimate) {
  DomainIntegrator i(Counter(100));
  i.Add(0.0, At(0));
  i.Add(1.0, At(50));  // 50 W
  i.Add(2.0, energy::Reading{0, false});
  const IntegrationEvent e = i.Add(9.0, At(60));  // 8 s at 50 W would be 4 wraps
  EXPECT_TRUE(e.dropped);
  EXPECT_GT(e.extra_wraps, 0);
  EXPECT_DOUBLE_EQ(i.joules(), 50);
}

TEST(DomainIntegrator, GaugeIsIntegratedWithTrapezoids) {
  energy::DomainInfo d;
  d.signal = energy::SignalKind::kGauge;
  DomainIntegrator i(d);
  i.Add(0.0, At(100));  // watts
  i.Add(1.0, At(200));  // 150 J
  i.Add(1.5, At(200));  // 100 J
  i.Add(3.5, At(0));    // 200 J
  EXPECT_DOUBLE_EQ(i.joules(), 450);
}

}  // namespace
}  // namespace joulebench::sampling
