#include "support/fault_http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace joulebench::testing {
namespace {

constexpr std::string_view kKServeReply =
    R"({"model_name":"m","model_version":"1","outputs":[{"name":"logits","datatype":"FP32","shape":[1,2],"data":[0.5,-0.5]}]})";
constexpr std::string_view kOpenAiReply =
    R"({"id":"c1","object":"text_completion","choices":[{"index":0,"text":" hello","finish_reason":"length"}]})";

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool SendReply(int fd, int status, std::string_view body,
               std::string_view type = "application/json") {
  return SendAll(
      fd, fmt::format("HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{}", status,
                      type, body.size(), body));
}

bool SendChunk(int fd, std::string_view data) {
  return SendAll(fd, fmt::format("{:x}\r\n{}\r\n", data.size(), data));
}

int IntAfter(const std::string& path, std::size_t pos) { return std::atoi(path.c_str() + pos); }

// Splits "/a/b/c" into {"a", "b", "c"}.
std::vector<std::string> Parts(const std::string& path) {
  std::vector<std::string> out;
  std::size_t begin = 1;
  while (begin <= path.size()) {
    const std::size_t slash = path.find('/', begin);
    out.push_back(
        path.substr(begin, slash == std::string::npos ? std::string::npos : slash - begin));
    if (slash == std::string::npos) break;
    begin = slash + 1;
  }
  return out;
}

}  // namespace

