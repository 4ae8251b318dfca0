// joulebench loadgen --sut null|sleep:workers=4,service=2ms[,dist=exp]
//                    --scenario offline|server|single-stream [--rate R] [--latency-bound D]
//                    [--percentile P] [--duration D] [--find-peak] [--load-levels 0,25,...]
//                    [--json]
// The load generator's self-test: a built-in SUT driven by a scenario, with the verdict,
// latency table, throughput and the energy of the measurement from the sampler.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/command.h"
#include "cli/loadgen_sut.h"
#include "cli/run_observers.h"
#include "cli/source_flags.h"
#include "joulebench/error.h"
#include "joulebench/load/builtin_suts.h"
#include "joulebench/load/loadgen.h"
#include "joulebench/load/observer_hooks.h"
#include "joulebench/run/run_record.h"
#include "joulebench/sampling/cpu_share.h"
#include "joulebench/sampling/meter.h"
#include "joulebench/units.h"
#include "report/energy_report_format.h"

namespace joulebench::cli {
namespace {

struct LoadgenFlags {
  SourceFlags sources;
  std::string sut = "null";
  std::string scenario = "server";
  std::string rate = "1000/s";
  std::string latency_bound = "10ms";
  std::string percentile;
  std::string duration = "10s";
  std::string min_queries = "100";
  std::string window = "1s";
  std::string max_warmup = "60s";
  std::string expected_qps;
  std::string precision = "2";
  std::string load_levels;
  std::string max_failed = "1";
  int server_pid = 0;
  std::string server_cgroup;
  RunFlags run;
  std::string interval = "100ms";
  std::uint64_t seed = 0;
  bool seed_given = false;
  bool no_steady_state = false;
  bool find_peak = false;
  bool no_energy = false;
  bool json = false;
};

double ParseRateFlag(const std::string& text, std::string_view what) {
  const double rate =
      text.find('/') != std::string::npos ? ParseRatePerSecond(text, what) : ParseCount(text, what);
  if (!(rate > 0) || std::isinf(rate)) {
    throw InputError(
        fmt::format("{} '{}' must be a positive rate, e.g. 1000 or 1000/s", what, text));
  }
  return rate;
}

double ParsePercent(const std::string& text, std::string_view what) {
  const double p = ParseNumber(text, what);
  if (!(p > 0 && p < 100)) {
    throw InputError(fmt::format("{} '{}' must be a percentage strictly between 0 and 100, e.g. 99",
                                 what, text));
  }
  return p;
}

std::int64_t Ms(const std::string& text, std::string_view what) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ParseDuration(text, what)).count();
}

std::vector<double> ParseLevels(const std::string& text) {
  std::vector<double> fractions;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const double percent = ParseNumber(item, "--load-levels");
    if (!(percent >= 0 && percent <= 100)) {
      throw InputError(
          fmt::format("--load-levels: {} is outside 0..100 (percent of the peak rate)", item));
    }
    fractions.push_back(percent / 100);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return fractions;
}

std::string Dur(std::int64_t ns) { return FormatDuration(static_cast<double>(ns) / 1e9); }

