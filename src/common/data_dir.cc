#include "joulebench/data_dir.h"

#include <fmt/format.h>

#include <cstdlib>
#include <mutex>

#include "joulebench/error.h"

namespace joulebench {
namespace {

std::mutex g_default_mutex;
std::filesystem::path g_default_dir;

}  // namespace

void SetDefaultDataDir(std::filesystem::path dir) {
  std::lock_guard lock(g_default_mutex);
  g_default_dir = std::move(dir);
}

std::filesystem::path DataDir() {
  if (const char* v = std::getenv("JOULEBENCH_DATA_DIR"); v && *v) return v;
  {
    std::lock_guard lock(g_default_mutex);
    if (!g_default_dir.empty()) return g_default_dir;
  }
  const std::filesystem::path installed = JOULEBENCH_INSTALLED_DATA_DIR;
  std::error_code ec;
  if (std::filesystem::is_directory(installed, ec)) return installed;
  return JOULEBENCH_DATA_DIR;
}

std::filesystem::path DataFile(std::string_view name) {
  auto path = DataDir() / name;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw EnvironmentError(fmt::format(
        "data file {} not found; set JOULEBENCH_DATA_DIR to the folder holding joulebench's data/",
        path.string()));
  }
  return path;
}

}  // namespace joulebench
