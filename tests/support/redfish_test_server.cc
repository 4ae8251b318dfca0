#include "support/redfish_test_server.h"

#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <regex>
#include <stdexcept>

#include "energy/bmc_http_client.h"
#include "support/run_cli.h"

namespace joulebench::testing {
namespace {

struct Certificate {
  TempDir dir;
  std::string cert;
  std::string key;
  Certificate() {
    cert = (dir.path() / "bmc-cert.pem").string();
    key = (dir.path() / "bmc-key.pem").string();
    // A self-signed certificate for 127.0.0.1 (the name curl verifies), valid for two days.
    const ProcessResult r =
        RunProcess("/usr/bin/openssl",
                   {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"});
    if (r.exit_code != 0) throw std::runtime_error("openssl req failed: " + r.err);
  }
};

const Certificate& SharedCertificate() {
  static const Certificate certificate;
  return certificate;
}

std::vector<std::pair<double, double>> ParseProfile(const std::string& text) {
  std::vector<std::pair<double, double>> steps;  // (watts, seconds)
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    const std::size_t colon = item.find(':');
    steps.emplace_back(std::stod(item.substr(0, colon)), std::stod(item.substr(colon + 1)));
    at = comma + 1;
  }
  return steps;
}

}  // namespace

std::string RedfishTestServer::CertificateFile() { return SharedCertificate().cert; }

RedfishTestServer::RedfishTestServer(Options options) : options_(std::move(options)) {
  const Certificate& certificate = SharedCertificate();
  password_file_ = dir_.Write("bmc-password", options_.password + "\n");
  ::chmod(password_file_.c_str(), 0600);
  std::vector<std::string> args = {
      std::string(JOULEBENCH_SOURCE_DIR) + "/tests/fakes/redfish_server.py",
      "--cert",
      certificate.cert,
      "--key",
      certificate.key,
      "--schema",
      options_.schema,
      "--profile",
      options_.profile,
      "--refresh",
      std::to_string(options_.refresh_s),
      "--stall",
      options_.stall};
  if (!options_.user.empty()) {
    args.insert(args.end(), {"--user", options_.user, "--password-file", password_file_.string()});
  }
  if (!options_.sensing_interval.empty()) {
    args.insert(args.end(), {"--sensing-interval", options_.sensing_interval});
  }
  if (options_.null_reading) args.push_back("--null-reading");
  if (options_.no_sensor) args.push_back("--no-sensor");
  if (options_.inner_chassis) args.push_back("--inner-chassis");
  process_ = std::make_unique<BackgroundProcess>("/usr/bin/python3", args);
  if (!process_->WaitForOutput("\n", std::chrono::seconds(30))) {
    throw std::runtime_error("the Redfish test server did not start: " + process_->Finish().err);
  }
  std::smatch m;
  const std::string out = process_->out();
  if (!std::regex_search(out, m, std::regex("READY port=([0-9]+) t0=([0-9.]+)"))) {
    throw std::runtime_error("the Redfish test server said: " + out);
  }
  port_ = std::stoi(m[1]);
  t0_unix_s_ = std::stod(m[2]);
}

RedfishTestServer::~RedfishTestServer() = default;

std::string RedfishTestServer::url() const { return "https://127.0.0.1:" + std::to_string(port_); }

double RedfishTestServer::ProfileJoules(double begin_unix_s, double end_unix_s) const {
  const auto steps = ParseProfile(options_.profile);
  double cycle_s = 0;
  double cycle_j = 0;
  for (const auto& [w, s] : steps) {
    cycle_s += s;
    cycle_j += w * s;
  }
  // Energy from t0 to t0 + t.
  auto cumulative = [&](double t) {
    const double cycles = std::floor(t / cycle_s);
    double j = cycles * cycle_j;
    double rest = t - cycles * cycle_s;
    for (const auto& [w, s] : steps) {
      const double part = std::min(rest, s);
      j += w * part;
      rest -= part;
      if (rest <= 0) break;
    }
    return j;
  };
  return cumulative(end_unix_s - t0_unix_s_) - cumulative(begin_unix_s - t0_unix_s_);
}

nlohmann::json RedfishTestServer::Hook(const std::string& path) const {
  energy::BmcHttpSettings settings;
  settings.base_url = url();
  settings.ca_file = CertificateFile();
  settings.timeout = std::chrono::seconds(10);
  energy::BmcHttpClient client(settings);
  const energy::HttpResponse& r = client.Get(path);
  if (r.failure != energy::HttpFailure::kNone || r.status != 200) {
    throw std::runtime_error("test hook " + path + " failed: " + r.error);
  }
  return nlohmann::json::parse(r.body);
}

nlohmann::json RedfishTestServer::Stats() const { return Hook("/test/stats"); }
void RedfishTestServer::Stall() const { Hook("/test/stall"); }
void RedfishTestServer::Release() const { Hook("/test/release"); }

std::vector<std::string> BmcFlags(const RedfishTestServer& server) {
  return {"--bmc-url",           server.url(),
          "--bmc-user",          server.options().user,
          "--bmc-password-file", server.password_file(),
          "--bmc-ca-file",       RedfishTestServer::CertificateFile()};
}

}  // namespace joulebench::testing
