#include "joulebench/plan/candidate_spec.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>

#include "joulebench/error.h"
#include "joulebench/plan/modelled_power.h"
#include "joulebench/units.h"

namespace joulebench::plan {
namespace {

constexpr std::array<std::string_view, 12> kKeys{
    "name",         "type",          "run",    "throughput",        "power",
    "price",        "latency",       "source", "throughput_source", "power_source",
    "price_source", "latency_source"};

std::string Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// The parts of a candidate common to inference and training.
struct Common {
  std::string name;
  std::string machine_type;
  const MachineType* machine = nullptr;
  std::optional<ResolvedRun> run;
  std::optional<Sourced> price;
  std::string price_missing_reason;
  std::vector<std::string> notes;
  mutable std::string no_model_reason;  // why Modelled() found no curve
};

std::optional<PowerCurve> Modelled(const Common& c, const CandidateContext& context) {
  if (c.machine == nullptr) return std::nullopt;
  if (context.ccf == nullptr) {
    c.no_model_reason = "no coefficients loaded";
    return std::nullopt;
  }
  return ModelledPowerCurve(*c.machine, *context.ccf, &c.no_model_reason);
}

// Provenance of a given figure: its own `<figure>_source`, else the candidate's `source`.
std::string GivenProvenance(const CandidateSpec& spec, std::string_view figure) {
  const std::string* source = spec.Find(fmt::format("{}_source", figure));
  if (source == nullptr) source = spec.Find("source");
  if (source != nullptr) return fmt::format("given: {} ({})", *source, spec.origin);
  return fmt::format("given: {}", spec.origin);
}

// A tune run stands for the configuration it chose: its metrics are that configuration's.
// Returns the kind of run the configuration was measured as ("infer" or "train"); throws
// InputError when the search chose nothing.
std::string TunedKind(const CandidateSpec& spec, const std::string& reference,
                      const ResolvedRun& run, std::vector<std::string>& notes) {
  const nlohmann::json& config = run.record.config;
  const auto tune = config.find("tune");
  const std::string mode =
      tune != config.end() && tune->is_object() ? tune->value("mode", "") : std::string();
  if (mode != "infer" && mode != "train") {
    throw InputError(fmt::format("{}: run={} is a tune run without a mode (infer or train)",
                                 spec.origin, reference));
  }
  const auto chosen = tune->find("chosen");
  if (run.record.verdict != "VALID" || chosen == tune->end() || !chosen->is_object()) {
    throw InputError(fmt::format(
        "{}: run={} is a tune run that chose no configuration ({}); tune again with a looser "
        "bound or a longer --budget",
        spec.origin, reference,
        run.record.verdict_reasons.empty() ? run.record.verdict : run.record.verdict_reasons[0]));
  }
  notes.push_back(
      fmt::format("{} is a tune run: the candidate is its chosen configuration '{}' "
                  "(measured at rung {})",
                  run.label, chosen->value("name", ""), chosen->value("rung", 0)));
  return mode;
}

Common ResolveCommon(const CandidateSpec& spec, const CandidateContext& context,
                     std::string_view command) {
  Common c;
  const std::string* name = spec.Find("name");
  const std::string* type = spec.Find("type");
  const std::string* run = spec.Find("run");
  const std::string* price = spec.Find("price");

  if (run != nullptr) {
    try {
      c.run = context.runs->Resolve(*run);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: {}", spec.origin, e.what()));
    }
    const auto status = c.run->record.status;
    if (status == run::RunStatus::kRunning || status == run::RunStatus::kFailed) {
      throw InputError(fmt::format("{}: run={} is {}; plan from a complete run", spec.origin, *run,
                                   run::RunStatusName(status)));
    }
    if (status == run::RunStatus::kIncomplete) {
      c.notes.push_back(
          fmt::format("{} is incomplete (interrupted); its figures cover only "
                      "what was measured",
                      c.run->label));
    }
    std::string kind = c.run->record.kind;
    if (kind == "tune") kind = TunedKind(spec, *run, *c.run, c.notes);
    const bool wants_train = command == "train";
    if ((wants_train && kind != "train" && !kind.empty()) || (!wants_train && kind == "train")) {
      throw InputError(fmt::format("{}: run={} is a '{}' run; plan {} needs {} run", spec.origin,
                                   *run, kind, command,
                                   wants_train ? "a train" : "an infer (or loadgen)"));
    }
  }

  if (type != nullptr) {
    try {
      c.machine = &context.catalog->Find(*type);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: {}", spec.origin, e.what()));
    }
  } else if (name != nullptr && context.catalog->TryFind(*name) != nullptr) {
    c.machine = context.catalog->TryFind(*name);
  } else if (run != nullptr && context.this_machine_type) {
    c.machine = &context.catalog->Find(*context.this_machine_type);
  } else if (name != nullptr && run == nullptr && price == nullptr) {
    throw InputError(fmt::format(
        "{}: unknown machine type '{}'; closest in the catalog: {}. Give type=NAME from the "
        "catalog, or price=USD/h for a machine outside it (or add it with --catalog FILE)",
        spec.origin, *name, fmt::join(context.catalog->Closest(*name), ", ")));
  }
  if (c.machine != nullptr) c.machine_type = c.machine->name;

  if (name != nullptr) {
    c.name = *name;
  } else if (!c.machine_type.empty()) {
    c.name = c.machine_type;
  } else if (c.run) {
    c.name = c.run->record.name.empty() ? c.run->record.id : c.run->record.name;
    if (c.run->record.kind == "tune") {
      c.name +=
          fmt::format(" tuned ({})", c.run->record.config["tune"]["chosen"].value("name", ""));
    }
  }
  if (c.name.empty()) {
    throw InputError(fmt::format("{}: no name; give name=LABEL (or type=MACHINE)", spec.origin));
  }

  if (price != nullptr) {
    c.price = Sourced{ParsePriceUsdPerHour(*price, fmt::format("{} price", spec.origin)),
                      GivenProvenance(spec, "price")};
  } else if (c.machine != nullptr && c.machine->price) {
    const Price& p = *c.machine->price;
    c.price = Sourced{p.usd_per_hour,
                      fmt::format("catalog: {} {} {} {} ({}; {})", c.machine->name, p.region,
                                  p.pricing_model, p.date, c.machine->source, c.machine->origin)};
  } else if (run != nullptr && context.this_machine_price_usd_per_hour) {
    c.price = Sourced{*context.this_machine_price_usd_per_hour, "given: --price"};
  } else if (c.machine != nullptr) {
    c.price_missing_reason =
        fmt::format("the catalog has no price for {}; give price=USD/h", c.machine->name);
  } else {
    c.price_missing_reason =
        "no machine type or price for the machine of this run; give type=NAME or price=USD/h "
        "(or --instance-type / --price for this machine)";
  }
  return c;
}

const run::Metric* FindAny(const run::RunRecord& r, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (const run::Metric* m = r.FindMetric(n)) return m;
  }
  return nullptr;
}

std::string MetricProvenance(const ResolvedRun& run, const run::Metric& m) {
  if (m.provenance.empty()) return fmt::format("measured run: {} metric {}", run.label, m.name);
  return fmt::format("measured run: {} metric {} ({})", run.label, m.name, m.provenance);
}

// Whole-machine mean power of a run: the `measurement_power` (load generator) or `mean_power`
// metric, else its "measurement" window's energy report, else its first energy report that is
// neither the idle baseline nor a tune run's default configuration.
std::optional<Sourced> RunMeanPower(const ResolvedRun& run) {
  if (const run::Metric* m = FindAny(run.record, {"measurement_power", "mean_power"});
      m != nullptr && m->value > 0) {
    return Sourced{m->value, MetricProvenance(run, *m)};
  }
  const sampling::EnergyReport* chosen = nullptr;
  for (const auto& report : run.record.energy) {
    if (report.name == "measurement") chosen = &report;
  }
  for (const auto& report : run.record.energy) {
    // Else the run's first own window: never the idle baseline or a tune run's default.
    if (chosen != nullptr) break;
    if (report.name != "baseline" && report.name != "default configuration") chosen = &report;
  }
  if (chosen != nullptr && chosen->mean_watts > 0) {
    return Sourced{chosen->mean_watts,
                   fmt::format("measured run: {} window '{}' mean power{}", run.label, chosen->name,
                               chosen->any_modelled ? " (partly modelled)" : "")};
  }
  return std::nullopt;
}

double ParseWithUnits(std::string_view text, std::string_view what, double& scale_out) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || !std::isfinite(value)) {
    throw InputError(fmt::format("{}: '{}' is not a number with a unit", what, text));
  }
  std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  scale_out = 0;
  if (unit == "W") scale_out = 1;
  if (unit == "kW") scale_out = 1e3;
  if (unit == "mW") scale_out = 1e-3;
  if (unit == "MW") scale_out = 1e6;
  if (unit.empty()) {
    throw InputError(fmt::format("{}: '{}' has no unit; write watts, e.g. {}W", what, text, text));
  }
  if (scale_out == 0) {
    throw InputError(
        fmt::format("{}: unknown power unit '{}' in '{}'; use W, kW or mW", what, unit, text));
  }
  return value;
}

