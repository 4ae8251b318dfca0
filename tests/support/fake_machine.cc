#include "support/fake_machine.h"

#include <chrono>
#include <cstdlib>
#include <regex>

namespace joulebench::testing {

namespace {
constexpr std::uint64_t kRange = 262143328850;
}  // namespace

FakeMachine::FakeMachine() : powercap(dir.path() / "sys") {
  std::filesystem::create_directories(dir.path() / "proc");
  powercap.AddZone("intel-rapl:0", "package-0", kRange);
  heater_ = std::thread([this] {
    while (!stop_) {
      powercap.AddEnergy("intel-rapl:0", 0.1);  // 0.1 J every 5 ms: 20 W
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
}

FakeMachine::~FakeMachine() {
  stop_ = true;
  heater_.join();
}

std::vector<std::string> FakeMachine::SourceFlags() const {
  return {"--sysfs-root",  (dir.path() / "sys").string(),
          "--procfs-root", (dir.path() / "proc").string(),
          "--disable",     "nvml",
          "--disable",     "neuron",
          "--disable",     "model"};
}

StoringOn::StoringOn() {
  if (const char* v = std::getenv("JOULEBENCH_NO_STORE")) saved_ = v;
  setenv("JOULEBENCH_NO_STORE", "0", 1);
}

StoringOn::~StoringOn() {
  if (saved_) {
    setenv("JOULEBENCH_NO_STORE", saved_->c_str(), 1);
  } else {
    unsetenv("JOULEBENCH_NO_STORE");
  }
}

std::string StoredRunId(const std::string& err) {
  std::smatch m;
  if (!std::regex_search(err, m, std::regex("(stored as run|run) ([0-9]+) (in |is stored)"))) {
    return "";
  }
  return m[2];
}

}  // namespace joulebench::testing
