// Where joulebench finds its data files (catalogs, coefficients): $JOULEBENCH_DATA_DIR, else
// the folder a program embedding the library ships them in (SetDefaultDataDir), else the
// installed share/joulebench, else the source tree's data/ (for builds run in place).
#pragma once

#include <filesystem>
#include <string_view>

namespace joulebench {

std::filesystem::path DataDir();
// The data folder of a program that carries its own copy (the Python package's joulebench/data,
// wherever it was installed); an empty path clears it. $JOULEBENCH_DATA_DIR still wins.
void SetDefaultDataDir(std::filesystem::path dir);
// DataDir() / name; throws EnvironmentError naming the file and JOULEBENCH_DATA_DIR if missing.
std::filesystem::path DataFile(std::string_view name);

}  // namespace joulebench
