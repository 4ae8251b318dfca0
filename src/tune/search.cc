#include "joulebench/tune/search.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>
#include <map>
#include <set>

#include "joulebench/error.h"
#include "joulebench/tune/pareto.h"

namespace joulebench::tune {
namespace {

bool Valid(const run::TuneProbe& p) { return p.outcome == "measured" && p.verdict == "VALID"; }

class Searcher {
 public:
  Searcher(const std::vector<Knob>& knobs, const SearchSettings& settings,
           const SearchCallbacks& callbacks)
      : knobs_(knobs), settings_(settings), cb_(callbacks) {
    if (!cb_.now_s) {
      cb_.now_s = [] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
      };
    }
  }

  SearchResult Run() {
    start_s_ = cb_.now_s();
    deadline_s_ = start_s_ + settings_.budget_s;
    screening_end_s_ = start_s_ + settings_.budget_s * settings_.screening_share;
    Screen();
    std::vector<int> complete{0};
    if (!Ended()) Confirm(complete);
    result_.complete_rungs = complete;
    Choose(complete);
    MarkParetoFront(result_.probes);
    if (result_.chosen) result_.probes[*result_.chosen].chosen = true;
    return std::move(result_);
  }

 private:
  bool Interrupted() const { return cb_.stop_requested && cb_.stop_requested(); }
  bool Ended() const { return result_.stopped || !result_.ended_early.empty(); }

  const run::TuneProbe* Latest(const std::string& name, int rung) const {
    for (auto it = result_.probes.rbegin(); it != result_.probes.rend(); ++it) {
      if (it->name == name && it->rung == rung && it->outcome != "skipped") return &*it;
    }
    return nullptr;
  }

  void Skip(const Configuration& config, int rung, std::string reason) {
    run::TuneProbe p;
    p.name = cb_.name(config);
    p.knobs = config;
    p.rung = rung;
    p.outcome = "skipped";
    p.reasons.push_back(std::move(reason));
    result_.probes.push_back(std::move(p));
    if (cb_.on_probe) cb_.on_probe(result_.probes);
  }

  // Measures `config` at `rung`; returns the probe's index.
  std::size_t Probe(const Configuration& config, int rung, const run::TuneProbe* incumbent) {
    const std::string name = cb_.name(config);
    ProbeContext context;
    context.rung = rung;
    context.same_configuration_before = rung > 0 ? Latest(name, rung - 1) : nullptr;
    context.incumbent = incumbent;
    const double deadline = deadline_s_;
    bool budget_hit = false;
    context.stop_requested = [this, deadline, &budget_hit] {
      if (Interrupted()) return true;
      if (cb_.now_s() >= deadline) budget_hit = true;
      return budget_hit;
    };
    const double begin = cb_.now_s();
    run::TuneProbe p;
    try {
      p = cb_.evaluate(config, context);
    } catch (const Error& e) {
      p = run::TuneProbe{};
      p.outcome = "failed";
      p.reasons.push_back(e.what());
    }
    p.name = name;
    p.knobs = config;
    p.rung = rung;
    if (p.elapsed_s <= 0) p.elapsed_s = cb_.now_s() - begin;
    if (Interrupted()) {
      result_.stopped = true;
      p.outcome = "stopped";
      p.reasons.push_back("stopped on request (SIGINT/SIGTERM)");
    } else if (budget_hit || (p.outcome != "failed" && cb_.now_s() >= deadline_s_)) {
      if (budget_hit) {
        p.outcome = "stopped";
        p.reasons.push_back(fmt::format("the search's budget of {:.0f} s ran out during this probe",
                                        settings_.budget_s));
      }
      result_.ended_early = fmt::format("the budget of {:.0f} s ran out", settings_.budget_s);
    }
    if (p.outcome.empty()) p.outcome = "measured";
    result_.probes.push_back(std::move(p));
    if (cb_.on_probe) cb_.on_probe(result_.probes);
    return result_.probes.size() - 1;
  }

  static bool Better(const run::TuneProbe& a, const run::TuneProbe& b) {
    return Objective(a) < Objective(b);
  }

