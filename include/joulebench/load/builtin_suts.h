// Built-in systems under test, for tests, benchmarks and users who want to see the
// harness's own overhead: `null` completes every query inline inside IssueQuery; `sleep`
// hands queries to N worker threads that each sleep a fixed or exponentially distributed
// service time per query (an M/D/c or M/M/c queue with known capacity N / service time).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "joulebench/load/system_under_test.h"

namespace joulebench::load {

class NullSut final : public SystemUnderTest {
 public:
  std::string Name() const override { return "null"; }
  void IssueQuery(std::span<const Query> queries, QueryCompleter& completer) override;
};

struct SleepSutOptions {
  int workers = 1;                      // >= 1, <= 1024
  std::int64_t service_ns = 1'000'000;  // mean service time per query, > 0
  bool exponential = false;             // false: fixed; true: exponential with that mean
  std::uint64_t seed = 1;               // service-time draws
};

class SleepSut final : public SystemUnderTest {
 public:
  explicit SleepSut(SleepSutOptions options);  // throws InputError on bad options
  ~SleepSut() override;
  std::string Name() const override;
  void IssueQuery(std::span<const Query> queries, QueryCompleter& completer) override;
  // Concurrency = number of workers (sweepable offline).
  SutTuningSpace TuningSpace() const override;
  void ApplyTuning(const SutTuning& tuning) override;
  const SleepSutOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "null", "sleep:workers=4,service=2ms[,dist=exp|fixed][,seed=N]". Throws InputError with
// one sentence naming the bad part and what is accepted.
std::unique_ptr<SystemUnderTest> MakeBuiltinSut(std::string_view spec);
// The options of a "sleep:..." spec, as MakeBuiltinSut reads them (without starting workers).
SleepSutOptions ParseSleepSutSpec(std::string_view spec);

}  // namespace joulebench::load