FaultHttpServer::FaultHttpServer() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 128) != 0) {
    throw std::runtime_error("fault server: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

FaultHttpServer::~FaultHttpServer() {
  stop_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  {
    std::lock_guard lock(mutex_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  for (auto& w : workers_) w.join();
}

std::string FaultHttpServer::url(const std::string& path) const {
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

void FaultHttpServer::Accept() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connections_.fetch_add(1);
    std::lock_guard lock(mutex_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FaultHttpServer::Serve(int fd) {
  std::string in;
  char buf[16384];
  bool open = true;
  while (open && !stop_) {
    // Read one request: headers, then Content-Length bytes of body.
    std::size_t header_end;
    while ((header_end = in.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        open = false;
        break;
      }
      in.append(buf, static_cast<std::size_t>(n));
    }
    if (!open) break;
    const std::string head = in.substr(0, header_end);
    std::size_t content_length = 0;
    for (const char* key : {"Content-Length:", "content-length:"}) {
      const std::size_t at = head.find(key);
      if (at != std::string::npos) content_length = std::stoul(head.substr(at + std::strlen(key)));
    }
    while (in.size() < header_end + 4 + content_length) {
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        open = false;
        break;
      }
      in.append(buf, static_cast<std::size_t>(n));
    }
    if (!open) break;
    in.erase(0, header_end + 4 + content_length);
    const std::size_t sp1 = head.find(' ');
    const std::size_t sp2 = head.find(' ', sp1 + 1);
    const std::string path = head.substr(sp1 + 1, sp2 - sp1 - 1);
    requests_.fetch_add(1);
    const std::vector<std::string> parts = Parts(path);
    const std::string& what = parts.empty() ? path : parts[0];
    if (what == "ok") {
      open = SendReply(fd, 200, R"({"ok":true})");
    } else if (what == "kserve") {
      open = SendReply(fd, 200, kKServeReply);
    } else if (what == "openai") {
      open = SendReply(fd, 200, kOpenAiReply);
    } else if (what == "slow") {
      std::this_thread::sleep_for(std::chrono::milliseconds(IntAfter(path, 6)));
      open = SendReply(fd, 200, kKServeReply);
    } else if (what == "burn") {
      // Thread CPU time, not wall time: a preempted spin still burns exactly MS of CPU.
      auto cpu_ns = [] {
        timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
      };
      const std::int64_t until = cpu_ns() + std::int64_t{IntAfter(path, 6)} * 1'000'000;
      while (cpu_ns() < until) {
      }
      open = SendReply(fd, 200, kKServeReply);
    } else if (what == "status") {
      open = SendReply(fd, IntAfter(path, 8), R"({"error":"as asked"})");
    } else if (what == "fail-every") {
      const int n = IntAfter(path, 12);
      if (fail_counter_.fetch_add(1) % static_cast<std::uint64_t>(n) == 0) {
        open = SendReply(fd, 500, R"({"error":"overloaded"})");
      } else {
        open = SendReply(fd, 200, kKServeReply);
      }
    } else if (what == "drop") {
      open = false;
    } else if (what == "reset") {
      linger l{1, 0};  // close() then sends RST
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      open = false;
    } else if (what == "truncate") {
      SendAll(fd,
              fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}", kKServeReply.size(),
                          kKServeReply.substr(0, kKServeReply.size() / 2)));
      open = false;
    } else if (what == "garbage-json") {
      open = SendReply(fd, 200, R"({"outputs": [ this is not json)");
    } else if (what == "latin1") {
      // ISO 8859-1 text, as an old server might send: not JSON, and not UTF-8 either.
      open = SendReply(fd, 200, "r\xe9sum\xe9: caf\xe9 \xab\xbb not json");
    } else if (what == "garbage-http") {
      SendAll(fd, "SSH-2.0-OpenSSH_9.2 not http at all\r\n\r\n");
      open = false;
    } else if (what == "sse" || what == "sse-chat" || what == "sse-no-done" ||
               what == "sse-garbage") {
      const bool chat = what == "sse-chat";
      const int n = parts.size() > 1 ? std::atoi(parts[1].c_str()) : 3;
      const int gap_ms = parts.size() > 2 ? std::atoi(parts[2].c_str()) : 0;
      open = SendAll(fd,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n");
      for (int i = 0; open && i < n; ++i) {
        if (i > 0 && gap_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
        std::string event;
        if (what == "sse-garbage" && i == 1) {
          event = "data: {not json\n\n";
        } else if (chat) {
          event = fmt::format(
              "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"t{}\"}}}}]}}\n\n", i);
        } else {
          event = fmt::format("data: {{\"choices\":[{{\"index\":0,\"text\":\" t{}\"}}]}}\n\n", i);
        }
        open = SendChunk(fd, event);
      }
      if (open && what != "sse-no-done") open = SendChunk(fd, "data: [DONE]\n\n");
      if (open) open = SendAll(fd, "0\r\n\r\n");
      if (what == "sse-no-done") open = false;
    } else {
      open = SendReply(fd, 404, R"({"error":"no such behaviour"})");
    }
  }
  {
    std::lock_guard lock(mutex_);
    std::erase(open_fds_, fd);
  }
  close(fd);
}

SimpleReply SimpleHttpRequest(std::uint16_t port, const std::string& method,
                              const std::string& path, const std::string& body) {
  SimpleReply reply;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return reply;
  }
  SendAll(fd, fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                          method, path, body.size(), body));
  std::string in;
  char buf[16384];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) in.append(buf, static_cast<std::size_t>(n));
  close(fd);
  if (in.starts_with("HTTP/1.")) reply.status = std::atoi(in.c_str() + 9);
  const std::size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return reply;
  reply.body = in.substr(end + 4);
  // De-chunk when the reply is chunked.
  if (in.substr(0, end).find("chunked") != std::string::npos) {
    std::string plain;
    std::size_t at = 0;
    while (at < reply.body.size()) {
      const std::size_t line_end = reply.body.find("\r\n", at);
      if (line_end == std::string::npos) break;
      const std::size_t size = std::stoul(reply.body.substr(at, line_end - at), nullptr, 16);
      if (size == 0) break;
      plain += reply.body.substr(line_end + 2, size);
      at = line_end + 2 + size + 2;
    }
    reply.body = plain;
  }
  return reply;
}

bool WaitForLoopbackPort(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool open = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (open) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::uint16_t FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace joulebench::testing
