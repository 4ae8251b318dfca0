#include "joulebench/report/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>

#include "joulebench/units.h"

namespace joulebench::report {
namespace {

// A terminal redraw rate people read as live, without flooding a slow link.
constexpr double kTerminalRedrawS = 0.1;

double SteadyNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Elapsed(double s) {
  if (s < 0) s = 0;
  auto total = static_cast<long long>(s);
  if (total >= 3600)
    return fmt::format("{}h{:02}m{:02}s", total / 3600, total / 60 % 60, total % 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{:.1f}s", s);
}

std::size_t TerminalWidth(std::FILE* out) {
  winsize size{};
  if (ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 10) return size.ws_col;
  return 100;
}

}  // namespace

ProgressMode Progress::ModeFor(bool quiet, std::FILE* out) {
  if (quiet) return ProgressMode::kQuiet;
  return isatty(fileno(out)) ? ProgressMode::kTerminal : ProgressMode::kPlain;
}

Progress::Progress(ProgressMode mode, std::FILE* out, double plain_interval_s, Clock clock)
    : mode_(mode), out_(out), plain_interval_s_(plain_interval_s), clock_(std::move(clock)) {
  if (!clock_) clock_ = SteadyNow;
  start_s_ = phase_start_s_ = clock_();
}

Progress::~Progress() {
  std::lock_guard lock(mutex_);
  if (mode_ == ProgressMode::kTerminal && line_pending_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
}

std::string Progress::StatusText() const {
  std::lock_guard lock(mutex_);
  return StatusTextLocked();
}

std::string Progress::StatusTextLocked() const {
  double now = clock_();
  std::string text =
      fmt::format("[{}] {}", phase_.empty() ? "starting" : phase_, Elapsed(now - start_s_));
  if (last_.throughput_per_s && std::isfinite(*last_.throughput_per_s)) {
    text += fmt::format("  {:.4g}/s", *last_.throughput_per_s);
  }
  if (last_.watts && std::isfinite(*last_.watts)) text += "  " + FormatWatts(*last_.watts);
  std::optional<double> eta = last_.eta_s;
  double in_phase = now - phase_start_s_;
  if (!eta && last_.fraction_done && *last_.fraction_done > 0 && *last_.fraction_done <= 1) {
    eta = in_phase * (1 - *last_.fraction_done) / *last_.fraction_done;
  }
  if (!eta && expected_duration_s_) eta = std::max(0.0, *expected_duration_s_ - in_phase);
  if (eta && std::isfinite(*eta)) text += "  ETA " + Elapsed(*eta);
  return text;
}

void Progress::ClearLineLocked() {
  if (mode_ == ProgressMode::kTerminal && line_pending_) {
    std::fputs("\r\x1b[2K", out_);
    line_pending_ = false;
  }
}

void Progress::Draw(bool force) {
  if (mode_ == ProgressMode::kQuiet || done_) return;
  double now = clock_();
  double interval = mode_ == ProgressMode::kTerminal ? kTerminalRedrawS : plain_interval_s_;
  if (!force && now - last_draw_s_ < interval) return;
  last_draw_s_ = now;
  std::string text = StatusTextLocked();
  if (mode_ == ProgressMode::kTerminal) {
    std::size_t width = TerminalWidth(out_);
    if (text.size() >= width) text.resize(width - 1);
    std::fputs("\r\x1b[2K", out_);
    std::fputs(text.c_str(), out_);
    line_pending_ = true;
  } else {
    std::fputs(text.c_str(), out_);
    std::fputc('\n', out_);
  }
  std::fflush(out_);
}

void Progress::Phase(std::string name, std::optional<double> expected_duration_s) {
  std::lock_guard lock(mutex_);
  phase_ = std::move(name);
  phase_start_s_ = clock_();
  expected_duration_s_ = expected_duration_s;
  last_.fraction_done.reset();
  last_.eta_s.reset();
  Draw(true);
}

void Progress::Update(const ProgressUpdate& update) {
  std::lock_guard lock(mutex_);
  if (update.throughput_per_s) last_.throughput_per_s = update.throughput_per_s;
  if (update.watts) last_.watts = update.watts;
  last_.fraction_done = update.fraction_done;
  last_.eta_s = update.eta_s;
  Draw(false);
}

void Progress::Note(std::string_view line) {
  std::lock_guard lock(mutex_);
  if (mode_ == ProgressMode::kQuiet) return;
  ClearLineLocked();
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fputc('\n', out_);
  if (mode_ == ProgressMode::kTerminal && !done_) {
    last_draw_s_ = -1e300;
    Draw(true);
  } else {
    std::fflush(out_);
  }
}

void Progress::Done(std::string_view summary) {
  std::lock_guard lock(mutex_);
  if (mode_ == ProgressMode::kQuiet) return;
  ClearLineLocked();
  done_ = true;
  if (!summary.empty()) {
    std::fwrite(summary.data(), 1, summary.size(), out_);
    std::fputc('\n', out_);
  }
  std::fflush(out_);
}

}  // namespace joulebench::report
