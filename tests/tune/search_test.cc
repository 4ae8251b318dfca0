// The tune search on a scripted workload: each configuration's energy per unit and validity
// come from a table, and a simulated clock advances by each probe's length, so that budgets,
// pruning and the choice are checked exactly.
#include "joulebench/tune/search.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "joulebench/error.h"

namespace joulebench::tune {
namespace {

using nlohmann::json;

std::string Name(const Configuration& c) {
  return fmt::format("{} t{} b{} d{}", c.at("dtype").get<std::string>(), c.at("threads").get<int>(),
                     c.at("max_batch").get<int>(), c.at("max_delay_s").get<double>());
}

std::vector<Knob> Knobs() {
  return {{"dtype", {"fp32", "int8"}, "fp32", false},
          {"threads", {1, 2}, 1, true},
          {"max_batch", {1, 2, 4, 8, 16}, 1, true, true},
          {"max_delay_s", {0.0, 0.005}, 0.0, true, true}};
}

// A workload where int8 saves 40 %, two threads 10 %, batching 15 % per doubling up to 4, and
// batch 8 misses the latency bound. Each probe lasts 10 s x 2^rung on the simulated clock.
struct Scripted {
  double now_s = 0;
  int evaluations = 0;
  std::vector<std::pair<std::string, int>> measured;  // name, rung
  std::function<bool(const Configuration&)> invalid = [](const Configuration& c) {
    return c.at("max_batch").get<int>() >= 8;
  };

  double Joules(const Configuration& c) const {
    double j = 1.0;
    if (c.at("dtype") == "int8") j *= 0.6;
    if (c.at("threads") == 2) j *= 0.9;
    const int b = c.at("max_batch").get<int>();
    for (int k = 1; k < std::min(b, 4); k *= 2) j *= 0.85;
    if (c.at("max_delay_s").get<double>() > 0) j *= 1.02;
    return j;
  }

