#include "run/command_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "joulebench/sampling/cpu_share.h"

extern char** environ;

namespace joulebench::run {
namespace {

std::atomic<pid_t> g_child{0};
std::atomic<int> g_interrupt_signal{0};
std::atomic<int> g_pending_forward{0};

constexpr int kSignals[2] = {SIGINT, SIGTERM};
bool g_installed[2] = {false, false};
struct sigaction g_previous[2]{};

// Forwards SIGINT/SIGTERM sent by another process (kill, a job scheduler, mpirun). A
// terminal's Ctrl-C (si_code > 0: sent by the kernel) already reaches the command, which
// shares our process group: forwarding it would deliver it twice.
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

double Seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

void Fill(int status, const rusage& usage, CommandExit& exit) {
  if (WIFEXITED(status)) {
    exit.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit.terminating_signal = WTERMSIG(status);
    exit.exit_code = 128 + WTERMSIG(status);
  }
  exit.cpu_s = Seconds(usage.ru_utime) + Seconds(usage.ru_stime);
}

}  // namespace

CommandProcess::CommandProcess() {
  g_interrupt_signal.store(0);
  g_pending_forward.store(0);
  for (int i = 0; i < 2; ++i) {
    struct sigaction current {};
    sigaction(kSignals[i], nullptr, &current);
    // A signal this process ignores (nohup, background job) stays ignored for the command.
    g_installed[i] = current.sa_handler != SIG_IGN;
    if (!g_installed[i]) continue;
    struct sigaction sa {};
    sa.sa_sigaction = ForwardSignal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(kSignals[i], &sa, &g_previous[i]);
  }
}

CommandProcess::~CommandProcess() {
  for (int i = 0; i < 2; ++i) {
    if (g_installed[i]) sigaction(kSignals[i], &g_previous[i], nullptr);
    g_installed[i] = false;
  }
  g_child.store(0);
}

int CommandProcess::Start(const std::string& program, const std::vector<std::string>& argv) {
  std::vector<std::string> storage = argv;
  std::vector<char*> args;
  for (auto& a : storage) args.push_back(a.data());
  args.push_back(nullptr);
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
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), nullptr, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return rc;
  pid_ = pid;
  g_child.store(pid);
  if (const int pending = g_pending_forward.exchange(0); pending != 0) kill(pid, pending);
  return 0;
}

bool CommandProcess::TryWait(CommandExit& exit) {
  if (pid_ <= 0 || ended_) return ended_;
  int status = 0;
  rusage usage{};
  const pid_t done = wait4(pid_, &status, WNOHANG, &usage);
  if (done != pid_) {
    // ECHILD: someone else reaped it; nothing more to learn.
    if (done < 0 && errno == ECHILD) {
      ended_ = true;
      g_child.store(0);
    }
    return ended_;
  }
  Fill(status, usage, exit);
  ended_ = true;
  g_child.store(0);
  return true;
}

CommandExit CommandProcess::Wait() {
  CommandExit exit;
  if (pid_ <= 0 || ended_) return exit;
  int status = 0;
  rusage usage{};
  while (wait4(pid_, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      ended_ = true;
      g_child.store(0);
      return exit;
    }
  }
  Fill(status, usage, exit);
  ended_ = true;
  g_child.store(0);
  return exit;
}

void CommandProcess::Signal(int sig) const {
  if (pid_ > 0 && !ended_) kill(pid_, sig);
}

std::optional<double> CommandProcess::RunningCpuSeconds() const {
  if (pid_ <= 0 || ended_) return std::nullopt;
  return sampling::ReadProcessCpuSeconds("/proc", pid_);
}

int CommandProcess::interrupted_by() const { return g_interrupt_signal.load(); }

}  // namespace joulebench::run
