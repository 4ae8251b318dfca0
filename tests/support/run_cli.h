// Runs the joulebench binary (or any program) as a child process and captures its output.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace joulebench::testing {

struct ProcessResult {
  int exit_code = -1;    // exit status, or 128 + signal when killed by one
  std::string out;       // stdout
  std::string err;       // stderr
};

// Runs `program` with `args`; `env` entries ("NAME=value") are added to the environment.
ProcessResult RunProcess(const std::string& program, const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {});

// Runs the joulebench binary built with the tests.
ProcessResult RunJoulebench(const std::vector<std::string>& args,
                            const std::vector<std::string>& env = {});

// Path of a fake library built by the tests (tests/fakes/<name>.c -> lib<name>.so).
std::string FakeLibraryPath(const std::string& name);

}  // namespace joulebench::testing
