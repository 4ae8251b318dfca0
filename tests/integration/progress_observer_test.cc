// ProgressObserver: what a run tells its observers shows up in the progress line.
#include "joulebench/report/progress_observer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace joulebench::report {
namespace {

std::string Contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buffer[512];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, f)) text.append(buffer, n);
  return text;
}

TEST(ProgressObserver, ShowsPhaseThroughputAndPower) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    ProgressObserver progress(ProgressMode::kPlain, out);
    progress.OnPhase("load level 50 %", std::nullopt);
    progress.OnProgress(52.3, 63.1);
    const std::string status = progress.progress().StatusText();
    EXPECT_NE(status.find("[load level 50 %]"), std::string::npos) << status;
    EXPECT_NE(status.find("52.3/s"), std::string::npos) << status;
    EXPECT_NE(status.find("63.1"), std::string::npos) << status;
  }
  EXPECT_NE(Contents(out).find("load level 50 %"), std::string::npos);
  std::fclose(out);
}

TEST(ProgressObserver, LeavesOutUnknownNumbers) {
  std::FILE* out = std::tmpfile();
  ProgressObserver progress(ProgressMode::kPlain, out);
  progress.OnPhase("measuring", std::nullopt);
  progress.OnProgress(0, std::nan(""));
  const std::string status = progress.progress().StatusText();
  EXPECT_EQ(status.find("/s"), std::string::npos) << status;
  EXPECT_EQ(status.find("nan"), std::string::npos) << status;
  std::fclose(out);
}

TEST(ProgressObserver, SaysWhenTheRunStoppedEarly) {
  std::FILE* out = std::tmpfile();
  {
    ProgressObserver progress(ProgressMode::kPlain, out);
    progress.OnPhase("measuring", std::nullopt);
    run::RunRecord record;
    record.status = run::RunStatus::kIncomplete;
    progress.OnEnd(record);
  }
  EXPECT_NE(Contents(out).find("stopped early"), std::string::npos);
  std::fclose(out);
}

TEST(ProgressObserver, QuietPrintsNothing) {
  std::FILE* out = std::tmpfile();
  {
    ProgressObserver progress(ProgressMode::kQuiet, out);
    progress.OnPhase("baseline", 10.0);
    progress.OnProgress(1, 2);
    progress.OnEnd(run::RunRecord{});
  }
  EXPECT_EQ(Contents(out), "");
  std::fclose(out);
}

}  // namespace
}  // namespace joulebench::report
