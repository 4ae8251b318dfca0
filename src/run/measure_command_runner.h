// `joulebench measure -- CMD ARGS...` as a library function: probes the sources, optionally
// measures the idle baseline, runs the command directly (no shell) while the meter samples,
// forwards SIGINT/SIGTERM sent to this process, and returns what was measured.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"
#include "joulebench/run/run_observer.h"
#include "joulebench/run/run_record.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::run {

struct MeasureCommandOptions {
  std::vector<std::string> command;  // argv; command[0] is looked up in PATH unless it has a '/'
  energy::SourceOptions sources;
  sampling::MeterOptions meter;
  // Idle time measured before the command starts; reports then show attributable energy.
  std::optional<std::chrono::nanoseconds> baseline;
  // Told about the run as it happens (begin, phases, power about once a second, end with
  // the record MeasureRecord makes); nullptr = none. A signal that ends the command makes
  // the run "incomplete".
  RunObserver* observer = nullptr;
  std::string name;                 // the run's label in the store (default: the command line)
  // result.timeline holds every sample (a copy of the meter's). False: only its domains, start
  // time and gaps, so that a long run (a day at 10 ms is 8.64 M samples) is not held twice;
  // a storing observer gets the samples from the meter as they come either way.
  bool keep_timeline = true;
  nlohmann::json fingerprint = nlohmann::json::object();  // machine and build, for the record
};

// What a source probe found, without the source itself (which the meter owns).
struct ProbeSummary {
  std::string source_name;
  energy::ProbeStatus status = energy::ProbeStatus::kAbsent;
  std::string reason;
  std::string fix;
  std::size_t domain_count = 0;
  std::vector<std::string> details;  // extra facts (driver version, GPU names, ...)
};

struct MeasureCommandResult {
  bool started = false;
  std::string start_error;  // when !started: why the command could not be started
  // The command's exit status; 128 + signal number when a signal ended it; 127 when it could
  // not be started.
  int exit_code = 127;
  std::optional<int> terminating_signal;
  // The interrupting signal (SIGINT/SIGTERM) this process received while the command ran.
  std::optional<int> interrupted_by;
  double start_unix_s = 0;
  double end_unix_s = 0;
  std::vector<ProbeSummary> probes;
  std::optional<sampling::EnergyReport> baseline;
  sampling::EnergyReport measurement;  // named "measurement": from start to exit of the command
  sampling::Timeline timeline;
  std::vector<std::string> warnings;  // from sources and the sampler
};

// Throws InputError when options.command is empty. Never throws because the command
// cannot be started: the result says so (started=false, exit_code=127).
MeasureCommandResult MeasureCommand(const MeasureCommandOptions& options);

// What every measure run's record holds, however its work ran (a command, or the caller's own
// code in a MeasureSession).
struct MeasureRunParts {
  std::string name;      // the run's label
  std::string workload;  // what ran, as `runs list` shows it: the command line, "python train.py"
  nlohmann::json config = nlohmann::json::object();  // more configuration (e.g. the command)
  sampling::MeterOptions meter;
  std::optional<std::chrono::nanoseconds> baseline_duration;
  nlohmann::json fingerprint = nlohmann::json::object();
  double start_unix_s = 0;
  double end_unix_s = 0;  // 0 while running
  std::optional<sampling::EnergyReport> baseline;
  std::optional<sampling::EnergyReport> measurement;  // from start to end, once ended
  sampling::Timeline timeline;
  std::vector<std::string> warnings;
};

// Kind "measure"; config: the parts' config with workload, interval_s and baseline_s; energy:
// the baseline and measurement windows; metrics (with a measurement): duration, energy,
// mean_power and attributable_energy (with a baseline), each with its provenance. The status is
// left kRunning for the caller to set.
RunRecord MeasureRunRecord(const MeasureRunParts& parts);

// A measure run's energy metrics from its measurement window: duration, energy, mean_power and
// attributable_energy, with the domains summed (`what`: "" or "sum of 2 node(s)") and, when
// the total leaves a domain out or holds one in part, that said in their provenance.
void AddMeasureEnergyMetrics(RunRecord& r, const sampling::EnergyReport& measurement,
                             const std::string& what, const std::string& duration_provenance,
                             const std::string& baseline_phrase);

// The run record of a measure run: kind "measure", the command and settings as config, the
// baseline and measurement energy windows, the timeline, metrics (duration, energy, mean
// power) and warnings. Status: incomplete when a SIGINT/SIGTERM interrupted the command,
// failed when it could not be started, else complete.
RunRecord MeasureRecord(const MeasureCommandOptions& options, const MeasureCommandResult& result);

// Finds `program` as execvp would: a name with a '/' is taken as is, others are searched in
// $PATH. Returns the empty string and sets `why` when it is not found or not executable.
std::string ResolveProgram(const std::string& program, std::string& why);

}  // namespace joulebench::run