std::string FormatResult(const load::ScenarioResult& r) {
  std::string out;
  out += fmt::format("{} scenario, SUT {}", load::ScenarioName(r.scenario), r.sut_name);
  if (r.scenario == load::Scenario::kServer) {
    out += fmt::format(", offered {:.6g}/s, p{:g} bound {}", r.settings.server_target_qps,
                       r.settings.server_target_latency_percentile,
                       Dur(r.settings.server_target_latency_ns));
  }
  out += "\n";
  out += fmt::format("verdict: {}\n", r.valid ? "VALID" : "INVALID");
  for (const auto& c : r.failed_checks) out += fmt::format("  failed: {}\n", c);
  if (r.steady_state_at_s) {
    out += fmt::format("steady state: at {} ({})\n", FormatDuration(*r.steady_state_at_s),
                       r.steady_state_criterion);
  } else {
    out += fmt::format("steady state: not reached ({})\n", r.steady_state_criterion);
  }
  out += fmt::format("measured: {} queries in {}, throughput {:.6g}/s\n", r.measured_query_count,
                     FormatDuration(r.measured_duration_s), r.throughput_per_s);
  const auto& l = r.latency;
  out += fmt::format("latency ({}):\n", r.scenario == load::Scenario::kServer
                                            ? "from each query's scheduled time"
                                            : "from issue to completion");
  out += fmt::format("  min {:>12}  mean {:>12}  max {:>12}\n", Dur(l.min_ns),
                     FormatDuration(l.mean_ns / 1e9), Dur(l.max_ns));
  out += fmt::format("  p50 {:>12}  p90  {:>12}  p95 {:>12}\n", Dur(l.p50_ns), Dur(l.p90_ns),
                     Dur(l.p95_ns));
  out += fmt::format("  p99 {:>12}  p99.9 {:>11}\n", Dur(l.p99_ns), Dur(l.p999_ns));
  if (r.failed_query_count > 0) {
    out += fmt::format("failed: {} of {} measured queries ({})\n", r.failed_query_count,
                       r.measured_query_count, load::FormatFailures(r.failed_by_kind));
  }
  if (r.tokens) {
    const load::TokenStats& t = *r.tokens;
    out += fmt::format("tokens: {} in {} streamed replies, {:.6g} tokens/s\n", t.tokens, t.queries,
                       t.tokens_per_s);
    auto line = [&](std::string_view name, const load::LatencySummary& s) {
      out += fmt::format("  {:<22} p50 {:>10}  p90 {:>10}  p99 {:>10}  max {:>10}\n", name,
                         Dur(s.p50_ns), Dur(s.p90_ns), Dur(s.p99_ns), Dur(s.max_ns));
    };
    line("time to first token", t.time_to_first_token);
    line("inter-token latency", t.inter_token_latency);
    line("time per output token", t.time_per_output_token);
  }
  for (const auto& w : r.warnings) out += fmt::format("warning: {}\n", w);
  return out;
}

