#include "support/mpirun.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace joulebench::testing {

std::string FindInPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  const std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', begin), dirs.size());
    const auto candidate = std::filesystem::path(dirs.substr(begin, end - begin)) / program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    begin = end + 1;
  }
  return "";
}

std::vector<std::string> MpirunOptions() {
  return {"--allow-run-as-root",
          "--oversubscribe",
          "--bind-to",
          "none",
          "--mca",
          "btl",
          "self,vader",
          "--mca",
          "btl_vader_single_copy_mechanism",
          "none"};
}

std::vector<std::string> MpirunEnvironment() {
  return {"JOULEBENCH_NO_STORE=0", "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"};
}

Mpirun::Mpirun(const std::vector<std::string>& args, const std::vector<std::string>& env,
               std::chrono::seconds limit)
    : process_(FindInPath("mpirun"), args, env) {
  watchdog_ = std::thread([this, limit] {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!done_) {
      killed_ = true;
      process_.Signal(SIGKILL);
    }
  });
}

Mpirun::~Mpirun() {
  done_ = true;
  if (watchdog_.joinable()) watchdog_.join();
}

ProcessResult Mpirun::Finish() {
  ProcessResult r = process_.Finish();
  done_ = true;
  if (watchdog_.joinable()) watchdog_.join();
  return r;
}

}  // namespace joulebench::testing
