// A null HTTP server for the HTTP benchmarks: every request gets 200 and a 2-byte body,
// at once or after --delay (a timer, so concurrent requests overlap), from joulebench's own
// HTTP server (libevent, one loop thread). Prints "listening on 127.0.0.1:PORT" when ready
// and serves until SIGINT/SIGTERM or --duration.
//
//   bench_http_null_server [--listen 127.0.0.1:0] [--delay 2ms] [--duration 60s]
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "http/http_server.h"
#include "joulebench/error.h"
#include "joulebench/units.h"

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::chrono::nanoseconds delay{0};
  std::chrono::nanoseconds duration{0};
  try {
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string flag = argv[i];
      if (flag == "--listen") {
        listen = argv[i + 1];
      } else if (flag == "--delay") {
        delay = joulebench::ParseDuration(argv[i + 1], "--delay", true);
      } else if (flag == "--duration") {
        duration = joulebench::ParseDuration(argv[i + 1], "--duration");
      } else {
        std::fprintf(stderr, "unknown flag %s (known: --listen, --delay, --duration)\n", argv[i]);
        return 2;
      }
    }
    // Delayed replies: a thread releases each reply when its time has come (FIFO, since every
    // request waits the same delay).
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::pair<std::chrono::steady_clock::time_point, joulebench::http::Responder>> due;
    bool stopping = false;
    std::thread releaser;
    if (delay.count() > 0) {
      releaser = std::thread([&] {
        std::unique_lock lock(mutex);
        while (!stopping) {
          if (due.empty()) {
            wake.wait(lock);
            continue;
          }
          const auto when = due.front().first;
          if (std::chrono::steady_clock::now() < when) {
            wake.wait_until(lock, when);
            continue;
          }
          auto responder = std::move(due.front().second);
          due.pop_front();
          lock.unlock();
          responder.Send({200, "text/plain", "ok"});
          lock.lock();
        }
      });
    }
    joulebench::http::HttpServer server(
        {.listen = listen},
        [&](joulebench::http::ServerRequest&&, joulebench::http::Responder responder) {
          if (delay.count() == 0) {
            responder.Send({200, "text/plain", "ok"});
            return;
          }
          {
            std::lock_guard lock(mutex);
            due.emplace_back(std::chrono::steady_clock::now() + delay, std::move(responder));
          }
          wake.notify_one();
        });
    signal(SIGINT, OnSignal);
    signal(SIGTERM, OnSignal);
    server.Start();
    std::printf("listening on %s\n", server.address().c_str());
    std::fflush(stdout);
    const auto begin = std::chrono::steady_clock::now();
    while (!g_stop &&
           (duration.count() == 0 || std::chrono::steady_clock::now() - begin < duration)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    server.Stop();
    if (releaser.joinable()) {
      {
        std::lock_guard lock(mutex);
        stopping = true;
        due.clear();
      }
      wake.notify_all();
      releaser.join();
    }
    std::printf("served %llu requests\n", static_cast<unsigned long long>(server.requests()));
    return 0;
  } catch (const joulebench::Error& e) {
    std::fprintf(stderr, "bench_http_null_server: %s\n", e.what());
    return 2;
  }
}
