#include "joulebench/report/html_report.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "support/sample_run_record.h"

namespace joulebench::report {
namespace {

const char* kCharts[] = {"chart-power",          "chart-energy",     "chart-throughput",
                         "chart-latency",        "chart-peak",       "chart-power-load",
                         "chart-cmp-throughput", "chart-cmp-energy", "chart-cmp-power",
                         "chart-cmp-instances",  "chart-cmp-cost",   "chart-nodes"};

// The opening tag of the figure with this id ("" when absent).
std::string FigureTag(const std::string& html, const std::string& id) {
  auto at = html.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  auto open = html.rfind("<figure", at);
  return html.substr(open, html.find('>', at) - open + 1);
}

nlohmann::json Plan() {
  return {{"candidates",
           {{{"name", "this machine"}, {"instances", 33}, {"cost_usd_per_million", 25.0}},
            {{"name", "inf1.2xlarge (published study)"},
             {"instances", 6},
             {"cost_usd_per_million", 2.0}}}}};
}

TEST(HtmlReport, EveryChartIsDrawnForAFullRunWithAPlan) {
  run::RunRecord r = testing::SampleRunRecord(200);
  HtmlReportOptions options;
  options.plan = Plan();
  std::string html = RenderHtmlReport({r}, options);
  for (const char* id : kCharts) {
    std::string tag = FigureTag(html, id);
    ASSERT_FALSE(tag.empty()) << id;
    EXPECT_EQ(tag.find("empty"), std::string::npos) << tag;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(tag, m, std::regex("data-points=\"(\\d+)\""))) << tag;
    EXPECT_GT(std::stoi(m[1]), 0) << id;
  }
  EXPECT_NE(html.find("table id=\"provenance\""), std::string::npos);
  EXPECT_NE(html.find("table id=\"nodes\""), std::string::npos);
}

TEST(HtmlReport, NodesTableShowsEachNodeAndTheirSum) {
  run::RunRecord r = testing::SampleRunRecord(20);
  std::string html = RenderHtmlReport({r});
  const auto table = html.substr(html.find("<table id=\"nodes\""));
  const std::string rows = table.substr(0, table.find("</table>"));
  EXPECT_NE(rows.find("node07"), std::string::npos);
  EXPECT_NE(rows.find("node08"), std::string::npos);
  EXPECT_NE(rows.find("partial"), std::string::npos);
  double sum = 0;
  for (const auto& n : r.nodes) sum += n.Joules();
  EXPECT_NE(rows.find(fmt::format("<td class=\"num\">{:.4g}</td>", sum)), std::string::npos)
      << rows;
  EXPECT_NE(rows.find("modelled: CPU-time share"), std::string::npos);
}

TEST(HtmlReport, RunsOnOneMachineHaveNoNodesSection) {
  run::RunRecord r = testing::SampleRunRecord(20);
  r.nodes.clear();
  std::string html = RenderHtmlReport({r});
  EXPECT_EQ(html.find("<h2>Nodes</h2>"), std::string::npos);
  EXPECT_TRUE(FigureTag(html, "chart-nodes").empty());
}

TEST(HtmlReport, ReadsInstancesAndCostFromThePlannersJson) {
  HtmlReportOptions options;
  options.plan = nlohmann::json::parse(R"json({"schema": "x", "candidates": [
      {"name": "g4dn.2xlarge", "results": {"instances": 33, "cost_usd_per_hour": 24.8,
                                           "cost_usd_per_million_inferences": 24.82,
                                           "energy_kwh_per_hour": 3.1}},
      {"name": "inf1.2xlarge", "results": {"instances": 6, "cost_usd_per_hour": 2.17,
                                           "cost_usd_per_million_inferences": 2.17,
                                           "energy_kwh_per_hour": 0.25}}]})json");
  std::string html = RenderHtmlReport({testing::SampleRunRecord(5)}, options);
  EXPECT_EQ(FigureTag(html, "chart-cmp-instances").find("empty"), std::string::npos);
  EXPECT_EQ(FigureTag(html, "chart-cmp-cost").find("empty"), std::string::npos);
  EXPECT_NE(html.find("cost_usd_per_million_inferences"), std::string::npos);
  EXPECT_NE(html.find("6 (-82 %)"), std::string::npos);  // the study's instance change
}

TEST(HtmlReport, WithoutAPlanInstancesAndCostSayWhatTheyNeed) {
  std::string html = RenderHtmlReport({testing::SampleRunRecord(20)});
  std::string tag = FigureTag(html, "chart-cmp-cost");
  EXPECT_NE(tag.find("empty"), std::string::npos) << tag;
  EXPECT_NE(html.find("Needs a plan"), std::string::npos);
}

TEST(HtmlReport, RunNameIsTextNotMarkup) {
  run::RunRecord r = testing::SampleRunRecord(20);
  r.name = "<script>alert(1)</script>";
  r.config["workload"] = "\"><img src=x onerror=alert(2)>";
  std::string html = RenderHtmlReport({r});
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  // Exactly one script element: the report's own.
  std::size_t scripts = 0;
  for (auto at = html.find("<script"); at != std::string::npos; at = html.find("<script", at + 1)) {
    ++scripts;
  }
  EXPECT_EQ(scripts, 1u);
}