  void Screen() {
    Configuration incumbent = nlohmann::json::object();
    for (const Knob& k : knobs_) incumbent[k.name] = k.default_value;
    std::size_t best = Probe(incumbent, 0, nullptr);
    default_name_ = cb_.name(incumbent);
    for (const Knob& knob : knobs_) {
      if (Ended()) return;
      std::optional<std::size_t> sweep_best;
      if (Valid(result_.probes[best])) sweep_best = best;
      // An ordered knob is swept away from the incumbent's value in each direction, each
      // direction stopping on its own; other knobs in the order given.
      std::vector<std::vector<nlohmann::json>> sweeps;
      const auto at = std::find(knob.values.begin(), knob.values.end(), incumbent[knob.name]);
      if (knob.ordered && at != knob.values.end()) {
        sweeps.emplace_back(at + 1, knob.values.end());
        sweeps.emplace_back(std::make_reverse_iterator(at), knob.values.rend());
      } else {
        sweeps.push_back(knob.values);
      }
      for (const auto& sweep : sweeps) {
        if (Sweep(knob, sweep, incumbent, best, sweep_best)) return;
      }
      if (sweep_best) {
        best = *sweep_best;
        incumbent = result_.probes[best].knobs;
      }
    }
  }

  // Measures `values` of `knob` from `incumbent` in order; returns true when the search ended.
  bool Sweep(const Knob& knob, const std::vector<nlohmann::json>& values,
             const Configuration& incumbent, std::size_t incumbent_probe,
             std::optional<std::size_t>& sweep_best) {
    int worse_in_a_row = 0;
    std::optional<std::size_t> direction_best;
    if (Valid(result_.probes[incumbent_probe])) direction_best = incumbent_probe;
    std::string prune_reason;
    for (const auto& value : values) {
      Configuration config = incumbent;
      config[knob.name] = value;
      if (value == incumbent[knob.name] || Latest(cb_.name(config), 0) != nullptr) continue;
      if (Ended()) return true;
      if (!prune_reason.empty()) {
        Skip(config, 0, prune_reason);
        continue;
      }
      if (cb_.inapplicable) {
        if (std::string why = cb_.inapplicable(knob.name, config); !why.empty()) {
          Skip(config, 0, why);
          continue;
        }
      }
      if (cb_.now_s() >= screening_end_s_) {
        Skip(config, 0,
             fmt::format("screening used its share of the budget ({:.0f} s of {:.0f} s)",
                         settings_.budget_s * settings_.screening_share, settings_.budget_s));
        continue;
      }
      const std::size_t i = Probe(config, 0, &result_.probes[incumbent_probe]);
      const run::TuneProbe& p = result_.probes[i];
      if (Valid(p) && (!sweep_best || Better(p, result_.probes[*sweep_best]))) sweep_best = i;
      if (Valid(p) && (!direction_best || Better(p, result_.probes[*direction_best]))) {
        direction_best = i;
        worse_in_a_row = 0;
      } else if (knob.ordered && p.outcome == "measured") {
        ++worse_in_a_row;
        if (!Valid(p) && knob.invalid_ends_sweep) {
          prune_reason =
              fmt::format("pruned: {} {} was INVALID, so values further along cannot do better",
                          knob.name, value.dump());
        } else if (worse_in_a_row >= settings_.patience) {
          prune_reason = fmt::format(
              "pruned: {} value(s) of {} in a row used more energy per unit than the best",
              worse_in_a_row, knob.name);
        }
      }
    }
    return Ended();
  }

  // Rungs 1.. of successive halving.
  void Confirm(std::vector<int>& complete) {
    std::vector<const run::TuneProbe*> ranked;
    std::set<std::string> seen;
    for (const auto& p : result_.probes) {
      if (p.rung == 0 && Valid(p) && seen.insert(p.name).second) ranked.push_back(&p);
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto* a, const auto* b) { return Better(*a, *b); });
    std::vector<Configuration> candidates;
    for (const auto* p : ranked) {
      if (p->name != default_name_ && candidates.size() < settings_.finalists) {
        candidates.push_back(p->knobs);
      }
    }
    if (candidates.empty()) return;  // nothing beat or joined the default: nothing to confirm
    const run::TuneProbe* default_probe = Latest(default_name_, 0);
    std::optional<Configuration> default_config;
    if (default_probe != nullptr && Valid(*default_probe)) default_config = default_probe->knobs;

