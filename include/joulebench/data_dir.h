// Where joulebench finds its data files (catalogs, coefficients): $JOULEBENCH_DATA_DIR, else
// the installed share/joulebench, else the source tree's data/ (for builds run in place).
#pragma once

#include <filesystem>
#include <string_view>

namespace joulebench {

std::filesystem::path DataDir();
// DataDir() / name; throws EnvironmentError naming the file and JOULEBENCH_DATA_DIR if missing.
std::filesystem::path DataFile(std::string_view name);

}  // namespace joulebench