// A multi-node train run measured the whole job: a candidate is one instance (node). Its
// throughput is the first node's alone when the run measured it (else the job's over its
// nodes, scaling losses included), its power the job's mean over its nodes.
void PerInstanceFromMultiNodeRun(const CandidateSpec& spec, const ResolvedRun& run,
                                 TrainingCandidate& candidate) {
  const auto nodes = static_cast<double>(run.record.nodes.size());
  const auto from_run = [](const Sourced& s) {
    return s.provenance.rfind("measured run:", 0) == 0;
  };
  if (spec.Find("throughput") == nullptr && from_run(candidate.sequences_per_s)) {
    if (const run::Metric* reference = run.record.FindMetric("reference_sequences_per_s");
        reference != nullptr && reference->value > 0) {
      candidate.sequences_per_s = Sourced{reference->value, MetricProvenance(run, *reference)};
    } else {
      candidate.sequences_per_s.value /= nodes;
      candidate.sequences_per_s.provenance += fmt::format(" / {} nodes", run.record.nodes.size());
      candidate.notes.push_back(fmt::format(
          "{} ran on {} nodes without a 1-node reference: the throughput per instance is the "
          "job's over its nodes, its scaling losses included",
          run.label, run.record.nodes.size()));
    }
  }
  if (spec.Find("power") == nullptr && from_run(candidate.watts)) {
    candidate.watts.value /= nodes;
    candidate.watts.provenance += fmt::format(" / {} nodes", run.record.nodes.size());
  }
  if (const run::Metric* m = run.record.FindMetric("scaling_efficiency"); m && m->value > 0) {
    candidate.measured_scaling_efficiency =
        Sourced{std::min(1.0, m->value), MetricProvenance(run, *m)};
  }
}

}  // namespace

