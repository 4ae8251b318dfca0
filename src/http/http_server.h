// A small HTTP/1.1 server on libevent's evhttp (keep-alive, chunked bodies, one event loop
// thread): what `joulebench serve` and the benchmarks' null server are built on. A handler
// runs on the loop thread and may reply at once or later from any thread (a model batch
// finishing on a worker), exactly once per request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace joulebench::http {

struct ServerRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string, e.g. "/v2/models/layoutlm-base/infer"
  std::string body;
};

struct ServerReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class HttpServer;

// Sends the reply to one request, from any thread, once. A Responder that is destroyed
// without Send() replies 500 (so no client waits forever). Movable, not copyable.
class Responder {
 public:
  Responder() = default;
  Responder(Responder&& other) noexcept;
  Responder& operator=(Responder&& other) noexcept;
  ~Responder();
  void Send(ServerReply reply);
  explicit operator bool() const { return request_ != nullptr; }

 private:
  friend class HttpServer;
  Responder(HttpServer* server, void* request) : server_(server), request_(request) {}
  HttpServer* server_ = nullptr;
  void* request_ = nullptr;  // evhttp_request*
};

struct HttpServerOptions {
  // "HOST:PORT"; port 0 = an ephemeral port (see port()). Default loopback only.
  std::string listen = "127.0.0.1:8000";
  std::size_t max_body_bytes = std::size_t{64} << 20;  // larger requests get 413
  int idle_timeout_s = 60;  // a keep-alive connection idle this long is closed
};

class HttpServer {
 public:
  using Handler = std::function<void(ServerRequest&& request, Responder responder)>;
  // Binds the address (throws InputError for a malformed address, EnvironmentError when it
  // cannot be bound, e.g. in use). Serving starts with Start().
  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();  // stops and joins the loop thread
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void Start();  // runs the event loop on its own thread
  void Stop();   // thread-safe; replies still queued are dropped with their connections
  std::uint16_t port() const;
  std::string address() const;  // "127.0.0.1:PORT"
  std::uint64_t requests() const;

 private:
  friend class Responder;
  void Reply(void* request, ServerReply reply);  // any thread
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::http