  SearchCallbacks Callbacks() {
    SearchCallbacks cb;
    cb.name = Name;
    cb.now_s = [this] { return now_s; };
    cb.evaluate = [this](const Configuration& c, const ProbeContext& context) {
      ++evaluations;
      measured.emplace_back(Name(c), context.rung);
      now_s += 10 * std::pow(2, context.rung);
      run::TuneProbe p;
      if (invalid(c)) {
        p.verdict = "INVALID";
        p.reasons.push_back("p99 latency above the bound at every rate");
        p.joules_per_unit = 0.01;  // lower than any VALID one: must still never be chosen
      } else {
        p.verdict = "VALID";
        p.joules_per_unit = Joules(c);
        p.throughput_per_s = 100 / Joules(c);
      }
      p.elapsed_s = 10 * std::pow(2, context.rung);
      return p;
    };
    cb.inapplicable = [](const std::string& knob, const Configuration& c) {
      if (knob == "max_delay_s" && c.at("max_batch") == 1 && c.at("max_delay_s") > 0.0) {
        return std::string("max_batch 1: waiting cannot fill a batch of one");
      }
      return std::string();
    };
    return cb;
  }
};

const run::TuneProbe* Find(const SearchResult& r, const std::string& name, int rung) {
  for (const auto& p : r.probes) {
    if (p.name == name && p.rung == rung) return &p;
  }
  return nullptr;
}

TEST(TuneSearch, ChoosesTheLeastEnergyValidProbeOfItsRungByName) {
  Scripted w;
  const SearchResult r = RunSearch(Knobs(), {.budget_s = 3600}, w.Callbacks());
  ASSERT_TRUE(r.chosen.has_value());
  const run::TuneProbe& chosen = r.probes[*r.chosen];
  EXPECT_EQ(chosen.name, "int8 t2 b4 d0");
  EXPECT_TRUE(chosen.chosen);
  EXPECT_EQ(chosen.rung, r.chosen_rung);
  EXPECT_EQ(r.chosen_rung, 2);  // screening, then two longer rungs completed
  std::string least;
  double least_j = INFINITY;
  for (const auto& p : r.probes) {
    if (p.rung == r.chosen_rung && p.outcome == "measured" && p.verdict == "VALID" &&
        Objective(p) < least_j) {
      least_j = Objective(p);
      least = p.name;
    }
  }
  EXPECT_EQ(chosen.name, least);
  EXPECT_TRUE(r.ended_early.empty()) << r.ended_early;
  EXPECT_FALSE(r.stopped);
}

TEST(TuneSearch, InvalidProbesAreNeverChosenEvenWithLessEnergy) {
  Scripted w;
  const SearchResult r = RunSearch(Knobs(), {.budget_s = 3600}, w.Callbacks());
  ASSERT_TRUE(r.chosen.has_value());
  EXPECT_EQ(r.probes[*r.chosen].verdict, "VALID");
  bool saw_invalid = false;
  for (const auto& p : r.probes) {
    if (p.verdict == "INVALID") {
      saw_invalid = true;
      EXPECT_FALSE(p.chosen) << p.name;
      EXPECT_FALSE(p.pareto) << p.name;
    }
  }
  EXPECT_TRUE(saw_invalid);
}

TEST(TuneSearch, AnInvalidBatchSizePrunesTheLargerOnes) {
  Scripted w;
  const SearchResult r = RunSearch(Knobs(), {.budget_s = 3600}, w.Callbacks());
  const run::TuneProbe* b8 = Find(r, "int8 t2 b8 d0", 0);
  ASSERT_NE(b8, nullptr);
  EXPECT_EQ(b8->verdict, "INVALID");
  const run::TuneProbe* b16 = Find(r, "int8 t2 b16 d0", 0);
  ASSERT_NE(b16, nullptr);
  EXPECT_EQ(b16->outcome, "skipped");
  ASSERT_FALSE(b16->reasons.empty());
  EXPECT_NE(b16->reasons[0].find("pruned: max_batch 8 was INVALID"), std::string::npos);
  for (const auto& [name, rung] : w.measured) EXPECT_NE(name, "int8 t2 b16 d0");
}

TEST(TuneSearch, ADelayIsNotTriedWithBatchesOfOne) {
  Scripted w;
  // Batching never helps here, so the incumbent keeps batches of one.
  w.invalid = [](const Configuration& c) { return c.at("max_batch").get<int>() > 1; };
  const SearchResult r = RunSearch(Knobs(), {.budget_s = 3600}, w.Callbacks());
  const run::TuneProbe* delayed = Find(r, "int8 t2 b1 d0.005", 0);
  ASSERT_NE(delayed, nullptr);
  EXPECT_EQ(delayed->outcome, "skipped");
  EXPECT_NE(delayed->reasons.at(0).find("waiting cannot fill"), std::string::npos);
}

TEST(TuneSearch, AWorseRunOfValuesStopsAnOrderedSweep) {
  Scripted w;
  std::vector<Knob> knobs = {{"dtype", {"fp32"}, "fp32", false},
                             {"threads", {1}, 1, true},
                             {"max_batch", {1, 2, 4, 8, 16, 32}, 1, true},
                             {"max_delay_s", {0.0}, 0.0, true}};
  w.invalid = [](const Configuration&) { return false; };
  // Batch 4 is best; 8 and 16 cost more (Joules() stops improving at 4, the delay-free
  // workload is flat above, so make them worse explicitly).
  auto base = w.Callbacks();
  auto evaluate = base.evaluate;
  base.evaluate = [evaluate](const Configuration& c, const ProbeContext& context) {
    run::TuneProbe p = evaluate(c, context);
    if (c.at("max_batch").get<int>() > 4)
      p.joules_per_unit *= 1.0 + 0.1 * c.at("max_batch").get<int>();
    return p;
  };
  const SearchResult r = RunSearch(knobs, {.budget_s = 3600, .patience = 2}, base);
  EXPECT_EQ(Find(r, "fp32 t1 b8 d0", 0)->outcome, "measured");
  EXPECT_EQ(Find(r, "fp32 t1 b16 d0", 0)->outcome, "measured");
  const run::TuneProbe* b32 = Find(r, "fp32 t1 b32 d0", 0);
  ASSERT_NE(b32, nullptr);
  EXPECT_EQ(b32->outcome, "skipped");
  EXPECT_NE(b32->reasons.at(0).find("2 value(s) of max_batch in a row"), std::string::npos);
}

TEST(TuneSearch, AMiddleDefaultIsSweptInBothDirections) {
  Scripted w;
  std::vector<Knob> knobs = {{"dtype", {"fp32"}, "fp32", false},
                             {"threads", {1}, 1, true},
                             {"max_batch", {1, 2, 4, 8, 16}, 8, true},
                             {"max_delay_s", {0.0}, 0.0, true}};
  w.invalid = [](const Configuration&) { return false; };
  const SearchResult r = RunSearch(knobs, {.budget_s = 3600, .patience = 1}, w.Callbacks());
  // Up from 8: 16 is no better (flat), which stops that direction; down: 4 ties 8, 2 and 1 are
  // worse, so 1 is pruned after 2. Neither direction's stop prunes the other.
  EXPECT_EQ(Find(r, "fp32 t1 b16 d0", 0)->outcome, "measured");
  EXPECT_EQ(Find(r, "fp32 t1 b4 d0", 0)->outcome, "measured");
}

TEST(TuneSearch, AnInvalidThreadCountDoesNotPruneTheNext) {
  Scripted w;
  std::vector<Knob> knobs = {{"dtype", {"fp32"}, "fp32", false},
                             {"threads", {1, 2, 4}, 1, true},
                             {"max_batch", {1}, 1, true, true},
                             {"max_delay_s", {0.0}, 0.0, true, true}};
  // Two threads fail (say, a noisy neighbour); four do not: more threads can always help.
  w.invalid = [](const Configuration& c) { return c.at("threads") == 2; };
  const SearchResult r = RunSearch(knobs, {.budget_s = 3600}, w.Callbacks());
  EXPECT_EQ(Find(r, "fp32 t4 b1 d0", 0)->outcome, "measured");
}

TEST(TuneSearch, TheBudgetEndsTheSearchWithTheBestOfACompleteRung) {
  Scripted w;
  // Screening takes 10 s per probe; at 130 s the first longer rung (20 s per probe, 5 probes)
  // does not fit whole: it shrinks, and the second does not fit at all.
  const SearchResult r = RunSearch(Knobs(), {.budget_s = 150}, w.Callbacks());
  EXPECT_FALSE(r.ended_early.empty());
  ASSERT_TRUE(r.chosen.has_value());
  const auto& rungs = r.complete_rungs;
  EXPECT_TRUE(std::find(rungs.begin(), rungs.end(), r.chosen_rung) != rungs.end());
  EXPECT_LE(w.now_s, 150 + 40);  // at most one probe runs past the end, and is stopped
  for (const auto& p : r.probes) {
    if (p.outcome == "stopped") EXPECT_FALSE(p.chosen);
  }
}

TEST(TuneSearch, AStopRequestKeepsEveryProbeMeasuredSoFar) {
  Scripted w;
  SearchCallbacks cb = w.Callbacks();
  cb.stop_requested = [&w] { return w.evaluations >= 4; };
  std::size_t stored = 0;
  cb.on_probe = [&stored](const std::vector<run::TuneProbe>& probes) { stored = probes.size(); };
  const SearchResult r = RunSearch(Knobs(), {.budget_s = 3600}, cb);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(w.evaluations, 4);
  EXPECT_EQ(stored, r.probes.size());
  ASSERT_EQ(r.probes.size(), 4u);
  EXPECT_EQ(r.probes.back().outcome, "stopped");  // the probe in flight when the stop came
  ASSERT_TRUE(r.chosen.has_value());              // from the screening measured before it
  EXPECT_EQ(r.chosen_rung, 0);
  EXPECT_NE(r.probes[*r.chosen].outcome, "stopped");
}

TEST(TuneSearch, TheDefaultIsMeasuredAtTheChosenRung) {
  Scripted w;
  const SearchResult r = RunSearch(Knobs(), {.budget_s = 3600}, w.Callbacks());
  ASSERT_TRUE(r.default_probe.has_value());
  EXPECT_EQ(r.probes[*r.default_probe].name, "fp32 t1 b1 d0");
  EXPECT_EQ(r.probes[*r.default_probe].rung, r.chosen_rung);
}

TEST(TuneSearch, TheParetoFrontIsMarkedOnEachConfigurationsLongestProbe) {
  std::vector<run::TuneProbe> probes(4);
  auto set = [](run::TuneProbe& p, std::string name, int rung, double tput, double j) {
    p.name = std::move(name);
    p.rung = rung;
    p.outcome = "measured";
    p.verdict = "VALID";
    p.throughput_per_s = tput;
    p.joules_per_unit = j;
  };
  set(probes[0], "a", 0, 10, 1.0);
  set(probes[1], "b", 0, 20, 2.0);
  set(probes[2], "a", 1, 12, 3.0);  // a's longer probe: now dominated by b
  set(probes[3], "c", 0, 5, 0.5);
  MarkParetoFront(probes);
  EXPECT_FALSE(probes[0].pareto);
  EXPECT_TRUE(probes[1].pareto);
  EXPECT_FALSE(probes[2].pareto);
  EXPECT_TRUE(probes[3].pareto);
}

TEST(TuneSearch, BadKnobsAreInputErrors) {
  Scripted w;
  EXPECT_THROW(RunSearch({}, {}, w.Callbacks()), InputError);
  EXPECT_THROW(RunSearch({{"threads", {1, 2}, 4, true}}, {}, w.Callbacks()), InputError);
  EXPECT_THROW(RunSearch(Knobs(), {.budget_s = 0}, w.Callbacks()), InputError);
}

}  // namespace
}  // namespace joulebench::tune
