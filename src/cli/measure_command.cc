// joulebench measure [--interval D] [--baseline D] [--json] [--timeline FILE.csv] [--mpi] -- CMD
// ARGS...
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "cli/command.h"
#include "cli/mpi_flags.h"
#include "cli/run_observers.h"
#include "cli/source_flags.h"
#include "cluster/job/cluster_measure.h"
#include "joulebench/cluster/slurm_job.h"
#include "joulebench/error.h"
#include "joulebench/report/node_table.h"
#include "joulebench/run/run_record.h"
#include "joulebench/units.h"
#include "report/energy_report_format.h"
#include "run/measure_command_runner.h"

namespace joulebench::cli {
namespace {

struct MeasureFlags {
  SourceFlags sources;
  std::string interval = "100ms";
  std::string baseline;
  bool json = false;
  std::string timeline_csv;
  std::vector<std::string> command;
  RunFlags run;
  MpiFlags mpi;
};

std::string ProbeLine(const run::ProbeSummary& p) {
  if (p.status == energy::ProbeStatus::kAvailable) {
    return fmt::format("{}: {} domain(s)", p.source_name, p.domain_count);
  }
  return fmt::format("{}: {} ({})", p.source_name, energy::ProbeStatusName(p.status), p.reason);
}

// The options of a measure run; with a node id (--mpi), "%n" in the roots becomes it.
run::MeasureCommandOptions BuildOptions(const MeasureFlags& flags, std::string_view node_id = {}) {
  run::MeasureCommandOptions options;
  options.sources = ResolveSourceOptions(flags.sources, node_id);
  // "0", "0ms", "0.0s": a zero period, which ParseDuration would only ask a unit for.
  const auto nonzero = flags.interval.find_first_not_of("0.");
  if (nonzero != 0 && (nonzero == std::string::npos ||
                       !std::isdigit(static_cast<unsigned char>(flags.interval[nonzero])))) {
    throw InputError(
        fmt::format("--interval '{}' must be at least 1ms, e.g. 100ms", flags.interval));
  }
  options.meter.interval = ParseDuration(flags.interval, "--interval");
  if (options.meter.interval < std::chrono::milliseconds(1) ||
      options.meter.interval > std::chrono::hours(1)) {
    throw InputError(fmt::format("--interval '{}' is out of range; use 1ms to 1h", flags.interval));
  }
  if (!flags.baseline.empty()) options.baseline = ParseDuration(flags.baseline, "--baseline");
  if (flags.command.empty()) {
    throw InputError("measure: no command given after '--'; e.g. joulebench measure -- sleep 5");
  }
  options.command = flags.command;
  options.name = flags.run.name;
  return options;
}

std::ofstream OpenTimelineCsv(const MeasureFlags& flags) {
  std::ofstream timeline_out;
  if (!flags.timeline_csv.empty()) {
    timeline_out.open(flags.timeline_csv, std::ios::trunc);
    if (!timeline_out) {
      throw InputError(fmt::format("--timeline '{}' cannot be written: {}", flags.timeline_csv,
                                   std::strerror(errno)));
    }
  }
  return timeline_out;
}

// `measure --mpi`: every rank runs the command; rank 0 prints and stores the job.
int RunOnCluster(const MeasureFlags& flags) {
  const MpiSetup mpi = ResolveMpiFlags(flags.mpi, flags.run.metrics_listen);
  cluster::ClusterMeasureOptions options;
  options.measure = BuildOptions(flags, mpi.node.id);
  options.slurm = cluster::SlurmJobFromEnvironment();
  cluster::MpiJob job(mpi.node, mpi.timeout);
  return RunOnMpiJob(job, [&] {
    RunFlags run = flags.run;
    if (job.rank() != 0) {  // rank 0 alone stores and shows progress
      run.no_store = true;
      run.quiet = true;
    }
    std::ofstream timeline_out;
    if (job.rank() == 0) timeline_out = OpenTimelineCsv(flags);
    CliRunObservers observers(run, /*stop_on_signals=*/false);
    options.measure.observer = observers.observer();
    const cluster::ClusterMeasureResult result = cluster::MeasureCommandOnCluster(job, options);
    if (!result.start_error.empty()) {
      std::fprintf(stderr, "joulebench: error: rank %d: %s\n", job.rank(),
                   result.start_error.c_str());
    }
    if (!result.root) {
      if (result.ranks_lost) job.AbandonAfterRoot(result.exit_code == 0 ? 1 : result.exit_code);
      return result.exit_code;
    }
    const run::RunRecord& r = result.record;
    if (timeline_out.is_open()) report::WriteTimelineCsv(r.timeline, timeline_out);
    std::string out;
    if (flags.json) {
      out = run::DumpJson(run::ToJson(r), 2) + "\n";
    } else {
      out += fmt::format("{} rank(s) on {} node(s); exit codes:", job.size(), r.nodes.size());
      for (const auto& n : r.nodes) {
        for (const auto& rank : n.ranks) {
          out += rank.exit_code ? fmt::format(" {}", *rank.exit_code) : std::string(" -");
        }
      }
      out += fmt::format(" (rank order); run {}\n", run::RunStatusName(r.status));
      for (const auto& e : r.energy) out += report::FormatEnergyReportTable(e);
      out += report::FormatNodeTable(r);
      for (const auto& w : r.warnings) out += "warning: " + w + "\n";
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    observers.PrintStored();
    // The command's own status, unless it succeeded and storing failed (then 3).
    const int code = observers.ExitCode(result.exit_code);
    if (result.ranks_lost) job.Abandon(code == 0 ? 1 : code);
    return code;
  });
}

int Run(const MeasureFlags& flags) {
  if (flags.mpi.mpi) return RunOnCluster(flags);
  if (!flags.mpi.node_id.empty()) {
    throw InputError("--node-id applies to multi-node runs only; add --mpi");
  }
  run::MeasureCommandOptions options = BuildOptions(flags);
  std::ofstream timeline_out = OpenTimelineCsv(flags);

  // SIGINT/SIGTERM are passed on to the command (not a stop request): its end ends the run.
  CliRunObservers observers(flags.run, /*stop_on_signals=*/false);
  options.observer = observers.observer();
  // The samples are needed here only for --timeline (the store gets them from the meter).
  options.keep_timeline = !flags.timeline_csv.empty();
  const run::MeasureCommandResult result = run::MeasureCommand(options);
  if (!result.started) {
    observers.PrintStored();
    std::fprintf(stderr, "joulebench: error: %s\n", result.start_error.c_str());
    return 127;
  }
  if (timeline_out.is_open()) report::WriteTimelineCsv(result.timeline, timeline_out);

  std::string out;
  if (flags.json) {
    nlohmann::json j = {
        {"command", options.command},
        {"exit_code", result.exit_code},
        {"start_time", FormatIsoTime(result.start_unix_s)},
        {"duration_s", result.measurement.duration_s},
        {"interval_s", std::chrono::duration<double>(options.meter.interval).count()},
        {"measurement", report::EnergyReportToJson(result.measurement)},
        {"warnings", result.warnings},
    };
    if (result.terminating_signal) j["terminating_signal"] = *result.terminating_signal;
    if (result.interrupted_by) j["interrupted_by"] = strsignal(*result.interrupted_by);
    if (result.baseline) j["baseline"] = report::EnergyReportToJson(*result.baseline);
    nlohmann::json probes = nlohmann::json::array();
    for (const auto& p : result.probes) {
      probes.push_back({{"name", p.source_name},
                        {"status", std::string(energy::ProbeStatusName(p.status))},
                        {"reason", p.reason},
                        {"domains", p.domain_count}});
    }
    j["sources"] = std::move(probes);
    out = run::DumpJson(j, 2) + "\n";
  } else {
    out += fmt::format("command exited with code {}", result.exit_code);
    if (result.terminating_signal) {
      out += fmt::format(" (killed by {})", strsignal(*result.terminating_signal));
    }
    if (result.interrupted_by) {
      out += fmt::format("; joulebench received {} and passed it on",
                         strsignal(*result.interrupted_by));
    }
    out += "\n";
    std::string sources;
    for (const auto& p : result.probes) sources += "  " + ProbeLine(p) + "\n";
    out += "sources:\n" + sources;
    if (result.baseline) out += report::FormatEnergyReportTable(*result.baseline);
    out += report::FormatEnergyReportTable(result.measurement);
    for (const auto& w : result.warnings) {
      const auto& shown = result.measurement.warnings;
      if (std::find(shown.begin(), shown.end(), w) == shown.end()) out += "warning: " + w + "\n";
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  observers.PrintStored();
  // The command's own status, unless it succeeded and storing failed (then 3).
  return observers.ExitCode(result.exit_code);
}

const CommandRegistration kMeasure{{
    "measure",
    "Run a command and report the energy the machine used meanwhile, per domain",
    [](CLI::App& app) -> std::function<int()> {
      auto flags = std::make_shared<MeasureFlags>();
      AddSourceFlags(app, flags->sources);
      app.add_option("--interval", flags->interval, "Sampling period, 1ms to 1h (default 100ms)");
      app.add_option("--baseline", flags->baseline,
                     "Measure idle power this long first (e.g. 10s); reports then show the "
                     "energy attributable to the command");
      app.add_flag("--json", flags->json, "Print JSON instead of a table");
      app.add_option("--timeline", flags->timeline_csv,
                     "Write every sample (cumulative joules and power per domain) to this CSV");
      AddRunFlags(app, flags->run);
      AddMetricsListenFlag(app, flags->run);
      AddMpiFlags(app, flags->mpi);
      app.add_option("command", flags->command, "The command and its arguments, after '--'");
      return [flags] { return Run(*flags); };
    },
    20,
}};

}  // namespace
}  // namespace joulebench::cli
