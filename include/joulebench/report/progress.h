// Live progress of a long run. On a terminal: one status line rewritten in place, e.g.
//   [measuring] 1m23s  52.3/s  63.1 W  ETA 37.0 s
// When the output is not a terminal (CI, pipes): the same text as plain lines, one at each
// phase change and otherwise at most one every `plain_interval_s`. Quiet: nothing.
//
//   joulebench::report::Progress progress(joulebench::report::Progress::ModeFor(quiet));
//   progress.Phase("baseline", 10.0);                        // expected 10 s: ETA known
//   progress.Phase("warm-up");
//   progress.Update({.throughput_per_s = 51.0, .watts = 60.2});
//   progress.Phase("peak search step 3");
//   progress.Note("steady state reached after 12.0 s");      // a line that stays
//   progress.Done("stored as run 12");
//
// Thread-safe: Update may come from another thread (e.g. the sampler's). Independent of the
// commands that use it; writes to stderr by default so stdout stays for results.
#pragma once

#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace joulebench::report {

enum class ProgressMode {
  kTerminal,  // one line, rewritten in place
  kPlain,     // plain lines at a low rate
  kQuiet,     // nothing
};

struct ProgressUpdate {
  std::optional<double> throughput_per_s;  // work units per second, as last measured
  std::optional<double> watts;             // total power, as last measured
  std::optional<double> fraction_done;     // of the current phase, 0..1 (gives an ETA)
  std::optional<double> eta_s;             // seconds left, when the caller knows better
};

class Progress {
 public:
  // Seconds on a monotonic clock; tests pass their own.
  using Clock = std::function<double()>;

  // kQuiet when quiet, kTerminal when `out` is a terminal, else kPlain.
  static ProgressMode ModeFor(bool quiet, std::FILE* out = stderr);

  explicit Progress(ProgressMode mode, std::FILE* out = stderr, double plain_interval_s = 10.0,
                    Clock clock = {});
  // Ends a pending status line (so the shell prompt starts on a fresh line).
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Starts a phase ("baseline", "warm-up", "steady state reached", "measuring",
  // "peak search step 3"); with its expected duration the ETA counts down. Shown at once.
  void Phase(std::string name, std::optional<double> expected_duration_s = std::nullopt);
  // New numbers for the status line; drawn at most 10 times a second on a terminal.
  void Update(const ProgressUpdate& update);
  // A line that stays (above the status line on a terminal).
  void Note(std::string_view line);
  // Clears the status line and prints `summary` (if any) as the last line.
  void Done(std::string_view summary = {});

  // The current status text, without control characters (for tests and logs).
  std::string StatusText() const;

 private:
  void Draw(bool force);
  std::string StatusTextLocked() const;
  void ClearLineLocked();

  ProgressMode mode_;
  std::FILE* out_;
  double plain_interval_s_;
  Clock clock_;
  mutable std::mutex mutex_;
  double start_s_ = 0;
  double phase_start_s_ = 0;
  double last_draw_s_ = -1e300;
  bool line_pending_ = false;
  bool done_ = false;
  std::string phase_;
  std::optional<double> expected_duration_s_;
  ProgressUpdate last_;
};

}  // namespace joulebench::report
