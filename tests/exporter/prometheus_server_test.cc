// Against a real Prometheus server (Debian's `prometheus`), started by the test on loopback
// with a 1 s scrape interval: what Prometheus computes from `joulebench export` equals the
// energy fed into a fake powercap counter at a known power, across the counter's wrap-around.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "exporter/program_path.h"
#include "support/background_process.h"
#include "support/fake_powercap.h"
#include "support/fault_http_server.h"
#include "support/temp_dir.h"

namespace joulebench::exporter {
namespace {

using joulebench::testing::BackgroundProcess;
using joulebench::testing::FakePowercap;
using joulebench::testing::TempDir;
using namespace std::chrono_literals;

constexpr double kWatts = 40;
constexpr std::uint64_t kRangeUj = 100'000'000;  // the counter wraps every 100 J: every 2.5 s
constexpr int kRangeS = 10;                      // the PromQL range checked

// Advances the zone's counter as a function of time (E = P * t, wrapped like the hardware)
// every 2 ms from its own thread, and counts the wraps.
class ConstantPower {
 public:
  ConstantPower(FakePowercap& fake, std::string zone)
      : fake_(fake), zone_(std::move(zone)), thread_([this] { Loop(); }) {}
  ~ConstantPower() {
    stop_ = true;
    thread_.join();
  }
  int wraps() const { return wraps_.load(); }

 private:
  void Loop() {
    const auto begin = std::chrono::steady_clock::now();
    std::uint64_t last = 0;
    while (!stop_) {
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
      const auto uj = static_cast<std::uint64_t>(std::llround(kWatts * s * 1e6)) % (kRangeUj + 1);
      if (uj < last) ++wraps_;
      last = uj;
      fake_.SetEnergy(zone_, uj);
      std::this_thread::sleep_for(2ms);
    }
  }
  FakePowercap& fake_;
  std::string zone_;
  std::atomic<bool> stop_{false};
  std::atomic<int> wraps_{0};
  std::thread thread_;
};

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// The value of an instant query with one series in its result; nullopt otherwise.
std::optional<double> Query(std::uint16_t port, const std::string& promql) {
  const auto reply =
      testing::SimpleHttpRequest(port, "GET", "/api/v1/query?query=" + UrlEncode(promql));
  if (reply.status != 200) return std::nullopt;
  const auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.size() != 1) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

TEST(PrometheusServer, IncreaseOfTheEnergyCounterIsTheFedEnergyAcrossWraps) {
  const std::string prometheus = testing::ProgramPath("prometheus");
  ASSERT_FALSE(prometheus.empty())
      << "prometheus not found: scripts/install-deps.sh installs Debian's prometheus package";
  TempDir dir;
  FakePowercap fake(dir.path() / "sys");
  fake.AddZone("intel-rapl:0", "package-0", kRangeUj);
  fake.SetMaxPower("intel-rapl:0", 0, 100'000'000);  // 100 W
  ConstantPower power(fake, "intel-rapl:0");

  BackgroundProcess exporter(
      JOULEBENCH_BIN, {"export", "--listen", "127.0.0.1:0", "--interval", "20ms", "--sysfs-root",
                       (dir.path() / "sys").string(), "--disable", "model"});
  ASSERT_TRUE(exporter.WaitForOutput("/metrics\n", 20s)) << exporter.out();
  std::smatch m;
  const std::string out = exporter.out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(http://(127\.0\.0\.1:\d+)/metrics)")));
  const std::string target = m[1];

  const std::uint16_t port = testing::FreeLoopbackPort();
  const auto config = dir.Write("prometheus.yml",
                                "global:\n"
                                "  scrape_interval: 1s\n"
                                "  evaluation_interval: 1s\n"
                                "scrape_configs:\n"
                                "  - job_name: joulebench\n"
                                "    static_configs:\n"
                                "      - targets: ['" +
                                    target + "']\n");
  BackgroundProcess server(
      prometheus,
      {"--config.file=" + config.string(), "--storage.tsdb.path=" + (dir.path() / "tsdb").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"});
  ASSERT_TRUE(testing::WaitForLoopbackPort(port, 20s)) << server.Finish().err;

  // Enough scrapes for a full range plus one on each side.
  const std::string series = R"(joulebench_energy_joules_total{domain="rapl/package-0"})";
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  double scrapes = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    scrapes = Query(port, "count_over_time(" + series + "[1m])").value_or(0);
    if (scrapes >= kRangeS + 2) break;
    std::this_thread::sleep_for(250ms);
  }
  ASSERT_GE(scrapes, kRangeS + 2) << "Prometheus did not scrape the exporter";

  const std::string range = "[" + std::to_string(kRangeS) + "s]";
  const auto increase = Query(port, "increase(" + series + range + ")");
  const auto resets = Query(port, "resets(" + series + range + ")");
  const auto gauge = Query(port, R"(joulebench_power_watts{domain="rapl/package-0"})");
  const auto up = Query(port, R"(joulebench_source_up{source="powercap"})");
  RecordProperty("increase_over_fed", std::to_string(increase.value_or(0) / (kWatts * kRangeS)));
  RecordProperty("power_gauge_watts", std::to_string(gauge.value_or(0)));
  RecordProperty("raw_counter_wraps", std::to_string(power.wraps()));
  EXPECT_GE(power.wraps(), 4) << "the raw counter should have wrapped during the test";
  ASSERT_TRUE(increase);
  EXPECT_NEAR(*increase, kWatts * kRangeS, 0.02 * kWatts * kRangeS);
  EXPECT_EQ(resets.value_or(-1), 0) << "Prometheus saw the counter go down";
  // The gauge averages one second, so a feeder late by 20 ms on a loaded machine is 2 %.
  EXPECT_NEAR(gauge.value_or(-1), kWatts, 0.05 * kWatts);
  EXPECT_EQ(up.value_or(-1), 1);

  server.Signal(SIGTERM);
  server.Finish();
  exporter.Signal(SIGTERM);
  EXPECT_EQ(exporter.Finish().exit_code, 0);
}

}  // namespace
}  // namespace joulebench::exporter
