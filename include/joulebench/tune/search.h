// The search behind `joulebench tune`: which configurations to measure, for how long, and which
// one to choose, within a time budget. It knows nothing about models or sensors: a caller's
// Evaluate function measures one configuration and returns the probe.
//
// Method (docs/tune.md):
//  1. Screening (rung 0, short probes): a coordinate search from the default configuration.
//     Knobs are taken one at a time in the order given; every value of the knob is measured
//     with the other knobs at the best configuration so far (the incumbent), which then moves
//     to the best VALID value. An ordered knob is swept away from the incumbent's value in
//     each direction; a direction stops early (the rest "pruned") once a value is INVALID (for
//     knobs where that holds further along), or `patience` values in a row are worse than
//     the best of the direction.
//     A value that cannot apply (a batching delay with batches of one) is skipped with its
//     reason. Screening ends after `screening_share` of the budget at most.
//  2. Successive halving (rungs 1, 2, ...): the `finalists` best VALID screened configurations
//     and the default are measured again, each rung `eta` times longer than the one before;
//     each rung keeps the best 1/eta (and the default) for the next. A rung is run only if its
//     estimated cost (each configuration's probe time one rung down, times eta) fits in what
//     is left of the budget, with fewer configurations (the worst ranked left out) if need be.
//  3. Choice: the VALID probe of least energy per unit (attributable when a baseline was
//     measured) in the highest rung that completed (every planned probe measured and none
//     stopped); screening counts as complete with whatever it measured. Probes of different
//     rungs are never compared with each other: they differ in duration. INVALID, stopped,
//     failed and skipped probes are never chosen.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/run/run_record.h"

namespace joulebench::tune {

// {knob name: value}, e.g. {"dtype": "int8", "threads": 2, "max_batch": 8}.
using Configuration = nlohmann::json;

struct Knob {
  std::string name;
  std::vector<nlohmann::json> values;  // in sweep order (ordered knobs: as their order runs)
  nlohmann::json default_value;        // the default configuration's value (one of values)
  bool ordered = false;                // a sweep may stop early (see above)
  // An INVALID value ends the sweep in its direction: values further along cannot meet the
  // bound either (a larger batch, a longer delay, a lower power limit). Not for threads.
  bool invalid_ends_sweep = false;
};

struct SearchSettings {
  double budget_s = 900;         // the whole search, from Run() on
  double screening_share = 0.5;  // screening stops after this share of the budget at most
  std::size_t finalists = 4;     // screened configurations measured again at rung 1
  int longer_rungs = 2;          // rungs after screening
  double eta = 2;                // each rung keeps 1/eta and measures eta times longer
  int patience = 2;              // ordered knobs: worse values in a row before the sweep stops
};

// What a probe may know when it is measured.
struct ProbeContext {
  int rung = 0;
  // The same configuration at the rung below (rung >= 1), and the incumbent's latest probe:
  // where a peak search may start.
  const run::TuneProbe* same_configuration_before = nullptr;
  const run::TuneProbe* incumbent = nullptr;
  // True once the probe must end: SIGINT / SIGTERM or the budget's end. Poll it.
  std::function<bool()> stop_requested;
};

struct SearchCallbacks {
  // Measures one configuration; returns its probe (name and knobs are filled in by the
  // search). May throw joulebench::Error: the probe is then "failed" with the message.
  std::function<run::TuneProbe(const Configuration&, const ProbeContext&)> evaluate;
  // A short unique label of a configuration ("int8 t2 b8 d5ms").
  std::function<std::string(const Configuration&)> name;
  // Why a knob value cannot apply to a configuration ("" when it can); optional.
  std::function<std::string(const std::string& knob, const Configuration&)> inapplicable;
  // Seconds on a monotonic clock (default: steady_clock); tests pass a simulated clock.
  std::function<double()> now_s;
  // SIGINT / SIGTERM; optional.
  std::function<bool()> stop_requested;
  // After each probe (measured or skipped), with every probe so far: store them now.
  std::function<void(const std::vector<run::TuneProbe>&)> on_probe;
};

struct SearchResult {
  std::vector<run::TuneProbe> probes;  // in the order measured; chosen / pareto marked
  std::optional<std::size_t> chosen;   // index into probes
  // The default configuration's probe at the chosen one's rung (the like-for-like reference).
  std::optional<std::size_t> default_probe;
  int chosen_rung = 0;
  std::vector<int> complete_rungs;
  bool stopped = false;     // SIGINT / SIGTERM
  std::string ended_early;  // why the search ended before its plan ("" when it did not)
};

// The figure a probe is ranked by: attributable energy per unit when it has one, else total.
double Objective(const run::TuneProbe& probe);

// Runs the search. Throws InputError for an empty knob list, a knob without values or whose
// default is not among its values, and bad settings.
SearchResult RunSearch(const std::vector<Knob>& knobs, const SearchSettings& settings,
                       const SearchCallbacks& callbacks);

// Marks the Pareto front (throughput against Objective) over VALID measured probes, each
// configuration at the highest rung it was measured at.
void MarkParetoFront(std::vector<run::TuneProbe>& probes);

}  // namespace joulebench::tune
