// Finds a program in $PATH, for tests that start real servers (prometheus, promtool).
#pragma once

#include <string>

namespace joulebench::testing {

// The full path of `name` in $PATH, or "" when it is not installed.
std::string ProgramPath(const std::string& name);

}  // namespace joulebench::testing
