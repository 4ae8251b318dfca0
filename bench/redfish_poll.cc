// CPU time of one Redfish poll (what the BMC source's thread spends per reading) on loopback,
// against the tests' HTTPS Redfish service (tests/fakes/redfish_server.py, a separate
// process, so its CPU is not counted): GET, JSON parse, the number out, on the kept-alive
// connection; and, for comparison, a poll on a new connection (TCP + TLS handshake each time).
// Google Benchmark's CPU column is this thread's CPU time; the target is <= 2 ms per poll.
#include <benchmark/benchmark.h>

#include "energy/bmc_http_client.h"
#include "energy/redfish_source.h"
#include "support/redfish_test_server.h"

namespace joulebench::energy {
namespace {

using joulebench::testing::RedfishTestServer;

std::unique_ptr<BmcHttpClient> ClientFor(const RedfishTestServer& server) {
  BmcHttpSettings s;
  s.base_url = server.url();
  s.user = server.options().user;
  s.password = server.options().password;
  s.ca_file = RedfishTestServer::CertificateFile();
  return std::make_unique<BmcHttpClient>(s);
}

std::vector<RedfishReadingPart> PartsFor(const std::string& schema) {
  const std::string chassis = "/redfish/v1/Chassis/1";
  if (schema == "power") return {{chassis + "/Power", "/PowerControl/0/PowerConsumedWatts"}};
  if (schema == "environment") return {{chassis + "/Sensors/TotalPower", "/Reading"}};
  const std::string supplies = chassis + "/PowerSubsystem/PowerSupplies";
  return {{supplies + "/Bay1/Metrics", "/InputPowerWatts/Reading"},
          {supplies + "/Bay2/Metrics", "/InputPowerWatts/Reading"}};
}

void Poll(benchmark::State& state, const std::string& schema) {
  RedfishTestServer::Options o;
  o.schema = schema;
  RedfishTestServer server(o);
  auto client = ClientFor(server);
  BmcHttpClient* raw = client.get();
  RedfishPoller poller(std::move(client), PartsFor(schema));
  if (!poller.Poll().ok) state.SkipWithError("the first poll failed");  // connects
  for (auto _ : state) {
    const PowerPoller::Result r = poller.Poll();
    if (!r.ok) {
      state.SkipWithError(r.error.c_str());
      break;
    }
    benchmark::DoNotOptimize(r.watts);
  }
  state.counters["connections"] = static_cast<double>(raw->connections_opened());
  state.counters["gets_per_poll"] = static_cast<double>(PartsFor(schema).size());
}

void BM_RedfishPollPowerControl(benchmark::State& state) { Poll(state, "power"); }
void BM_RedfishPollSensor(benchmark::State& state) { Poll(state, "environment"); }
void BM_RedfishPollTwoPowerSupplies(benchmark::State& state) { Poll(state, "psu"); }

// The same poll on a fresh connection each time: what keep-alive saves.
void BM_RedfishPollNewConnection(benchmark::State& state) {
  RedfishTestServer server;
  for (auto _ : state) {
    RedfishPoller poller(ClientFor(server), PartsFor("power"));
    const PowerPoller::Result r = poller.Poll();
    if (!r.ok) {
      state.SkipWithError(r.error.c_str());
      break;
    }
    benchmark::DoNotOptimize(r.watts);
  }
}

BENCHMARK(BM_RedfishPollPowerControl)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_RedfishPollSensor)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_RedfishPollTwoPowerSupplies)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_RedfishPollNewConnection)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace joulebench::energy

BENCHMARK_MAIN();
