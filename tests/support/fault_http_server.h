// A small HTTP/1.1 server on 127.0.0.1 (ephemeral port) that misbehaves on request, for the
// HTTP SUT's tests: the request path picks the behaviour. One thread per connection,
// keep-alive, Content-Length or chunked replies. Started and stopped by the test.
//
//   /ok                       200, a small JSON body
//   /kserve                   200, a valid KServe v2 inference reply
//   /openai                   200, a valid completion reply
//   /slow/MS                  waits MS milliseconds, then as /kserve
//   /burn/MS                  spins the CPU for MS milliseconds, then as /kserve
//   /status/CODE              replies CODE with an error body
//   /fail-every/N             every Nth request (counted over the server) 500, else /kserve
//   /drop                     closes the connection without replying
//   /reset                    resets the connection (RST) without replying
//   /truncate                 sends half of a Content-Length body, then closes
//   /garbage-json             200 with a body that is not JSON
//   /latin1                   200 with ISO 8859-1 text: neither JSON nor UTF-8
//   /garbage-http             replies bytes that are not HTTP
//   /sse/N/GAP_MS             a completion stream of N chunks GAP_MS apart, then [DONE]
//   /sse-chat/N/GAP_MS        the same as chat deltas
//   /sse-no-done/N            N chunks, then the stream ends without [DONE]
//   /sse-garbage              a stream whose second event is not JSON
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace joulebench::testing {

class FaultHttpServer {
 public:
  FaultHttpServer();  // listens on 127.0.0.1:0
  ~FaultHttpServer();
  FaultHttpServer(const FaultHttpServer&) = delete;
  FaultHttpServer& operator=(const FaultHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;                    // "http://127.0.0.1:PORT/path"
  std::uint64_t connections() const { return connections_.load(); }  // accepted
  std::uint64_t requests() const { return requests_.load(); }

 private:
  void Accept();
  void Serve(int fd);
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> fail_counter_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
};

// A blocking one-shot HTTP/1.1 request to 127.0.0.1:port (Connection: close), for tests.
struct SimpleReply {
  int status = 0;  // 0 when no reply could be read
  std::string body;
};
SimpleReply SimpleHttpRequest(std::uint16_t port, const std::string& method,
                              const std::string& path, const std::string& body = "");

// True once something accepts TCP connections on 127.0.0.1:port (waits up to `timeout`).
bool WaitForLoopbackPort(std::uint16_t port, std::chrono::milliseconds timeout);

// A port on 127.0.0.1 that was free a moment ago (for servers that need a port number).
std::uint16_t FreeLoopbackPort();

}  // namespace joulebench::testing
