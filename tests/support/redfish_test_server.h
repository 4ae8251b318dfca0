// A Redfish service on 127.0.0.1 (tests/fakes/redfish_server.py, run by /usr/bin/python3):
// HTTPS on an ephemeral port with a self-signed certificate made once per test program with
// `openssl req`, Basic authentication, keep-alive, and a scripted power profile. Started by the
// constructor (which waits until it listens) and killed by the destructor.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/background_process.h"
#include "support/temp_dir.h"

namespace joulebench::testing {

class RedfishTestServer {
 public:
  struct Options {
    std::string schema = "power";  // power (PowerControl), environment, both, psu
    std::string user = "admin";
    std::string password = "Sw0rdfish-test-only-7261";
    std::string profile = "250:1";  // watts:seconds,... repeated from t0
    double refresh_s = 0;           // the simulated sensor's refresh period (0: every request)
    std::string sensing_interval;   // published on the Sensor, e.g. "PT0.2S"
    std::string stall = "none";     // none, readings, all: requests that hang from the start
    bool null_reading = false;      // the reading is null (host off)
    bool no_sensor = false;         // EnvironmentMetrics without a DataSourceUri
    bool inner_chassis = false;     // a GPU_Board chassis inside chassis 1, listed first
  };

  explicit RedfishTestServer(Options options);
  RedfishTestServer() : RedfishTestServer(Options{}) {}
  ~RedfishTestServer();
  RedfishTestServer(const RedfishTestServer&) = delete;
  RedfishTestServer& operator=(const RedfishTestServer&) = delete;

  std::string url() const;  // https://127.0.0.1:<port>
  int port() const { return port_; }
  double t0_unix_s() const { return t0_unix_s_; }  // origin of the power profile
  const Options& options() const { return options_; }
  // The password in a file (mode 0600), for --bmc-password-file.
  std::string password_file() const { return password_file_.string(); }
  // The server's certificate (PEM), for --bmc-ca-file.
  static std::string CertificateFile();

  // Exact energy of the profile between two Unix times (the server's clock is this machine's).
  double ProfileJoules(double begin_unix_s, double end_unix_s) const;

  // Test hooks: counters, and reading requests that hang until Release().
  nlohmann::json Stats() const;
  void Stall() const;
  void Release() const;

 private:
  nlohmann::json Hook(const std::string& path) const;

  Options options_;
  TempDir dir_;
  std::filesystem::path password_file_;
  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
  double t0_unix_s_ = 0;
};

// Lists "--bmc-url URL --bmc-user USER --bmc-password-file FILE --bmc-ca-file CERT" for a CLI
// command against `server`.
std::vector<std::string> BmcFlags(const RedfishTestServer& server);

}  // namespace joulebench::testing