    for (int rung = 1; rung <= settings_.longer_rungs; ++rung) {
      // Cost of each probe here: its own probe one rung down, times eta (eta times longer).
      auto cost = [&](const Configuration& config) {
        const run::TuneProbe* below = Latest(cb_.name(config), rung - 1);
        return below != nullptr ? below->elapsed_s * settings_.eta : 0.0;
      };
      const double left_s = deadline_s_ - cb_.now_s();
      double planned_s = default_config ? cost(*default_config) : 0.0;
      std::size_t keep = 0;
      while (keep < candidates.size() && planned_s + cost(candidates[keep]) <= left_s) {
        planned_s += cost(candidates[keep]);
        ++keep;
      }
      if (keep == 0) {
        result_.ended_early = fmt::format(
            "rung {} needs about {:.0f} s for its best configuration{} and {:.0f} s of the "
            "budget are left",
            rung, cost(candidates.front()) + (default_config ? cost(*default_config) : 0.0),
            default_config ? " and the default" : "", std::max(0.0, left_s));
        return;
      }
      candidates.resize(keep);
      std::vector<std::size_t> measured;
      bool all_run = true;
      for (const auto& config : candidates) {
        if (Ended()) {
          all_run = false;
          break;
        }
        measured.push_back(Probe(config, rung, nullptr));
      }
      if (all_run && default_config) {
        if (Ended()) {
          all_run = false;
        } else {
          measured.push_back(Probe(*default_config, rung, nullptr));
        }
      }
      for (std::size_t i : measured) all_run = all_run && result_.probes[i].outcome != "stopped";
      if (all_run) complete.push_back(rung);
      if (Ended()) return;
      if (default_config) measured.pop_back();
      std::vector<std::size_t> valid;
      for (std::size_t i : measured) {
        if (Valid(result_.probes[i])) valid.push_back(i);
      }
      std::stable_sort(valid.begin(), valid.end(), [&](std::size_t a, std::size_t b) {
        return Better(result_.probes[a], result_.probes[b]);
      });
      const auto next =
          static_cast<std::size_t>(std::ceil(static_cast<double>(valid.size()) / settings_.eta));
      candidates.clear();
      for (std::size_t k = 0; k < next; ++k) candidates.push_back(result_.probes[valid[k]].knobs);
      if (candidates.empty()) return;
    }
  }

  void Choose(const std::vector<int>& complete) {
    for (auto rung = complete.rbegin(); rung != complete.rend(); ++rung) {
      std::optional<std::size_t> best;
      for (std::size_t i = 0; i < result_.probes.size(); ++i) {
        const auto& p = result_.probes[i];
        if (p.rung == *rung && Valid(p) && (!best || Better(p, result_.probes[*best]))) best = i;
      }
      if (!best) continue;
      result_.chosen = best;
      result_.chosen_rung = *rung;
      for (std::size_t i = 0; i < result_.probes.size(); ++i) {
        const auto& p = result_.probes[i];
        if (p.rung == *rung && p.name == default_name_ && p.outcome == "measured") {
          result_.default_probe = i;
        }
      }
      return;
    }
  }

  const std::vector<Knob>& knobs_;
  SearchSettings settings_;
  SearchCallbacks cb_;
  SearchResult result_;
  std::string default_name_;
  double start_s_ = 0;
  double deadline_s_ = 0;
  double screening_end_s_ = 0;
};

}  // namespace

double Objective(const run::TuneProbe& probe) {
  return probe.joules_per_unit_attributable ? *probe.joules_per_unit_attributable
                                            : probe.joules_per_unit;
}

SearchResult RunSearch(const std::vector<Knob>& knobs, const SearchSettings& settings,
                       const SearchCallbacks& callbacks) {
  if (knobs.empty()) throw InputError("tune: no knob to search");
  for (const Knob& k : knobs) {
    if (k.values.empty()) throw InputError(fmt::format("tune: knob {} has no values", k.name));
    if (std::find(k.values.begin(), k.values.end(), k.default_value) == k.values.end()) {
      throw InputError(fmt::format("tune: knob {}'s default {} is not among its values {}", k.name,
                                   k.default_value.dump(), nlohmann::json(k.values).dump()));
    }
  }
  if (!(settings.budget_s > 0)) throw InputError("--budget must be longer than 0 s");
  if (!(settings.screening_share > 0 && settings.screening_share <= 1)) {
    throw InputError("tune: the screening share must be in (0, 1]");
  }
  if (!(settings.eta > 1)) throw InputError("tune: eta must be greater than 1");
  if (settings.patience < 1) throw InputError("tune: patience must be at least 1");
  if (!callbacks.evaluate || !callbacks.name) {
    throw InputError("tune: the search needs an evaluate and a name function");
  }
  return Searcher(knobs, settings, callbacks).Run();
}

void MarkParetoFront(std::vector<run::TuneProbe>& probes) {
  // Each configuration's highest-rung VALID measurement.
  std::map<std::string, std::size_t> latest;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    probes[i].pareto = false;
    if (!Valid(probes[i])) continue;
    auto [it, inserted] = latest.emplace(probes[i].name, i);
    if (!inserted && probes[i].rung >= probes[it->second].rung) it->second = i;
  }
  std::vector<std::size_t> index;
  std::vector<ParetoPoint> points;
  for (const auto& [name, i] : latest) {
    index.push_back(i);
    points.push_back({probes[i].throughput_per_s, Objective(probes[i])});
  }
  for (std::size_t k : ParetoFront(points)) probes[index[k]].pareto = true;
}

}  // namespace joulebench::tune
