// A child process started in the background, whose output a test can wait for line by line
// (e.g. until the command says it is ready) before sending it a signal.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/run_cli.h"

namespace joulebench::testing {

class BackgroundProcess {
 public:
  BackgroundProcess(const std::string& program, const std::vector<std::string>& args,
                    const std::vector<std::string>& env = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Reads stdout until it contains `text`; false on timeout or end of output.
  bool WaitForOutput(const std::string& text, std::chrono::milliseconds timeout);
  // Standard output read so far.
  const std::string& out() const { return result_.out; }
  void Signal(int sig) const;
  // Reads the rest of the output and waits for the exit.
  ProcessResult Finish();

 private:
  bool ReadSome(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  ProcessResult result_;
  bool finished_ = false;
};

}  // namespace joulebench::testing
