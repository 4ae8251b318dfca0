#include "joulebench/exporter/metrics_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include "exporter/job_collector.h"
#include "exporter/meter_collector.h"
#include "exporter/metric_families.h"
#include "http/http_server.h"
#include "joulebench/error.h"
#include "joulebench/store/fingerprint.h"

namespace joulebench::exporter {
namespace {

using prometheus::MetricType;

// The content type of the text exposition format the body is written in.
constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";

// Why binding `address` fails, from a socket of our own: "" when it binds now.
std::string BindError(const ListenAddress& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::strerror(errno);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc = 0;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<std::uint16_t>(address.port));
    inet_pton(AF_INET6, address.host.c_str(), &a.sin6_addr);
    rc = bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(address.port));
    inet_pton(AF_INET, address.host.c_str(), &a.sin_addr);
    rc = bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  }
  const int error = rc == 0 ? 0 : errno;
  close(fd);
  switch (error) {
    case 0:
      return "";
    case EADDRINUSE:
      return fmt::format(
          "port {} is already in use there; pick another port (0: any free one) or stop what "
          "listens on it",
          address.port);
    case EADDRNOTAVAIL:
      return fmt::format(
          "{} is not an address of this machine; use 127.0.0.1 (this machine only), 0.0.0.0 "
          "(every interface) or one of its own addresses",
          address.host);
    case EACCES:
      return fmt::format("port {} is privileged (below 1024); use a port from 1024 up, e.g. 9464",
                         address.port);
    default:
      return std::strerror(error);
  }
}

}  // namespace

struct MetricsServer::Impl {
  ListenAddress address;
  std::string version;
  std::string commit;
  std::shared_ptr<MeterCollector> meter = std::make_shared<MeterCollector>();
  std::shared_ptr<JobCollector> job;  // set once, before or while serving

  // One scrape at a time: the counters below and the job pointer.
  mutable std::mutex scrape_mutex;
  mutable std::uint64_t scrapes = 0;
  mutable double last_scrape_s = 0;

  std::unique_ptr<http::HttpServer> server;

  std::string Scrape() const {
    std::lock_guard lock(scrape_mutex);
    const auto begin = std::chrono::steady_clock::now();
    std::vector<prometheus::MetricFamily> families;
    AddSingle(families, "joulebench_build_info",
              "The joulebench build that serves these metrics (value 1)", MetricType::Gauge,
              {{"version", version}, {"commit", commit}}, 1);
    for (auto& f : meter->Collect()) families.push_back(std::move(f));
    if (job) {
      for (auto& f : job->Collect()) families.push_back(std::move(f));
    }
    AddSingle(families, "joulebench_exporter_scrapes_total", "Scrapes served before this one",
              MetricType::Counter, {}, static_cast<double>(scrapes));
    AddSingle(families, "joulebench_exporter_scrape_duration_seconds",
              "Time the previous scrape took to collect and format its metrics, in seconds",
              MetricType::Gauge, {}, last_scrape_s);
    std::string text = prometheus::TextSerializer().Serialize(families);
    ++scrapes;
    last_scrape_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    return text;
  }

  void Handle(http::ServerRequest&& request, http::Responder responder) const {
    if (request.path == "/metrics") {
      if (request.method != "GET" && request.method != "HEAD") {
        responder.Send({405, "text/plain; charset=utf-8", "GET /metrics\n"});
        return;
      }
      responder.Send({200, kExpositionType, Scrape()});
    } else if (request.path == "/") {
      responder.Send({200, "text/html; charset=utf-8",
                      "<html><head><title>joulebench</title></head><body><h1>joulebench</h1>"
                      "<p><a href=\"/metrics\">Metrics</a></p></body></html>\n"});
    } else {
      responder.Send(
          {404, "text/plain; charset=utf-8", "not found; the metrics are at /metrics\n"});
    }
  }
};

MetricsServer::MetricsServer(const ListenAddress& address, std::string_view flag)
    : impl_(std::make_unique<Impl>()) {
  impl_->address = address;
  const nlohmann::json fingerprint = store::MachineFingerprint();
  impl_->version = fingerprint.value("joulebench_version", "unknown");
  impl_->commit = fingerprint.value("joulebench_commit", "unknown");
  http::HttpServerOptions options;
  options.listen = address.ToString();
  options.max_body_bytes = 4096;  // a scrape has no body
  options.idle_timeout_s = 120;   // keep-alive across scrapes of up to two minutes apart
  try {
    Impl* impl = impl_.get();
    impl_->server = std::make_unique<http::HttpServer>(
        options, [impl](http::ServerRequest&& request, http::Responder responder) {
          impl->Handle(std::move(request), std::move(responder));
        });
  } catch (const EnvironmentError& e) {
    std::string why = BindError(address);
    if (why.empty()) why = e.what();
    throw EnvironmentError(fmt::format("{} {}: cannot listen: {}", flag, address.ToString(), why));
  }
  impl_->address.port = impl_->server->port();
  impl_->server->Start();
}

MetricsServer::~MetricsServer() {
  // Stops the loop thread before the collectors it reads go away.
  impl_->server.reset();
}

const ListenAddress& MetricsServer::address() const { return impl_->address; }

std::string MetricsServer::url() const {
  return fmt::format("http://{}/metrics", impl_->address.ToString());
}

void MetricsServer::ExportMeter(const sampling::Meter& meter) { impl_->meter->Attach(meter); }

void MetricsServer::FreezeMeter() { impl_->meter->Freeze(); }

run::RunObserver& MetricsServer::job_observer(std::function<std::string()> run_id) {
  std::lock_guard lock(impl_->scrape_mutex);
  if (!impl_->job) impl_->job = std::make_shared<JobCollector>(*impl_->meter);
  impl_->job->set_run_id(std::move(run_id));
  return *impl_->job;
}

std::string MetricsServer::Scrape() const { return impl_->Scrape(); }

}  // namespace joulebench::exporter