const std::string* CandidateSpec::Find(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

CandidateSpec CandidateSpecFromFields(std::vector<std::pair<std::string, std::string>> fields,
                                      std::string origin) {
  CandidateSpec spec;
  spec.origin = std::move(origin);
  for (auto& [key, value] : fields) {
    bool known = false;
    for (auto k : kKeys) known = known || k == key;
    if (!known) {
      throw InputError(
          fmt::format("{}: unknown key '{}'; keys: {}", spec.origin, key, fmt::join(kKeys, ", ")));
    }
    if (value.empty()) {
      throw InputError(fmt::format("{}: '{}' has no value", spec.origin, key));
    }
    if (spec.Find(key) != nullptr) {
      throw InputError(fmt::format("{}: '{}' is given twice", spec.origin, key));
    }
    spec.fields.emplace_back(std::move(key), std::move(value));
  }
  if (spec.fields.empty()) {
    throw InputError(
        fmt::format("{}: empty; e.g. name=inf1.2xlarge,throughput=54/s,power=60W", spec.origin));
  }
  return spec;
}

CandidateSpec ParseCandidateSpec(std::string_view text, std::string origin) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string pair = Trim(text.substr(start, comma - start));
    start = comma + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string::npos) {
      throw InputError(
          fmt::format("{}: '{}' is not key=value; e.g. "
                      "name=inf1.2xlarge,throughput=54/s,power=60W",
                      origin, pair));
    }
    fields.emplace_back(Trim(pair.substr(0, eq)), Trim(pair.substr(eq + 1)));
  }
  return CandidateSpecFromFields(std::move(fields), std::move(origin));
}

