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
  if (options.baseline) result.baseline = meter.MeasureBaseline(*options.baseline);

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
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

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
    return result;
  }
  result.started = true;
  g_child.store(pid);
  if (const int pending = g_pending_forward.exchange(0); pending != 0) kill(pid, pending);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
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
  result.timeline = meter.Snapshot();
  result.warnings = meter.TakeWarnings();
  return result;
}

}  // namespace joulebench::run
