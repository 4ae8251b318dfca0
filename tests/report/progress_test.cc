#include "joulebench/report/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace joulebench::report {
namespace {

// Captures what Progress writes, with a clock the test moves.
class ProgressOutput : public ::testing::Test {
 protected:
  void SetUp() override { file_ = open_memstream(&buffer_, &size_); }
  void TearDown() override {
    if (file_) std::fclose(file_);
    std::free(buffer_);
  }
  std::string Text() {
    std::fflush(file_);
    return std::string(buffer_, size_);
  }
  Progress::Clock Clock() {
    return [this] { return now_s_; };
  }
  std::FILE* file_ = nullptr;
  char* buffer_ = nullptr;
  std::size_t size_ = 0;
  double now_s_ = 1000;
};

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST_F(ProgressOutput, PlainModePrintsEachPhaseAndAtMostOneLinePerInterval) {
  Progress p(ProgressMode::kPlain, file_, 10.0, Clock());
  p.Phase("baseline", 10.0);
  for (int i = 0; i < 50; ++i) {  // 5 s of updates at 10 Hz: no new line
    now_s_ += 0.1;
    p.Update({.watts = 20.0});
  }
  EXPECT_EQ(Lines(Text()), 1);
  now_s_ += 6;  // 11 s since the last line
  p.Update({.watts = 21.0});
  EXPECT_EQ(Lines(Text()), 2);
  p.Phase("warm-up");
  EXPECT_EQ(Lines(Text()), 3);
  EXPECT_EQ(Text().find('\r'), std::string::npos);
  EXPECT_EQ(Text().find('\x1b'), std::string::npos);
}

TEST_F(ProgressOutput, StatusShowsPhaseElapsedThroughputPowerAndEta) {
  Progress p(ProgressMode::kPlain, file_, 10.0, Clock());
  p.Phase("measuring", 60.0);
  now_s_ += 15;
  p.Update({.throughput_per_s = 52.5, .watts = 63.25});
  EXPECT_EQ(p.StatusText(), "[measuring] 15.0s  52.5/s  63.25 W  ETA 45.0s");
  p.Phase("peak search step 3");
  now_s_ += 10;
  p.Update({.fraction_done = 0.25});  // 10 s for a quarter: 30 s to go
  EXPECT_EQ(p.StatusText(), "[peak search step 3] 25.0s  52.5/s  63.25 W  ETA 30.0s");
  now_s_ += 100;
  p.Update({});
  EXPECT_EQ(p.StatusText(), "[peak search step 3] 2m05s  52.5/s  63.25 W");  // ETA unknown
}

TEST_F(ProgressOutput, TerminalModeRewritesOneLineAndNotesStayAbove) {
  {
    Progress p(ProgressMode::kTerminal, file_, 10.0, Clock());
    p.Phase("warm-up");
    now_s_ += 0.5;
    p.Update({.throughput_per_s = 10.0});
    p.Note("steady state reached after 0.5 s");
    now_s_ += 0.01;
    p.Update({.throughput_per_s = 11.0});  // within 0.1 s of the last draw: not drawn
    std::string text = Text();
    EXPECT_EQ(Lines(text), 1);  // only the note ends a line
    EXPECT_NE(text.find("\r\x1b[2K[warm-up] 0.0s"), std::string::npos);
    EXPECT_NE(text.find("\r\x1b[2Ksteady state reached after 0.5 s\n"), std::string::npos);
    EXPECT_EQ(text.find("11/s"), std::string::npos);
  }
  // Destruction ends the pending status line.
  std::string text = Text();
  EXPECT_EQ(text.back(), '\n');
}

TEST_F(ProgressOutput, DoneClearsTheLineAndPrintsTheSummary) {
  Progress p(ProgressMode::kTerminal, file_, 10.0, Clock());
  p.Phase("measuring");
  p.Done("stored as run 12");
  std::string text = Text();
  EXPECT_NE(text.find("\r\x1b[2Kstored as run 12\n"), std::string::npos) << text;
  p.Update({.watts = 3.0});  // after Done: nothing more
  EXPECT_EQ(Text(), text);
}

TEST_F(ProgressOutput, QuietPrintsNothing) {
  Progress p(ProgressMode::kQuiet, file_, 10.0, Clock());
  p.Phase("baseline", 5.0);
  p.Update({.watts = 1.0});
  p.Note("note");
  p.Done("done");
  EXPECT_EQ(Text(), "");
}

TEST(ProgressMode, QuietWinsAndAPipeIsNotATerminal) {
  EXPECT_EQ(Progress::ModeFor(true), ProgressMode::kQuiet);
  std::FILE* pipe_end = tmpfile();
  EXPECT_EQ(Progress::ModeFor(false, pipe_end), ProgressMode::kPlain);
  std::fclose(pipe_end);
}

}  // namespace
}  // namespace joulebench::report