double ParsePowerWatts(std::string_view text, std::string_view what) {
  double scale = 1;
  const double value = ParseWithUnits(text, what, scale);
  const double watts = value * scale;
  if (!(watts > 0)) {
    throw InputError(fmt::format("{}: '{}' must be greater than zero", what, text));
  }
  if (!std::isfinite(watts)) throw InputError(fmt::format("{}: '{}' is too large", what, text));
  // A subnormal double: no machine's power, and figures divided by it would be infinite.
  if (!std::isnormal(watts)) throw InputError(fmt::format("{}: '{}' is too small", what, text));
  return watts;
}

double ParsePriceUsdPerHour(std::string_view text, std::string_view what) {
  if (!text.empty() && text.front() == '$') text.remove_prefix(1);
  if (text.find('/') == std::string_view::npos) {
    throw InputError(
        fmt::format("{}: '{}' has no time unit; write US dollars per hour, e.g. "
                    "{}/h",
                    what, text, text));
  }
  const double usd_per_hour = ParseRatePerSecond(text, what) * 3600.0;
  if (!std::isfinite(usd_per_hour)) {
    throw InputError(fmt::format("{}: '{}' is too large", what, text));
  }
  return usd_per_hour;
}

InferenceCandidate ResolveInferenceCandidate(const CandidateSpec& spec,
                                             const CandidateContext& context) {
  Common c = ResolveCommon(spec, context, "infer");
  InferenceCandidate candidate;
  candidate.name = c.name;
  candidate.machine_type = c.machine_type;
  candidate.origin = c.run ? c.run->label : "given";
  candidate.price_usd_per_hour = c.price;
  candidate.price_missing_reason = c.price_missing_reason;
  candidate.notes = c.notes;
  const std::string what = fmt::format("{} ({})", spec.origin, c.name);

  if (const std::string* t = spec.Find("throughput")) {
    candidate.throughput_per_s =
        Sourced{ParseRatePerSecond(*t, what + " throughput"), GivenProvenance(spec, "throughput")};
  } else if (c.run) {
    const run::Metric* m = FindAny(c.run->record, {"peak_throughput", "throughput"});
    if (m == nullptr || !(m->value > 0)) {
      throw InputError(
          fmt::format("{}: {} has no peak_throughput or throughput metric; give "
                      "throughput=RATE (e.g. 54/s)",
                      what, c.run->label));
    }
    candidate.throughput_per_s = Sourced{m->value, MetricProvenance(*c.run, *m)};
  } else {
    throw InputError(
        fmt::format("{}: no throughput; give throughput=RATE per instance (e.g. "
                    "54/s) or run=FILE of an infer run",
                    what));
  }

  if (const std::string* p = spec.Find("power")) {
    candidate.power =
        PowerCurve::PeakOnly(ParsePowerWatts(*p, what + " power"), GivenProvenance(spec, "power"));
  } else if (c.run && c.run->record.power_curve.size() >= 2) {
    std::vector<PowerCurve::Point> points;
    for (const auto& level : c.run->record.power_curve) {
      points.push_back({level.load_fraction, level.watts_total});
    }
    candidate.power =
        PowerCurve::FromPoints(std::move(points), CurveKind::kMeasuredRun,
                               fmt::format("measured run: {} power at {} load levels", c.run->label,
                                           c.run->record.power_curve.size()));
    if (candidate.power.adjusted_to_monotone()) {
      candidate.notes.push_back(
          "measured power fell at a higher load (noise); the curve was "
          "made monotone by averaging the out-of-order levels");
    }
  } else if (auto mean = c.run ? RunMeanPower(*c.run) : std::nullopt) {
    candidate.power = PowerCurve::PeakOnly(mean->value, mean->provenance + " at peak load");
  } else if (c.machine != nullptr && c.machine->power_curve) {
    candidate.power = *c.machine->power_curve;
    if (!c.machine->power_curve_note.empty()) {
      candidate.notes.push_back(fmt::format("catalog power curve of {}: {}", c.machine->name,
                                            c.machine->power_curve_note));
    }
  } else if (auto modelled = Modelled(c, context)) {
    candidate.power = *modelled;
  } else {
    throw InputError(fmt::format(
        "{}: no power; give power=WATTS per instance (e.g. 60W){}", what,
        c.machine != nullptr ? fmt::format(" ({} has no published power curve and no model: {})",
                                           c.machine->name, c.no_model_reason)
                             : std::string(" or run=FILE of a measured run")));
  }

  if (const std::string* l = spec.Find("latency")) {
    candidate.latency_p99_s =
        Sourced{std::chrono::duration<double>(ParseDuration(*l, what + " latency")).count(),
                GivenProvenance(spec, "latency")};
  } else if (c.run) {
    if (const run::Metric* m = FindAny(c.run->record, {"latency_p99", "p99_latency"})) {
      candidate.latency_p99_s = Sourced{m->value, MetricProvenance(*c.run, *m)};
    }
  }
  return candidate;
}

