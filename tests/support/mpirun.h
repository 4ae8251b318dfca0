// Runs Open MPI's mpirun on this machine for multi-node tests: the options that let it run as
// root, oversubscribed, over shared memory only (the sandbox has loopback only), and a
// watchdog so that a hang fails the test instead of blocking it.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/background_process.h"

namespace joulebench::testing {

// The path of `program` in PATH, or "".
std::string FindInPath(const std::string& program);

// mpirun's own options (before the first app context).
std::vector<std::string> MpirunOptions();
// Environment for mpirun: storing on (ctest sets JOULEBENCH_NO_STORE=1), root allowed.
std::vector<std::string> MpirunEnvironment();

// mpirun in the background; killed with SIGKILL (and `killed` set) if it has not ended after
// `limit`.
class Mpirun {
 public:
  Mpirun(const std::vector<std::string>& args, const std::vector<std::string>& env,
         std::chrono::seconds limit = std::chrono::seconds(180));
  ~Mpirun();
  Mpirun(const Mpirun&) = delete;
  Mpirun& operator=(const Mpirun&) = delete;
  ProcessResult Finish();
  bool killed() const { return killed_; }

 private:
  BackgroundProcess process_;
  std::atomic<bool> done_{false};
  std::atomic<bool> killed_{false};
  std::thread watchdog_;
};

}  // namespace joulebench::testing
