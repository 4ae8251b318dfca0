#include "run/measure_command_runner.h"

#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "joulebench/error.h"

extern char** environ;

namespace joulebench::run {
namespace {

std::atomic<pid_t> g_child{0};
std::atomic<int> g_interrupt_signal{0};
std::atomic<int> g_pending_forward{0};

// Forwards SIGINT/SIGTERM sent by another process (kill, a job scheduler). A terminal's
// Ctrl-C (si_code > 0: sent by the kernel) already reaches the command, which shares our
// process group: forwarding it would deliver it twice.
void ForwardSignal(int sig, siginfo_t* info, void*) {
  g_interrupt_signal.store(sig);
  const bool from_process = info == nullptr || info->si_code <= 0;
  if (!from_process) return;
  const pid_t child = g_child.load();
  if (child > 0) {
    kill(child, sig);
  } else {
    g_pending_forward.store(sig);
  }
}

class SignalForwarding {
 public:
  SignalForwarding() {
    for (int i = 0; i < 2; ++i) {
      struct sigaction current {};
      sigaction(kSignals[i], nullptr, &current);
      // A signal this process ignores (nohup, background job) stays ignored for the command.
      installed_[i] = current.sa_handler != SIG_IGN;
      if (!installed_[i]) continue;
      struct sigaction sa {};
      sa.sa_sigaction = ForwardSignal;
      sa.sa_flags = SA_SIGINFO | SA_RESTART;
      sigemptyset(&sa.sa_mask);
      sigaction(kSignals[i], &sa, &previous_[i]);
    }
  }
  ~SignalForwarding() {
    for (int i = 0; i < 2; ++i) {
      if (installed_[i]) sigaction(kSignals[i], &previous_[i], nullptr);
    }
    g_child.store(0);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  static constexpr int kSignals[2] = {SIGINT, SIGTERM};
  bool installed_[2] = {false, false};
  struct sigaction previous_[2]{};
};

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
    result.probes.push_back(
        {p.source_name, p.status, p.reason, p.fix, p.source ? p.source->domains().size() : 0});
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

  std::vector<std::string> argv_storage = options.command;
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  g_interrupt_signal.store(0);
  g_pending_forward.store(0);
  SignalForwarding forwarding;
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  posix_spawnattr_setsigmask(&attr, &empty_mask);
  // joulebench ignores SIGXFSZ (a full file is an error it reports); the command gets the
  // default back.
  sigset_t default_signals;
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGXFSZ);
  posix_spawnattr_setsigdefault(&attr, &default_signals);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  result.start_unix_s = UnixNow();
  const sampling::WindowId window = meter.BeginWindow("measurement");
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    meter.EndWindow(window);
    meter.Stop();
    result.start_error =
        fmt::format("cannot start the command '{}': {}", options.command[0], std::strerror(rc));
    observer.OnEnd(MeasureRecord(options, result));
    return result;
  }
  result.started = true;
  g_child.store(pid);
  if (const int pending = g_pending_forward.exchange(0); pending != 0) kill(pid, pending);
  observer.OnPhase("measuring", std::nullopt);

  int status = 0;
  if (options.observer == nullptr) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  } else {
    // Polled so that power can be shown about once a second while the command runs.
    auto next_progress = std::chrono::steady_clock::now();
    while (true) {
      const pid_t done = waitpid(pid, &status, WNOHANG);
      if (done == pid || (done < 0 && errno != EINTR)) break;
      if (std::chrono::steady_clock::now() >= next_progress) {
        observer.OnProgress(0, meter.RecentTotalWatts(std::chrono::seconds(1)));
        next_progress += std::chrono::seconds(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  g_child.store(0);
  result.measurement = meter.EndWindow(window);
  result.end_unix_s = UnixNow();
  meter.Stop();

  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.terminating_signal = WTERMSIG(status);
    result.exit_code = 128 + WTERMSIG(status);
  }
  if (const int sig = g_interrupt_signal.load(); sig != 0) result.interrupted_by = sig;
  result.timeline =
      options.keep_timeline ? meter.Snapshot() : meter.SnapshotFrom(meter.sample_count());
  result.warnings = meter.TakeWarnings();
  if (options.observer != nullptr) observer.OnEnd(MeasureRecord(options, result));
  return result;
}

RunRecord MeasureRecord(const MeasureCommandOptions& options, const MeasureCommandResult& result) {
  RunRecord r;
  r.kind = "measure";
  std::string command_line;
  for (const auto& a : options.command) command_line += (command_line.empty() ? "" : " ") + a;
  r.name = options.name.empty() ? command_line : options.name;
  r.start_unix_s = result.start_unix_s;
  r.end_unix_s = result.end_unix_s;
  r.config = {
      {"command", options.command},
      {"workload", command_line},
      {"interval_s", std::chrono::duration<double>(options.meter.interval).count()},
  };
  if (options.baseline) {
    r.config["baseline_s"] = std::chrono::duration<double>(*options.baseline).count();
  }
  r.fingerprint = options.fingerprint;
  r.timeline = result.timeline;
  if (result.baseline) r.energy.push_back(*result.baseline);
  r.warnings = result.warnings;
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
  if (result.end_unix_s > 0) {
    r.energy.push_back(result.measurement);
    r.config["exit_code"] = result.exit_code;
    std::string domains;
    for (const auto& d : result.measurement.total_domains) domains += (domains.empty() ? "" : ", ") + d;
    const std::string provenance =
        fmt::format("{}: {}", result.measurement.any_modelled ? "modelled in part" : "measured",
                    domains.empty() ? "no energy domain" : domains);
    r.metrics.push_back({"duration", result.measurement.duration_s, "s", "measured: wall clock"});
    r.metrics.push_back({"energy", result.measurement.total_joules, "J", provenance});
    r.metrics.push_back({"mean_power", result.measurement.mean_watts, "W", provenance});
    if (result.measurement.total_attributable_joules) {
      r.metrics.push_back({"attributable_energy", *result.measurement.total_attributable_joules,
                           "J", provenance + " minus the idle baseline"});
    }
  }
  return r;
}

}  // namespace joulebench::run