TEST(HtmlReport, ShadesWarmUpAndMeasurementWindow) {
  run::RunRecord r = testing::SampleRunRecord(50);
  std::string html = RenderHtmlReport({r});
  EXPECT_NE(html.find("band band-warmup"), std::string::npos);
  EXPECT_NE(html.find("band band-measurement"), std::string::npos);
  EXPECT_NE(html.find("steady-state measurement"), std::string::npos);
}

TEST(HtmlReport, PeakChartDrawsTheLoadGeneratorsBoundAndNoEmptyLegendEntries) {
  run::RunRecord with_probes = testing::SampleRunRecord(50);
  with_probes.config["loadgen"] = {{"server_target_latency_ns", 100'000'000}};
  run::RunRecord without_probes = testing::SampleRunRecord(50);
  without_probes.name = "training";
  without_probes.peak_probes.clear();
  const std::string html = RenderHtmlReport({with_probes, without_probes}, {});
  const auto begin = html.find("id=\"chart-peak\"");
  ASSERT_NE(begin, std::string::npos);
  const std::string chart = html.substr(begin, html.find("</figure>", begin) - begin);
  EXPECT_NE(chart.find("latency bound 0.1 s"), std::string::npos);
  EXPECT_NE(chart.find("meets the bound"), std::string::npos);
  EXPECT_EQ(chart.find("training"), std::string::npos);  // no probes: not in the legend
}

TEST(HtmlReport, ProvenanceTableNamesMeasuredModelledAndGiven) {
  HtmlReportOptions options;
  options.plan = Plan();
  std::string html = RenderHtmlReport({testing::SampleRunRecord(5)}, options);
  EXPECT_NE(html.find("<tr class=\"modelled\">"), std::string::npos);
  EXPECT_NE(html.find("ccf-2026 coefficients (0.001 kWh/GB)"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"measured\">"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"given\">"), std::string::npos);
}

TEST(HtmlReport, DifferentWorkloadsAreFlaggedInTheReport) {
  run::RunRecord a = testing::SampleRunRecord(5);
  run::RunRecord b = a;
  b.id = "r-0002";
  b.config["workload"] = "bert-large";
  std::string html = RenderHtmlReport({a, b});
  EXPECT_NE(html.find("Not like for like"), std::string::npos);
  EXPECT_NE(html.find("different workloads"), std::string::npos);
}

TEST(DownsamplePower, KeepsEnergyPerBucketAndCapsThePoints) {
  std::vector<double> t, j;
  for (int i = 0; i <= 10000; ++i) {
    t.push_back(0.01 * i);
    // 10 W for the first half, 30 W after.
    j.push_back(i <= 5000 ? 10 * t.back() : 50 + 30 * (t.back() - 50));
  }
  auto [x, y] = DownsamplePower(t, j, 100);
  ASSERT_LE(x.size(), 100u);
  ASSERT_GE(x.size(), 90u);
  EXPECT_NEAR(y.front(), 10.0, 1e-9);
  EXPECT_NEAR(y.back(), 30.0, 1e-9);
  auto [x_all, y_all] = DownsamplePower(t, j, 1000000);
  EXPECT_EQ(x_all.size(), 10000u);  // one point per interval when they fit
}

TEST(DownsamplePower, BreaksTheLineAtAGapAndDrawsNothingInsideIt) {
  std::vector<double> t, j;
  double joules = 0;
  for (int i = 0; i <= 1000; ++i) {
    t.push_back(0.01 * i);
    // 10 W, except that the series is flat over the gap from 4 s to 6 s (not measured).
    if (i > 0 && !(t.back() > 4.0 && t.back() <= 6.0)) joules += 10 * 0.01;
    j.push_back(joules);
  }
  auto [x, y] = DownsamplePower(t, j, 50, {{4.0, 6.0}});
  int breaks = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(y[i])) {
      ++breaks;
      continue;
    }
    EXPECT_NEAR(y[i], 10.0, 1e-9) << x[i];  // never the 0 W of the flat gap
    EXPECT_FALSE(x[i] > 4.0 && x[i] < 6.0) << x[i];
  }
  EXPECT_EQ(breaks, 1);
  EXPECT_LE(x.size(), 52u);
}

TEST(HtmlReport, GapIsShadedAndNamedOnThePowerChart) {
  run::RunRecord r = testing::SampleRunRecord(200);
  r.timeline.gaps = {{"rapl/package-0", 0.5, 0.8, "read failed: energy_uj does not hold a number",
                      false, false, false},
                     {"model/network", 1.2, 1.99, "lost: the GPU is lost", false, true, true}};
  const std::string html = RenderHtmlReport({r});
  const std::string power = html.substr(html.find("id=\"chart-power\""));
  EXPECT_NE(power.find("band band-gap"), std::string::npos);
  EXPECT_NE(power.find("gap rapl/package-0: read failed: energy_uj does not hold a number"),
            std::string::npos);
  EXPECT_NE(power.find("lost model/network: lost: the GPU is lost"), std::string::npos);
}

}  // namespace
}  // namespace joulebench::report