int Run(const LoadgenFlags& f) {
  // --- arguments -----------------------------------------------------------------------
  load::TestSettings s;
  s.scenario = load::ParseScenario(f.scenario);
  s.server_target_qps = ParseRateFlag(f.rate, "--rate");
  s.server_target_latency_ns = ParseDuration(f.latency_bound, "--latency-bound").count();
  if (!f.percentile.empty()) {
    const double p = ParsePercent(f.percentile, "--percentile");
    s.server_target_latency_percentile = p;
    s.single_stream_target_latency_percentile = p;
  }
  s.min_duration_ms = Ms(f.duration, "--duration");
  s.min_query_count = static_cast<std::uint64_t>(ParseCount(f.min_queries, "--min-queries"));
  s.window_ms = Ms(f.window, "--window");
  if (s.window_ms < 1)
    throw InputError(fmt::format("--window '{}' must be at least 1ms", f.window));
  s.max_warmup_ms = Ms(f.max_warmup, "--max-warmup");
  s.wait_for_steady_state = !f.no_steady_state;
  if (!f.expected_qps.empty())
    s.offline_expected_qps = ParseRateFlag(f.expected_qps, "--expected-qps");
  if (f.seed_given) {
    s.schedule_seed = f.seed;
    s.sample_index_seed = f.seed ^ 0x5eed;
  }
  const double precision = ParseNumber(f.precision, "--precision");
  if (!(precision > 0 && precision < 100)) {
    throw InputError(
        fmt::format("--precision '{}' must be a percentage between 0 and 100", f.precision));
  }
  std::vector<double> levels;
  if (!f.load_levels.empty()) {
    levels = ParseLevels(f.load_levels);
    if (s.scenario != load::Scenario::kServer) {
      throw InputError(
          "--load-levels needs --scenario server (levels are fractions of a server rate)");
    }
    if (f.no_energy) throw InputError("--load-levels measures power: drop --no-energy");
  }
  const double max_failed_percent = ParseNumber(f.max_failed, "--max-failed");
  if (!(max_failed_percent >= 0 && max_failed_percent < 100)) {
    throw InputError(fmt::format(
        "--max-failed '{}' must be a percentage from 0 to below 100, e.g. 1", f.max_failed));
  }
  s.max_failed_query_fraction = max_failed_percent / 100;
  load::Validate(s);
  LoadgenSut made = MakeLoadgenSut(f.sut);
  std::unique_ptr<load::SystemUnderTest>& sut = made.sut;
  load::QuerySampleLibrary& qsl = *made.qsl;
  std::optional<sampling::CpuShareSampler> server_cpu;
  if (f.server_pid != 0 || !f.server_cgroup.empty()) {
    sampling::CpuShareOptions cpu_options;
    cpu_options.procfs_root = ResolveSourceOptions(f.sources).procfs_root;
    if (f.server_pid != 0) cpu_options.pid = f.server_pid;
    cpu_options.cgroup_path = f.server_cgroup;
    server_cpu.emplace(cpu_options);
    server_cpu->Start();
  }

  // --- the sampler -------------------------------------------------------------------------
  std::optional<sampling::Meter> meter;
  load::PowerSignal power;
  std::vector<std::string> notes;
  if (!f.no_energy) {
    sampling::MeterOptions meter_options;
    meter_options.interval = ParseDuration(f.interval, "--interval");
    auto probes = energy::ProbeAll(ResolveSourceOptions(f.sources));
    meter.emplace(sampling::Meter::FromProbe(std::move(probes), meter_options));
    if (meter->domains().empty()) {
      notes.push_back("no energy source available (see 'joulebench probe'); energy not reported");
      meter.reset();
    } else {
      meter->Start();
      power = load::MeterPowerSignal(*meter);
    }
  }

  // --- the runs ----------------------------------------------------------------------------
  CliRunObservers observers(f.run, /*stop_on_signals=*/true);
  run::RunObserver& observer = *observers.observer();
  load::ObserverHooks hooks(&observer);
  hooks.Connect(s);
  run::RunRecord record;
  record.kind = "loadgen";
  const std::string sut_label = RedactSutSpec(f.sut);  // no credentials in the store
  record.name = f.run.name.empty() ? sut_label : f.run.name;
  record.start_unix_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  record.config = {{"workload", sut_label},
                   {"sut", sut_label},
                   {"scenario", f.scenario},
                   {"rate_per_s", s.server_target_qps},
                   {"latency_bound_s", static_cast<double>(s.server_target_latency_ns) / 1e9},
                   {"percentile", s.server_target_latency_percentile},
                   {"min_duration_s", static_cast<double>(s.min_duration_ms) / 1000},
                   {"min_queries", s.min_query_count},
                   {"window_s", static_cast<double>(s.window_ms) / 1000},
                   {"find_peak", f.find_peak},
                   {"load_levels", levels}};
  // Without an energy source the observers still see the run, with an empty timeline.
  std::optional<sampling::Meter> no_meter;
  if (!meter)
    no_meter.emplace(std::vector<std::unique_ptr<energy::Source>>{}, sampling::MeterOptions{});
  observer.OnBegin(record, meter ? *meter : *no_meter);
  std::string text;
  std::optional<load::ScenarioResult> main_result;
  double peak_qps = s.server_target_qps;

  if (f.find_peak && s.scenario == load::Scenario::kServer) {
    load::PeakSearchSettings search;
    search.start_qps = s.server_target_qps;
    search.precision_relative = precision / 100;
    hooks.Connect(s, &search);
    const load::ServerPeakResult peak = load::FindServerPeak(*sut, qsl, s, search, power);
    text +=
        fmt::format("peak search (server, p{:g} <= {}, precision {:g} %):\n",
                    s.server_target_latency_percentile, Dur(s.server_target_latency_ns), precision);
    text += fmt::format("  {:>12}  {:>12}  {:>12}  verdict\n", "rate /s", "achieved /s",
                        fmt::format("p{:g}", s.server_target_latency_percentile));
    for (const auto& p : peak.probes) {
      text += fmt::format("  {:>12.6g}  {:>12.6g}  {:>12}  {}\n", p.rate_per_s, p.achieved_per_s,
                          Dur(p.latency_percentile_ns), p.valid ? "VALID" : "INVALID");
      record.peak_probes.push_back(run::PeakProbe{
          p.rate_per_s, static_cast<double>(p.latency_percentile_ns) / 1e9, p.valid});
    }
    if (!peak.stopped_because.empty()) {
      text += fmt::format("search stopped: {}\n", peak.stopped_because);
      record.warnings.push_back("peak search stopped: " + peak.stopped_because);
    }
    if (peak.found) {
      text += fmt::format("peak: {:.6g}/s (next probe {:.6g}/s failed; gap {:.1f} %)\n\n",
                          peak.peak_qps, peak.lowest_invalid_qps, peak.precision_relative * 100);
      peak_qps = peak.peak_qps;
      main_result = *peak.peak_run;
    } else {
      text += "peak: none of the probed rates was VALID\n\n";
    }
  } else if (f.find_peak && s.scenario == load::Scenario::kOffline) {
    hooks.Phase("offline sweep");
    const load::OfflinePeakResult peak = load::FindOfflinePeak(*sut, qsl, s, power);
    text += "offline sweep:\n";
    for (const auto& r : peak.runs) {
      std::string knob = "as configured";
      if (r.tuning.concurrency) knob = fmt::format("concurrency {}", *r.tuning.concurrency);
      if (r.tuning.batch_size) knob += fmt::format(", batch {}", *r.tuning.batch_size);
      text += fmt::format("  {:<24} {:>12.6g}/s  {}\n", knob, r.throughput_per_s,
                          r.valid ? "VALID" : "INVALID");
    }
    if (peak.found) {
      main_result = peak.runs[peak.best_run];
      text += fmt::format("best: {:.6g}/s\n\n", peak.best_throughput_per_s);
    } else {
      main_result = peak.runs.back();
      text += "best: none of the runs was VALID\n\n";
    }
  } else if (f.find_peak) {
    throw InputError("--find-peak works with --scenario server or offline");
  } else {
    hooks.Phase(std::string(load::ScenarioName(s.scenario)));
    main_result = load::RunScenario(*sut, qsl, s, power);
  }

  if (main_result) {
    text += FormatResult(*main_result);
    load::FillRunRecord(*main_result, record);
    if (meter && main_result->measured_duration_s > 0) {
      sampling::EnergyReport report = power.energy_report(main_result->measurement_begin_steady_s,
                                                          main_result->measurement_end_steady_s);
      report.name = "measurement";
      const std::uint64_t succeeded =
          main_result->measured_query_count - main_result->failed_query_count;
      if (succeeded > 0) {
        // Per successful query: a failed one did not do the work.
        const double per_query = report.total_joules / static_cast<double>(succeeded);
        text += fmt::format("energy per query: {} ({})\n", FormatJoules(per_query),
                            report::TotalProvenance(report));
        record.metrics.push_back(
            run::Metric{"energy_per_query", per_query, "J", report::TotalProvenance(report)});
      }
      text += report::FormatEnergyReportTable(report);
      if (server_cpu) {
        server_cpu->Stop();
        text += ServerAttribution(*server_cpu, report, main_result->measurement_begin_steady_s,
                                  main_result->measurement_end_steady_s, succeeded, record);
      }
      record.energy.push_back(std::move(report));
    }
    observer.OnPartial(record);
  }

  if (!levels.empty()) {
    load::LoadLevelSettings level_settings;
    level_settings.load_fractions = levels;
    level_settings.idle_duration_ms = s.min_duration_ms;
    std::vector<std::string> invalid;
    if (!power) {
      throw EnvironmentError(
          "--load-levels needs an energy source, and none is available "
          "(see 'joulebench probe')");
    }
    // One level at a time, so that each is announced and stored as soon as it is measured.
    for (double level : levels) {
      if (hooks.StopRequested()) break;
      hooks.Phase(fmt::format("load level {:g} %", level * 100));
      level_settings.load_fractions = {level};
      auto points =
          load::MeasurePowerAtLoadLevels(*sut, qsl, s, peak_qps, level_settings, power, &invalid);
      for (auto& p : points) record.power_curve.push_back(std::move(p));
      observer.OnPartial(record);
    }
    text += fmt::format("\npower at load levels (peak {:.6g}/s):\n", peak_qps);
    text +=
        fmt::format("  {:>6}  {:>12}  {:>12}  {:>10}\n", "load", "rate /s", "achieved /s", "power");
    for (const auto& p : record.power_curve) {
      text += fmt::format("  {:>5.0f}%  {:>12.6g}  {:>12.6g}  {:>10}\n", p.load_fraction * 100,
                          p.rate_per_s, p.achieved_per_s,
                          std::isnan(p.watts_total) ? "n/a" : FormatWatts(p.watts_total));
    }
    for (const auto& i : invalid) {
      text += fmt::format("  note: {}\n", i);
      record.warnings.push_back(i);
    }
  }
  if (meter) meter->Stop();
  if (made.http != nullptr) text += HttpSummary(*made.http, record);
  for (const auto& n : notes) {
    text += fmt::format("note: {}\n", n);
    record.warnings.push_back(n);
  }
  record.end_unix_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const bool stopped = hooks.StopRequested();
  record.status = stopped ? run::RunStatus::kIncomplete : run::RunStatus::kComplete;
  if (stopped)
    record.warnings.push_back("stopped on request (SIGINT/SIGTERM): results are partial");
  observer.OnEnd(record);
  observers.PrintStored();

  std::string out;
  if (f.json) {
    out = run::DumpJson(run::ToJson(record), 2) + "\n";
  } else {
    out = text;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  // Exit 0 for a VALID result, 1 for INVALID: scripts can rely on it.
  return observers.ExitCode(main_result && main_result->valid ? 0 : 1);
}

const CommandRegistration kLoadgen{{
    "loadgen",
    "Drive a system under test (built-in null or sleep, or an HTTP inference server) with a "
    "load scenario; report the verdict, latency, throughput and energy",
    [](CLI::App& app) -> std::function<int()> {
      auto f = std::make_shared<LoadgenFlags>();
      AddSourceFlags(app, f->sources);
      app.add_option("--sut", f->sut,
                     "null | sleep:workers=N,service=DURATION[,dist=fixed|exp][,seed=N] | "
                     "http:url=URL[,protocol=kserve|openai-completions|openai-chat|raw][,...] (see "
                     "docs/http.md; default null)");
      app.add_option("--scenario", f->scenario,
                     "offline | server | single-stream (default server)");
      app.add_option("--rate", f->rate,
                     "Server: offered rate, e.g. 5000 or 1000000/h (default 1000/s); with "
                     "--find-peak the first probe");
      app.add_option("--latency-bound", f->latency_bound,
                     "Server: bound on the latency percentile, with a unit (default 10ms)");
      app.add_option("--percentile", f->percentile,
                     "Latency percentile, in (0, 100) (default 99 server, 90 single-stream)");
      app.add_option("--duration", f->duration, "Minimum measured duration (default 10s)");
      app.add_option("--min-queries", f->min_queries, "Minimum measured queries (default 100)");
      app.add_option("--window", f->window, "Statistics window (default 1s)");
      app.add_flag("--no-steady-state", f->no_steady_state,
                   "Start measuring at once instead of waiting for steady throughput and power");
      app.add_option("--max-warmup", f->max_warmup,
                     "Longest wait for steady state; INVALID past it (default 60s)");
      app.add_option("--expected-qps", f->expected_qps,
                     "Offline: expected rate to size the run (default: measured during warm-up)");
      app.add_option("--seed", f->seed, "Seed of the arrival schedule and sample choice")
          ->each([f](const std::string&) { f->seed_given = true; });
      app.add_flag(
          "--find-peak", f->find_peak,
          "Server: highest rate meeting the latency bound; offline: sweep the SUT's knobs");
      app.add_option("--precision", f->precision, "Peak search precision in percent (default 2)");
      app.add_option("--load-levels", f->load_levels,
                     "Also measure power at these percentages of the peak (or of --rate), e.g. "
                     "0,25,50,75,100");
      app.add_option("--interval", f->interval, "Energy sampling period (default 100ms)");
      app.add_flag("--no-energy", f->no_energy, "Do not start the energy sampler");
      app.add_flag("--json", f->json, "Print the run record as JSON");
      app.add_option("--max-failed", f->max_failed,
                     "Percent of measured queries that may fail before the run is INVALID "
                     "(default 1)");
      app.add_option("--server-pid", f->server_pid,
                     "The server's process on this machine: attribute CPU energy to it by its "
                     "share of CPU time");
      app.add_option("--server-cgroup", f->server_cgroup,
                     "Or the server's cgroup v2 directory (e.g. /sys/fs/cgroup/system.slice/"
                     "x.service), for the same attribution");
      AddRunFlags(app, f->run);
      AddMetricsListenFlag(app, f->run);
      return [f] { return Run(*f); };
    },
    40,
}};

}  // namespace
}  // namespace joulebench::cli
