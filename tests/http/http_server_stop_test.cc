// Stopping the libevent HTTP server at any moment, even before its loop thread has entered
// the loop (a short-lived metrics endpoint is started and stopped within microseconds).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>

#include "http/http_server.h"

namespace joulebench::http {
namespace {

TEST(HttpServerStop, StopRightAfterStartReturnsEveryTime) {
  // The rounds run on another thread with a deadline, so that a hang fails the test instead
  // of blocking it.
  auto rounds = std::async(std::launch::async, [] {
    for (int i = 0; i < 200; ++i) {
      HttpServer server({.listen = "127.0.0.1:0"}, [](ServerRequest&&, Responder r) {
        r.Send({200, "text/plain", "ok"});
      });
      server.Start();
      server.Stop();
    }
  });
  if (rounds.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    // The hung round cannot be joined: report and leave instead of blocking the whole suite.
    std::fprintf(stderr, "HttpServerStop: Stop() did not return within 60 s\n");
    std::_Exit(1);
  }
}

}  // namespace
}  // namespace joulebench::http
