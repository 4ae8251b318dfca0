#include "http/http_server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "joulebench/error.h"

namespace joulebench::http {
namespace {

// libevent must know about pthreads before the first event base, so that another thread may
// wake the loop (event_active) safely.
void UseThreadsOnce() {
  static const int result = evthread_use_pthreads();
  if (result != 0) throw EnvironmentError("libevent: pthread support could not be enabled");
}

std::string_view MethodName(evhttp_cmd_type cmd) {
  switch (cmd) {
    case EVHTTP_REQ_GET:
      return "GET";
    case EVHTTP_REQ_POST:
      return "POST";
    case EVHTTP_REQ_HEAD:
      return "HEAD";
    case EVHTTP_REQ_PUT:
      return "PUT";
    case EVHTTP_REQ_DELETE:
      return "DELETE";
    case EVHTTP_REQ_OPTIONS:
      return "OPTIONS";
    default:
      return "OTHER";
  }
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  event_base* base = nullptr;
  evhttp* http = nullptr;
  event* notify = nullptr;
  std::uint16_t port = 0;
  std::string host;
  std::thread loop;
  std::atomic<std::thread::id> loop_id{};
  std::atomic<bool> stopped{false};
  std::atomic<std::uint64_t> requests{0};
  std::mutex mutex;
  std::vector<std::pair<evhttp_request*, ServerReply>> replies;

  static void Send(evhttp_request* req, const ServerReply& reply) {
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", reply.content_type.c_str());
    evbuffer* buf = evbuffer_new();
    evbuffer_add(buf, reply.body.data(), reply.body.size());
    evhttp_send_reply(req, reply.status, nullptr, buf);
    evbuffer_free(buf);
  }

  static void OnNotify(evutil_socket_t, short, void* arg) {
    auto* impl = static_cast<Impl*>(arg);
    std::vector<std::pair<evhttp_request*, ServerReply>> batch;
    {
      std::lock_guard lock(impl->mutex);
      batch.swap(impl->replies);
    }
    for (auto& [req, reply] : batch) Send(req, reply);
    // Stop() asks through this event: a loopbreak from another thread before the loop runs
    // would be lost (event_base_loop clears it on entry) and the join would wait forever.
    if (impl->stopped.load(std::memory_order_acquire)) event_base_loopbreak(impl->base);
  }
};

Responder::Responder(Responder&& other) noexcept
    : server_(std::exchange(other.server_, nullptr)),
      request_(std::exchange(other.request_, nullptr)) {}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (request_ != nullptr) Send({500, "application/json", R"({"error":"request dropped"})"});
    server_ = std::exchange(other.server_, nullptr);
    request_ = std::exchange(other.request_, nullptr);
  }
  return *this;
}

Responder::~Responder() {
  if (request_ != nullptr) {
    Send({500, "application/json", R"({"error":"the server dropped the request"})"});
  }
}

void Responder::Send(ServerReply reply) {
  if (request_ == nullptr) return;
  server_->Reply(std::exchange(request_, nullptr), std::move(reply));
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>()) {
  UseThreadsOnce();
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  const std::string& listen = impl_->options.listen;
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw InputError(fmt::format("--listen '{}' must be HOST:PORT, e.g. 127.0.0.1:8000", listen));
  }
  impl_->host = listen.substr(0, colon);
  if (impl_->host.size() > 2 && impl_->host.front() == '[' && impl_->host.back() == ']') {
    impl_->host = impl_->host.substr(1, impl_->host.size() - 2);
  }
  unsigned port = 0;
  const std::string_view port_text = std::string_view(listen).substr(colon + 1);
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    throw InputError(fmt::format("--listen '{}': port must be 0..65535", listen));
  }
  impl_->base = event_base_new();
  impl_->http = impl_->base != nullptr ? evhttp_new(impl_->base) : nullptr;
  if (impl_->http == nullptr) throw EnvironmentError("libevent: cannot create an HTTP server");
  evhttp_set_max_body_size(impl_->http, static_cast<ev_ssize_t>(impl_->options.max_body_bytes));
  evhttp_set_timeout(impl_->http, impl_->options.idle_timeout_s);
  evhttp_set_allowed_methods(impl_->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
  evhttp_set_gencb(
      impl_->http,
      [](evhttp_request* req, void* arg) {
        auto* self = static_cast<HttpServer*>(arg);
        self->impl_->requests.fetch_add(1, std::memory_order_relaxed);
        ServerRequest request;
        request.method = MethodName(evhttp_request_get_command(req));
        const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
        const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
        request.path = path != nullptr && *path != '\0' ? path : "/";
        evbuffer* in = evhttp_request_get_input_buffer(req);
        const std::size_t n = evbuffer_get_length(in);
        request.body.resize(n);
        if (n > 0) evbuffer_remove(in, request.body.data(), n);
        self->impl_->handler(std::move(request), Responder(self, req));
      },
      this);
  evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(impl_->http, impl_->host.c_str(),
                                                              static_cast<ev_uint16_t>(port));
  if (bound == nullptr) {
    evhttp_free(impl_->http);
    event_base_free(impl_->base);
    impl_->http = nullptr;
    impl_->base = nullptr;
    throw EnvironmentError(fmt::format(
        "cannot listen on {}: the address is in use or not on this machine (choose another "
        "--listen, or port 0 for any free port)",
        listen));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&addr), &len);
  if (addr.ss_family == AF_INET) {
    impl_->port = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    impl_->port = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  impl_->notify = event_new(impl_->base, -1, EV_PERSIST, &Impl::OnNotify, impl_.get());
}

HttpServer::~HttpServer() {
  Stop();
  if (impl_->notify != nullptr) event_free(impl_->notify);
  if (impl_->http != nullptr) evhttp_free(impl_->http);
  if (impl_->base != nullptr) event_base_free(impl_->base);
}

void HttpServer::Start() {
  impl_->loop = std::thread([impl = impl_.get()] {
    impl->loop_id.store(std::this_thread::get_id());
    // Keeps the loop alive while no connection exists.
    event_add(impl->notify, nullptr);
    event_base_loop(impl->base, EVLOOP_NO_EXIT_ON_EMPTY);
  });
}

void HttpServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  if (impl_->loop.joinable()) {
    event_active(impl_->notify, 0, 0);
    impl_->loop.join();
  }
}

void HttpServer::Reply(void* request, ServerReply reply) {
  auto* req = static_cast<evhttp_request*>(request);
  if (impl_->stopped.load(std::memory_order_acquire)) return;
  if (std::this_thread::get_id() == impl_->loop_id) {
    Impl::Send(req, reply);
    return;
  }
  {
    std::lock_guard lock(impl_->mutex);
    impl_->replies.emplace_back(req, std::move(reply));
  }
  event_active(impl_->notify, 0, 0);
}

std::uint16_t HttpServer::port() const { return impl_->port; }
std::string HttpServer::address() const {
  return impl_->host.find(':') != std::string::npos
             ? fmt::format("[{}]:{}", impl_->host, impl_->port)
             : fmt::format("{}:{}", impl_->host, impl_->port);
}
std::uint64_t HttpServer::requests() const { return impl_->requests.load(); }

}  // namespace joulebench::http
