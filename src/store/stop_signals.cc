#include "joulebench/store/stop_signals.h"

#include <signal.h>

#include <atomic>

namespace joulebench::store {
namespace {

// volatile sig_atomic_t-like state shared with the handler; lock-free atomics are
// async-signal-safe.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

struct sigaction g_old_int {};
struct sigaction g_old_term {};

void Handle(int signal_number) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, signal_number) && signal_number == SIGINT) {
    // Second Ctrl-C: the user wants out now.
    ::signal(SIGINT, SIG_DFL);
    ::raise(SIGINT);
  }
}

}  // namespace

StopSignals::StopSignals() {
  g_signal.store(0);
  struct sigaction action {};
  action.sa_handler = Handle;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &g_old_int);
  sigaction(SIGTERM, &action, &g_old_term);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

bool StopSignals::requested() const { return g_signal.load(std::memory_order_relaxed) != 0; }
int StopSignals::signal() const { return g_signal.load(std::memory_order_relaxed); }
int StopSignals::ExitCode() const { return signal() == 0 ? 0 : 128 + signal(); }
void StopSignals::Request(int signal_number) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, signal_number);
}

}  // namespace joulebench::store
