// joulebench measure [--interval D] [--baseline D] [--json] [--timeline FILE.csv] -- CMD ARGS...
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "cli/command.h"
#include "cli/run_observers.h"
#include "cli/source_flags.h"
#include "joulebench/error.h"
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
};

std::string ProbeLine(const run::ProbeSummary& p) {
  if (p.status == energy::ProbeStatus::kAvailable) {
    return fmt::format("{}: {} domain(s)", p.source_name, p.domain_count);
  }
  return fmt::format("{}: {} ({})", p.source_name, energy::ProbeStatusName(p.status), p.reason);
}

int Run(const MeasureFlags& flags) {
  run::MeasureCommandOptions options;
  options.sources = ResolveSourceOptions(flags.sources);
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
  std::ofstream timeline_out;
  if (!flags.timeline_csv.empty()) {
    timeline_out.open(flags.timeline_csv, std::ios::trunc);
    if (!timeline_out) {
      throw InputError(fmt::format("--timeline '{}' cannot be written: {}", flags.timeline_csv,
                                   std::strerror(errno)));
    }
  }

  // SIGINT/SIGTERM are passed on to the command (not a stop request): its end ends the run.
  CliRunObservers observers(flags.run, /*stop_on_signals=*/false);
  options.observer = observers.observer();
  options.name = flags.run.name;
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
    out = j.dump(2) + "\n";
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
      app.add_option("command", flags->command, "The command and its arguments, after '--'");
      return [flags] { return Run(*flags); };
    },
    20,
}};

}  // namespace
}  // namespace joulebench::cli
