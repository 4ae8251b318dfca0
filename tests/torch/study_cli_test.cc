// End-to-end: `joulebench study` on tiny models with short windows: both runs are made and
// stored, the study's tables put this machine next to the published candidates, and the
// HTML report is written.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench {
namespace {

using testing::ReadFile;
using testing::RunJoulebench;
using testing::TempDir;

std::vector<std::string> TinyStudyArgs(const TempDir& dir) {
  return {"study",           "--quick",
          "--inference-model", "layoutlm-tiny",
          "--training-model",  "bert-tiny",
          "--inference-seq-len", "32",
          "--training-seq-len",  "32",
          "--duration",        "1s",
          "--baseline",        "300ms",
          "--latency-bound",   "50ms",
          "--threads",         "1",
          "--instance-type",   "c6i.xlarge",
          "--report",          (dir.path() / "study.html").string(),
          "--db",              (dir.path() / "runs.db").string()};
}

TEST(StudyCommand, PlansThisMachineNextToThePublishedCandidatesAndStoresBothRuns) {
  TempDir dir;
  auto args = TinyStudyArgs(dir);
  args.push_back("--json");
  auto r = RunJoulebench(args, {"JOULEBENCH_NO_STORE=0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);

  const auto& fleets = j.at("inference_plan").at("candidates");
  ASSERT_EQ(fleets.size(), 3u);
  std::vector<std::string> names;
  for (const auto& c : fleets) names.push_back(c.at("name").get<std::string>());
  EXPECT_EQ(names[0], "this machine");
  EXPECT_EQ(names[1], "inf1.2xlarge (published study)");
  EXPECT_EQ(names[2], "g4dn.2xlarge (published study)");
  // The published candidates keep the study's answer: 6 and 33 instances for 1M/h.
  EXPECT_EQ(fleets[1].at("results").at("instances").get<int>(), 6);
  EXPECT_EQ(fleets[2].at("results").at("instances").get<int>(), 33);
  EXPECT_GE(fleets[0].at("results").at("instances").get<int>(), 1);
  // Their figures are marked as the study's; this machine's as measured by its run.
  EXPECT_NE(fleets[1].dump().find("published study"), std::string::npos);
  EXPECT_NE(fleets[0].dump().find("run"), std::string::npos);

  const auto& train = j.at("training_plan").at("candidates");
  ASSERT_EQ(train.size(), 3u);
  EXPECT_EQ(train[0].at("name"), "this machine");

  // Both runs were stored and read back from the database.
  const std::string inference_id = j.at("inference_run").at("id");
  const std::string training_id = j.at("training_run").at("id");
  EXPECT_FALSE(inference_id.empty());
  auto show = RunJoulebench({"runs", "show", training_id, "--json", "--db",
                             (dir.path() / "runs.db").string()});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out).at("kind"), "train");

  // The inference run carries a power curve with one point per load level.
  EXPECT_EQ(j.at("inference_run").at("power_curve").size(), 5u);

  const std::string html = ReadFile(dir.path() / "study.html");
  EXPECT_NE(html.find("chart-power"), std::string::npos);
  EXPECT_NE(html.find("chart-power-load"), std::string::npos);
  EXPECT_NE(html.find("inf1.2xlarge (published study)"), std::string::npos);
}

TEST(StudyCommand, UnknownInstanceTypeFailsBeforeMeasuring) {
  TempDir dir;
  auto args = TinyStudyArgs(dir);
  args[args.size() - 5] = "c6i.xlargee";
  auto r = RunJoulebench(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("c6i.xlarge"), std::string::npos) << r.err;  // the closest name
  EXPECT_TRUE(r.out.empty());
}

TEST(StudyCommand, UnwritableReportPathFailsBeforeMeasuring) {
  TempDir dir;
  auto args = TinyStudyArgs(dir);
  args[args.size() - 3] = (dir.path() / "missing" / "study.html").string();
  auto r = RunJoulebench(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--report"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace joulebench
