#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "joulebench/error.h"
#include "joulebench/load/builtin_suts.h"
#include "joulebench/load/loadgen.h"

namespace joulebench::load {
namespace {

// The null SUT that remembers when each query arrived, so that a synthetic power reading can
// depend on the load actually applied in a span: 50 W idle + 5 mW per query/s.
class RecordingSut final : public SystemUnderTest {
 public:
  std::string Name() const override { return "recording-null"; }
  void IssueQuery(std::span<const Query> queries, QueryCompleter& completer) override {
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < queries.size(); ++i) arrivals_s_.push_back(SteadyNowSeconds());
    }
    inner_.IssueQuery(queries, completer);
  }
  double WattsBetween(double begin_s, double end_s) {
    std::lock_guard lock(mutex_);
    const auto n = std::count_if(arrivals_s_.begin(), arrivals_s_.end(),
                                 [&](double t) { return t >= begin_s && t < end_s; });
    return 50.0 + 0.005 * static_cast<double>(n) / (end_s - begin_s);
  }

 private:
  NullSut inner_;
  std::mutex mutex_;
  std::vector<double> arrivals_s_;
};

TEST(LoadLevelsTest, PowerIsMeasuredOverEachLevelsOwnRun) {
  RecordingSut sut;
  SyntheticSampleLibrary qsl;
  PowerSignal power;
  power.mean_watts = [&](double b, double e) { return sut.WattsBetween(b, e); };
  power.energy_report = [&](double b, double e) {
    sampling::EnergyReport report;
    sampling::DomainEnergy d;
    d.domain.name = "fake/system";
    d.mean_watts = sut.WattsBetween(b, e);
    report.domains.push_back(d);
    return report;
  };
  TestSettings s;
  s.min_duration_ms = 300;
  s.min_query_count = 10;
  s.window_ms = 50;
  s.wait_for_steady_state = false;
  s.server_target_latency_ns = 2'000'000'000;
  LoadLevelSettings levels;
  levels.load_fractions = {0, 0.25, 1.0};
  levels.idle_duration_ms = 200;
  std::vector<std::string> invalid;
  const auto points = MeasurePowerAtLoadLevels(sut, qsl, s, 20000, levels, power, &invalid);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_TRUE(invalid.empty()) << invalid.front();
  EXPECT_EQ(points[0].load_fraction, 0);
  EXPECT_EQ(points[0].rate_per_s, 0);
  EXPECT_NEAR(points[0].watts_total, 50, 0.01);
  EXPECT_DOUBLE_EQ(points[1].rate_per_s, 5000);
  EXPECT_NEAR(points[1].achieved_per_s, 5000, 750);
  EXPECT_NEAR(points[1].watts_total, 50 + 0.005 * 5000, 4);
  EXPECT_NEAR(points[2].watts_total, 50 + 0.005 * 20000, 12);
  ASSERT_EQ(points[2].watts_by_domain.size(), 1u);
  EXPECT_EQ(points[2].watts_by_domain[0].first, "fake/system");
  EXPECT_NEAR(points[2].watts_by_domain[0].second, points[2].watts_total, 1e-9);
}

TEST(LoadLevelsTest, RejectsLevelsOutsideZeroToHundredPercentAndAMissingPowerSignal) {
  NullSut sut;
  SyntheticSampleLibrary qsl;
  PowerSignal power;
  power.mean_watts = [](double, double) { return 1.0; };
  LoadLevelSettings levels;
  levels.load_fractions = {0.5, 1.5};
  EXPECT_THROW(MeasurePowerAtLoadLevels(sut, qsl, TestSettings{}, 100, levels, power), InputError);
  levels.load_fractions = {0.5};
  EXPECT_THROW(MeasurePowerAtLoadLevels(sut, qsl, TestSettings{}, 100, levels, PowerSignal{}),
               InputError);
  EXPECT_THROW(MeasurePowerAtLoadLevels(sut, qsl, TestSettings{}, -1, levels, power), InputError);
}

}  // namespace
}  // namespace joulebench::load
