// A fake machine for end-to-end runs of the joulebench binary: a powercap tree whose package
// draws about 20 W while it exists (a thread adds energy to its counter), an empty procfs, and
// the flags that make a command read only that package; and a database path next to them.
#pragma once

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_powercap.h"
#include "support/temp_dir.h"

namespace joulebench::testing {

class FakeMachine {
 public:
  FakeMachine();
  ~FakeMachine();
  FakeMachine(const FakeMachine&) = delete;
  FakeMachine& operator=(const FakeMachine&) = delete;

  // --sysfs-root, --procfs-root and --disable for every other source.
  std::vector<std::string> SourceFlags() const;
  std::string db() const { return (dir.path() / "runs.db").string(); }

  TempDir dir;
  FakePowercap powercap;

 private:
  std::atomic<bool> stop_{false};
  std::thread heater_;
};

// Storing is on for runs started while this lives (the test environment switches it off with
// JOULEBENCH_NO_STORE=1); set in this process so that children inherit it.
class StoringOn {
 public:
  StoringOn();
  ~StoringOn();
  StoringOn(const StoringOn&) = delete;
  StoringOn& operator=(const StoringOn&) = delete;

 private:
  std::optional<std::string> saved_;
};

// "stored as run 12 in ..." -> "12"; "" when the text has no such line.
std::string StoredRunId(const std::string& err);

}  // namespace joulebench::testing