Sourced TrainingThroughputOfRun(const ResolvedRun& run) {
  const run::Metric* m = FindAny(run.record, {"sequences_per_s", "throughput"});
  if (m == nullptr || !(m->value > 0)) {
    throw InputError(fmt::format("{} has no sequences_per_s or throughput metric", run.label));
  }
  return Sourced{m->value, MetricProvenance(run, *m)};
}

Sourced ScalingEfficiencyOfRun(const ResolvedRun& run, int instances,
                               std::vector<std::string>* notes) {
  if (!run.record.kind.empty() && run.record.kind != "train") {
    throw InputError(
        fmt::format("{} is a '{}' run; a scaling efficiency comes from a train run "
                    "on several nodes (train --mpi)",
                    run.label, run.record.kind));
  }
  const run::Metric* m = run.record.FindMetric("scaling_efficiency");
  if (m == nullptr || !(m->value > 0)) {
    throw InputError(fmt::format(
        "{} measured no scaling efficiency: it ran on one node, or with --no-scaling-reference; "
        "give --scaling-efficiency or --scaling-from instead",
        run.label));
  }
  const run::Metric* nodes = run.record.FindMetric("nodes");
  const int measured_nodes = nodes != nullptr ? static_cast<int>(nodes->value) : 0;
  if (notes != nullptr && measured_nodes > 0 && instances > 0 && measured_nodes != instances) {
    notes->push_back(fmt::format(
        "the scaling efficiency was measured on {} nodes; this plan is for {} instances, where "
        "it may differ",
        measured_nodes, instances));
  }
  double efficiency = m->value;
  if (efficiency > 1) {
    if (notes != nullptr) {
      notes->push_back(fmt::format(
          "{} measured a scaling efficiency of {:.3f} (above 1: noise or a first node slowed by "
          "the others); capped at 1.0",
          run.label, efficiency));
    }
    efficiency = 1.0;
  }
  return Sourced{efficiency, MetricProvenance(run, *m)};
}

