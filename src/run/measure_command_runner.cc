#include "run/measure_command_runner.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "joulebench/error.h"
#include "report/energy_report_format.h"
#include "run/command_process.h"

namespace joulebench::run {
namespace {

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string ResolveProgram(const std::string& program, std::string& why) {
  if (program.find('/') != std::string::npos) {
    if (IsExecutableFile(program)) return program;
    struct stat st {};
    if (stat(program.c_str(), &st) != 0) {
      why = fmt::format("'{}' does not exist", program);
    } else if (S_ISDIR(st.st_mode)) {
      why = fmt::format("'{}' is a directory", program);
    } else {
      why = fmt::format("'{}' is not executable", program);
    }
    return "";
  }
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= path.size()) {
    const std::size_t end = std::min(path.find(':', begin), path.size());
    const std::string dir = end > begin ? path.substr(begin, end - begin) : ".";
    const std::string candidate = dir + "/" + program;
    if (IsExecutableFile(candidate)) return candidate;
    begin = end + 1;
  }
  why = fmt::format("'{}' was not found in PATH", program);
  return "";
}

MeasureCommandResult MeasureCommand(const MeasureCommandOptions& options) {
  if (options.command.empty()) {
    throw InputError("measure: no command given after '--'; e.g. joulebench measure -- sleep 5");
  }
  MeasureCommandResult result;
  std::string why;
  const std::string program = ResolveProgram(options.command[0], why);
  if (program.empty()) {
    result.start_error = fmt::format("cannot start the command: {}", why);
    return result;
  }

  auto probes = energy::ProbeAll(options.sources);
  for (const auto& p : probes) {
    result.probes.push_back({p.source_name, p.status, p.reason, p.fix,
                             p.source ? p.source->domains().size() : 0, p.details});
  }
  sampling::Meter meter = sampling::Meter::FromProbe(std::move(probes), options.meter);
  meter.Start();
  RunObserver none;
  RunObserver& observer = options.observer != nullptr ? *options.observer : none;
  {
    MeasureCommandResult header;
    header.started = true;
    header.start_unix_s = UnixNow();
    RunRecord begin = MeasureRecord(options, header);
    begin.status = RunStatus::kRunning;
    begin.end_unix_s = 0;
    begin.energy.clear();
    begin.metrics.clear();
    observer.OnBegin(begin, meter);
  }
  if (options.baseline) {
    observer.OnPhase("baseline", std::chrono::duration<double>(*options.baseline).count());
    result.baseline = meter.MeasureBaseline(*options.baseline);
  }

  CommandProcess command;
  result.start_unix_s = UnixNow();
  const sampling::WindowId window = meter.BeginWindow("measurement");
  const int rc = command.Start(program, options.command);
  if (rc != 0) {
    meter.EndWindow(window);
    meter.Stop();
    result.start_error =
        fmt::format("cannot start the command '{}': {}", options.command[0], std::strerror(rc));
    observer.OnEnd(MeasureRecord(options, result));
    return result;
  }
  result.started = true;
  observer.OnPhase("measuring", std::nullopt);

  CommandExit exit;
  if (options.observer == nullptr) {
    exit = command.Wait();
  } else {
    // Polled so that power can be shown about once a second while the command runs.
    auto next_progress = std::chrono::steady_clock::now();
    while (!command.TryWait(exit)) {
      if (std::chrono::steady_clock::now() >= next_progress) {
        observer.OnProgress(0, meter.RecentTotalWatts(std::chrono::seconds(1)));
        next_progress += std::chrono::seconds(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  result.measurement = meter.EndWindow(window);
  result.end_unix_s = UnixNow();
  meter.Stop();

  result.exit_code = exit.exit_code;
  result.terminating_signal = exit.terminating_signal;
  if (const int sig = command.interrupted_by(); sig != 0) result.interrupted_by = sig;
  result.timeline =
      options.keep_timeline ? meter.Snapshot() : meter.SnapshotFrom(meter.sample_count());
  result.warnings = meter.TakeWarnings();
  if (options.observer != nullptr) observer.OnEnd(MeasureRecord(options, result));
  return result;
}

void AddMeasureEnergyMetrics(RunRecord& r, const sampling::EnergyReport& measurement,
                             const std::string& what, const std::string& duration_provenance,
                             const std::string& baseline_phrase) {
  std::string domains;
  for (const auto& d : measurement.total_domains) domains += (domains.empty() ? "" : ", ") + d;
  std::string provenance =
      fmt::format("{}: {}{}", measurement.any_modelled ? "modelled in part" : "measured",
                  what.empty() ? "" : what + ": ", domains.empty() ? "no energy domain" : domains);
  if (!measurement.total_complete) {
    provenance += " " + report::TotalCompleteness(measurement);
  }
  r.metrics.push_back({"duration", measurement.duration_s, "s", duration_provenance});
  r.metrics.push_back({"energy", measurement.total_joules, "J", provenance});
  r.metrics.push_back({"mean_power", measurement.mean_watts, "W", provenance});
  if (measurement.total_attributable_joules) {
    r.metrics.push_back({"attributable_energy", *measurement.total_attributable_joules, "J",
                         provenance + " minus " + baseline_phrase});
  }
}

RunRecord MeasureRunRecord(const MeasureRunParts& parts) {
  RunRecord r;
  r.kind = "measure";
  r.name = parts.name;
  r.start_unix_s = parts.start_unix_s;
  r.end_unix_s = parts.end_unix_s;
  r.config = parts.config.is_object() ? parts.config : nlohmann::json::object();
  r.config["workload"] = parts.workload;
  r.config["interval_s"] = std::chrono::duration<double>(parts.meter.interval).count();
  if (parts.baseline_duration) {
    r.config["baseline_s"] = std::chrono::duration<double>(*parts.baseline_duration).count();
  }
  r.fingerprint = parts.fingerprint;
  r.timeline = parts.timeline;
  if (parts.baseline) r.energy.push_back(*parts.baseline);
  r.warnings = parts.warnings;
  if (!parts.measurement) return r;
  const sampling::EnergyReport& measurement = *parts.measurement;
  r.energy.push_back(measurement);
  AddMeasureEnergyMetrics(r, measurement, "", "measured: wall clock", "the idle baseline");
  return r;
}

RunRecord MeasureRecord(const MeasureCommandOptions& options, const MeasureCommandResult& result) {
  std::string command_line;
  for (const auto& a : options.command) command_line += (command_line.empty() ? "" : " ") + a;
  MeasureRunParts parts;
  parts.name = options.name.empty() ? command_line : options.name;
  parts.workload = command_line;
  parts.config = {{"command", options.command}};
  parts.meter = options.meter;
  parts.baseline_duration = options.baseline;
  parts.fingerprint = options.fingerprint;
  parts.start_unix_s = result.start_unix_s;
  parts.end_unix_s = result.end_unix_s;
  parts.baseline = result.baseline;
  if (result.started && result.end_unix_s > 0) parts.measurement = result.measurement;
  parts.timeline = result.timeline;
  parts.warnings = result.warnings;
  RunRecord r = MeasureRunRecord(parts);
  if (!result.started) {
    r.status = RunStatus::kFailed;
    r.warnings.push_back(result.start_error);
    return r;
  }
  r.status = result.interrupted_by ? RunStatus::kIncomplete : RunStatus::kComplete;
  if (result.interrupted_by) {
    r.warnings.push_back(fmt::format("interrupted by {}: the command did not run to its end",
                                     strsignal(*result.interrupted_by)));
  }
  if (result.end_unix_s > 0) r.config["exit_code"] = result.exit_code;
  return r;
}

}  // namespace joulebench::run
