// A command started directly (posix_spawn, no shell) with SIGINT/SIGTERM sent to this
// process passed on to it while it runs: what `measure` runs, on one machine or on every
// rank of a multi-node job.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace joulebench::run {

struct CommandExit {
  // The exit status; 128 + signal number when a signal ended it.
  int exit_code = 0;
  std::optional<int> terminating_signal;
  // User + system CPU time of the command and its waited-for children (wait4's rusage).
  double cpu_s = 0;
};

class CommandProcess {
 public:
  // Installs the forwarding of SIGINT/SIGTERM (signals this process ignores stay ignored);
  // the destructor restores the previous handlers. One at a time per process.
  CommandProcess();
  ~CommandProcess();
  CommandProcess(const CommandProcess&) = delete;
  CommandProcess& operator=(const CommandProcess&) = delete;

  // Starts `program` (a resolved path) with `argv` and this process's environment. Returns 0,
  // or the errno of posix_spawn. A signal received before the start is passed on right after.
  int Start(const std::string& program, const std::vector<std::string>& argv);
  pid_t pid() const { return pid_; }
  // True once the command has ended (then `exit` is filled); never blocks.
  bool TryWait(CommandExit& exit);
  // Blocks until the command ends.
  CommandExit Wait();
  // Sends `sig` to the command while it runs.
  void Signal(int sig) const;
  // CPU seconds the running command has used so far (/proc/PID/stat utime + stime of the
  // command itself, without its children); nullopt once it has ended or when unreadable.
  std::optional<double> RunningCpuSeconds() const;
  // The interrupting signal (SIGINT/SIGTERM) this process received since Start, or 0.
  int interrupted_by() const;

 private:
  pid_t pid_ = 0;
  bool ended_ = false;
};

}  // namespace joulebench::run