std::optional<Sourced> CandidatesScalingEfficiency(
    const std::vector<TrainingCandidate>& candidates) {
  std::optional<Sourced> found;
  std::string from;
  for (const auto& c : candidates) {
    if (!c.measured_scaling_efficiency) continue;
    if (found && found->value != c.measured_scaling_efficiency->value) {
      throw InputError(fmt::format(
          "candidates {} and {} come from multi-node runs that measured different scaling "
          "efficiencies ({:.3f} and {:.3f}); choose one with --from-run RUN or "
          "--scaling-efficiency",
          from, c.name, found->value, c.measured_scaling_efficiency->value));
    }
    if (!found) {
      found = c.measured_scaling_efficiency;
      from = c.name;
    }
  }
  return found;
}

TrainingCandidate ResolveTrainingCandidate(const CandidateSpec& spec,
                                           const CandidateContext& context) {
  Common c = ResolveCommon(spec, context, "train");
  TrainingCandidate candidate;
  candidate.name = c.name;
  candidate.machine_type = c.machine_type;
  candidate.origin = c.run ? c.run->label : "given";
  candidate.price_usd_per_hour = c.price;
  candidate.price_missing_reason = c.price_missing_reason;
  candidate.notes = c.notes;
  const std::string what = fmt::format("{} ({})", spec.origin, c.name);
  if (spec.Find("latency") != nullptr) {
    throw InputError(fmt::format("{}: latency applies to inference candidates only", what));
  }

  if (const std::string* t = spec.Find("throughput")) {
    candidate.sequences_per_s =
        Sourced{ParseRatePerSecond(*t, what + " throughput"), GivenProvenance(spec, "throughput")};
  } else if (c.run) {
    try {
      candidate.sequences_per_s = TrainingThroughputOfRun(*c.run);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: {}; give throughput=RATE (e.g. 3400/s)", what, e.what()));
    }
  } else {
    throw InputError(
        fmt::format("{}: no throughput; give throughput=RATE in sequences per "
                    "instance (e.g. 3400/s) or run=FILE of a train run",
                    what));
  }

  if (const std::string* p = spec.Find("power")) {
    candidate.watts = Sourced{ParsePowerWatts(*p, what + " power"), GivenProvenance(spec, "power")};
  } else if (auto mean = c.run ? RunMeanPower(*c.run) : std::nullopt) {
    candidate.watts = *mean;
  } else if (c.machine != nullptr && c.machine->power_curve) {
    // Training keeps a machine at its limit, so the published curve's full-load point applies.
    candidate.watts = Sourced{c.machine->power_curve->PeakWatts(),
                              c.machine->power_curve->provenance() + " at 100 % load"};
    if (!c.machine->power_curve_note.empty()) {
      candidate.notes.push_back(fmt::format("catalog power curve of {}: {}", c.machine->name,
                                            c.machine->power_curve_note));
    }
  } else if (auto modelled = Modelled(c, context)) {
    candidate.watts = Sourced{modelled->PeakWatts(), modelled->provenance() + " at 100 % load"};
  } else {
    throw InputError(fmt::format(
        "{}: no power; give power=WATTS per instance (e.g. 6500W){}", what,
        c.machine != nullptr ? fmt::format(" ({} has no published power curve and no model: {})",
                                           c.machine->name, c.no_model_reason)
                             : std::string(" or run=FILE of a measured train run")));
  }
  if (c.run && c.run->record.nodes.size() > 1) PerInstanceFromMultiNodeRun(spec, *c.run, candidate);
  return candidate;
}

}  // namespace joulebench::plan
