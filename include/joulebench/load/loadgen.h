// Entry points of the load generator.
//
//   joulebench::load::SleepSut sut({.workers = 4, .service_ns = 2'000'000});
//   joulebench::load::SyntheticSampleLibrary qsl;
//   joulebench::load::TestSettings s;  s.server_target_qps = 1500;
//   auto result = joulebench::load::RunScenario(sut, qsl, s);
//   // result.valid, result.latency.p99_ns, result.throughput_per_s, result.windows ...
//
// All functions block the calling thread, which becomes the query issuer, and return only
// after every issued query was completed by the SUT. They throw InputError for invalid
// settings and never throw because a run was INVALID (that is a result).
#pragma once

#include <array>
#include <span>
#include <vector>

#include "joulebench/load/power_signal.h"
#include "joulebench/load/query_sample_library.h"
#include "joulebench/load/scenario_result.h"
#include "joulebench/load/system_under_test.h"
#include "joulebench/load/test_settings.h"
#include "joulebench/run/run_record.h"

namespace joulebench::load {

// One scenario run: optional warm-up until steady state, then the measured part.
ScenarioResult RunScenario(SystemUnderTest& sut, QuerySampleLibrary& qsl,
                           const TestSettings& settings, const PowerSignal& power = {});

// Server scenario: highest rate whose latency percentile meets the bound (see
// PeakSearchSettings). settings.scenario is forced to kServer.
ServerPeakResult FindServerPeak(SystemUnderTest& sut, QuerySampleLibrary& qsl,
                                const TestSettings& settings, const PeakSearchSettings& search,
                                const PowerSignal& power = {});

// Offline scenario: the maximum throughput; where the SUT exposes batch sizes or
// concurrencies (SystemUnderTest::TuningSpace), every combination is run and the best kept.
OfflinePeakResult FindOfflinePeak(SystemUnderTest& sut, QuerySampleLibrary& qsl,
                                  const TestSettings& settings, const PowerSignal& power = {});

struct LoadLevelSettings {
  // Fractions of peak_qps in [0, 1]; 0 = idle (no queries, power only).
  std::vector<double> load_fractions = {0, 0.25, 0.5, 0.75, 1.0};
  // Idle level: how long to wait for steady power at most and how long to measure it.
  std::int64_t idle_duration_ms = 10'000;
};

// Power at partial load: for every fraction f, a server run at f * peak_qps (each to steady
// state of throughput and power, per `settings`), and the mean power over its measurement.
// Requires power.mean_watts (throws InputError otherwise); uses power.energy_report, when
// given, for per-domain watts. A level whose run is INVALID is still reported (its power
// was measured); `invalid_levels` (optional) receives a sentence per such level.
std::vector<run::LoadLevelPoint> MeasurePowerAtLoadLevels(
    SystemUnderTest& sut, QuerySampleLibrary& qsl, const TestSettings& settings, double peak_qps,
    const LoadLevelSettings& levels, const PowerSignal& power,
    std::vector<std::string>* invalid_levels = nullptr);

// "timeout 12, http-5xx 4" (kinds with a count, in FailureKind order); "none" if all zero.
std::string FormatFailures(const std::array<std::uint64_t, kFailureKindCount>& by_kind);

// Fills the load-generation parts of a run record (verdict, windows, steady state,
// latency histogram, metrics: throughput, latency percentiles).
void FillRunRecord(const ScenarioResult& result, run::RunRecord& record);

}  // namespace joulebench::load
