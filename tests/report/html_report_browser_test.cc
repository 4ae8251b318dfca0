// The report written by `joulebench report`, opened in a real headless Chromium (Debian's
// chromium package): it must render, run its script without errors, draw every chart and
// show a hostile run name as text.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "joulebench/store/run_store.h"
#include "support/run_cli.h"
#include "support/sample_run_record.h"
#include "support/temp_dir.h"

namespace joulebench::report {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";

std::vector<std::string> ChromiumArgs(const std::filesystem::path& profile) {
  return {"--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--user-data-dir=" + profile.string()};
}

class ReportInBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kChromium)) {
      GTEST_SKIP() << "chromium is not installed (" << kChromium
                   << "); scripts/install-deps.sh installs it";
    }
    db_ = (dir_.path() / "runs.db").string();
    store::RunStore store = store::RunStore::Open(db_);
    run::RunRecord r = testing::SampleRunRecord(400);
    r.name = "<script>alert(1)</script>";
    id_ = store.Save(r);
    plan_ = dir_.Write("plan.json", R"json({"candidates": [
        {"name": "this machine", "instances": 33, "cost_usd_per_million": 24.8},
        {"name": "inf1.2xlarge (given: published study)", "instances": 6,
         "cost_usd_per_million": 2.17}]})json")
                .string();
    report_ = (dir_.path() / "report.html").string();
    auto made =
        testing::RunJoulebench({"report", id_, "--db", db_, "--plan", plan_, "-o", report_});
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  testing::TempDir dir_;
  std::string db_, id_, plan_, report_;
};

TEST_F(ReportInBrowser, RendersEveryChartWithoutScriptErrorsAndShowsTheNameAsText) {
  auto args = ChromiumArgs(dir_.path() / "profile-dom");
  args.push_back("--dump-dom");
  args.push_back("file://" + report_);
  auto dom = testing::RunProcess(kChromium, args);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  // The script ran to its end and recorded no error.
  EXPECT_NE(dom.out.find("data-ready=\"1\""), std::string::npos) << dom.out.substr(0, 400);
  std::string root_tag = dom.out.substr(
      dom.out.find("<html"), dom.out.find('>', dom.out.find("<html")) - dom.out.find("<html"));
  EXPECT_EQ(root_tag.find("data-script-errors"), std::string::npos) << root_tag;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom.out, m, std::regex("data-charts-drawn=\"(\\d+)\"")));
  // All 12 charts (the sample run has nodes); the plan's energy chart stays empty as this plan
  // gives no energy.
  EXPECT_EQ(std::stoi(m[1]), 12);
  for (const char* id :
       {"chart-power", "chart-energy", "chart-throughput", "chart-latency", "chart-peak",
        "chart-power-load", "chart-cmp-throughput", "chart-cmp-energy", "chart-cmp-power",
        "chart-cmp-instances", "chart-cmp-cost", "chart-nodes"}) {
    std::regex figure(std::string("<figure class=\"chart\" id=\"") + id +
                      "\" data-points=\"([1-9][0-9]*)\">");
    EXPECT_TRUE(std::regex_search(dom.out, figure)) << id;
  }
  // The hostile name is a text node: serialised escaped, never a script element.
  EXPECT_NE(dom.out.find("<td class=\"run-name\">&lt;script&gt;alert(1)&lt;/script&gt;</td>"),
            std::string::npos);
  EXPECT_EQ(dom.out.find("<script>alert"), std::string::npos);
}

TEST_F(ReportInBrowser, ScreenshotIsTaken) {
  auto shot = dir_.path() / "report.png";
  auto args = ChromiumArgs(dir_.path() / "profile-shot");
  args.push_back("--window-size=1000,4200");
  args.push_back("--hide-scrollbars");
  args.push_back("--screenshot=" + shot.string());
  args.push_back("file://" + report_);
  auto r = testing::RunProcess(kChromium, args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(std::filesystem::exists(shot)) << r.err;
  std::string png = testing::ReadFile(shot);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  // A blank page of this size compresses to a few kB; charts and tables make it far larger.
  EXPECT_GT(png.size(), 50000u);
  // Keep a copy for people to look at.
  std::filesystem::copy_file(shot,
                             std::filesystem::path(JOULEBENCH_TEST_TMP) / "report-screenshot.png",
                             std::filesystem::copy_options::overwrite_existing);
}

}  // namespace
}  // namespace joulebench::report
