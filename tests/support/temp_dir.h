// A fresh directory under the build tree, removed when the test ends.
#pragma once

#include <filesystem>
#include <string>

namespace joulebench::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes `contents` to path()/relative, creating parent directories.
  std::filesystem::path Write(const std::string& relative, const std::string& contents) const;

 private:
  std::filesystem::path path_;
};

// Reads a whole file (throws when it cannot).
std::string ReadFile(const std::filesystem::path& path);

}  // namespace joulebench::testing
