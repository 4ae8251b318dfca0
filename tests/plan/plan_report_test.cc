#include "joulebench/plan/plan_report.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

namespace joulebench::plan {
namespace {

// The table whose header row starts with `header_prefix`, as cells[row label][column name]:
// cells are separated by two or more spaces, the table ends at the first empty line.
std::map<std::string, std::map<std::string, std::string>> TableCells(
    const std::string& text, const std::string& header_prefix) {
  std::istringstream in(text);
  std::string line;
  const std::regex gap(" {2,}");
  auto split = [&](const std::string& l) {
    return std::vector<std::string>(std::sregex_token_iterator(l.begin(), l.end(), gap, -1),
                                    std::sregex_token_iterator());
  };
  std::vector<std::string> columns;
  std::map<std::string, std::map<std::string, std::string>> cells;
  while (std::getline(in, line)) {
    line.erase(0, line.find_first_not_of(' ') == std::string::npos ? line.size()
                                                                   : line.find_first_not_of(' '));
    if (columns.empty()) {
      if (line.rfind(header_prefix, 0) == 0) columns = split(line);
      continue;
    }
    if (line.empty()) break;
    const auto row = split(line);
    for (std::size_t i = 1; i < row.size() && i < columns.size(); ++i) {
      cells[row[0]][columns[i]] = row[i];
    }
  }
  return cells;
}

CarbonInputs Carbon() {
  return CarbonInputs{"test-1", Sourced{400, "given"}, Sourced{1.2, "given"}};
}

InferenceCandidate Inference(std::string name, double throughput, double watts,
                             std::optional<double> price) {
  InferenceCandidate c;
  c.name = std::move(name);
  c.throughput_per_s = Sourced{throughput, "given"};
  c.power = PowerCurve::PeakOnly(watts, "given");
  if (price)
    c.price_usd_per_hour = Sourced{*price, "given"};
  else
    c.price_missing_reason = "no price given";
  return c;
}

TrainingCandidate Training(std::string name, double sequences_per_s, double watts,
                           std::optional<double> price) {
  TrainingCandidate c;
  c.name = std::move(name);
  c.sequences_per_s = Sourced{sequences_per_s, "given"};
  c.watts = Sourced{watts, "given"};
  if (price)
    c.price_usd_per_hour = Sourced{*price, "given"};
  else
    c.price_missing_reason = "no price given";
  return c;
}

// As in `study`: this machine has no price and comes first; a priced candidate follows; the
// priced baseline is last. 100/s: this machine 10 x 100 W, inf1 2 x 50 W ($2/h), g4dn 10 x
// 200 W ($20/h).
InferencePlan StudyLikeInferencePlan() {
  InferenceRequest request;
  request.rate_per_s = 100;
  request.carbon = Carbon();
  return PlanInference(request, {Inference("this machine", 10, 100, std::nullopt),
                                 Inference("inf1", 50, 50, 1.0), Inference("g4dn", 10, 200, 2.0)});
}

TEST(InferencePlanTable, ChangeRowsAreMatchedByMetricWhenTheFirstCandidateHasNoPrice) {
  const auto table = TableCells(RenderTable(StudyLikeInferencePlan()), "change against g4dn");
  ASSERT_TRUE(table.contains("cost per million inferences"))
      << RenderTable(StudyLikeInferencePlan());
  EXPECT_EQ(table.at("cost per million inferences").at("this machine"), "-");
  EXPECT_EQ(table.at("cost per million inferences").at("inf1"), "-90 %");  // $2 vs $20 per hour
  EXPECT_EQ(table.at("CO2e").at("this machine"), "-50 %");                 // 1 kW vs 2 kW
  EXPECT_EQ(table.at("CO2e").at("inf1"), "-95 %");                         // 0.1 kW vs 2 kW
  EXPECT_EQ(table.at("energy").at("inf1"), "-95 %");
  EXPECT_EQ(table.at("instances").at("inf1"), "-80 %");
  EXPECT_EQ(table.at("throughput per instance").at("inf1"), "5.00x");
  EXPECT_EQ(table.size(), 5u);
}

TEST(InferencePlanTable, CostRowFollowsEnergyAsInThePricedCandidates) {
  const std::string text = RenderTable(StudyLikeInferencePlan());
  const auto at = text.find("change against g4dn");
  ASSERT_NE(at, std::string::npos);
  const auto energy = text.find("\n  energy ", at);
  const auto cost = text.find("\n  cost per million inferences ", at);
  const auto co2e = text.find("\n  CO2e ", at);
  ASSERT_NE(cost, std::string::npos);
  EXPECT_LT(energy, cost);
  EXPECT_LT(cost, co2e);
}

TEST(InferencePlanCsv, ChangesAreTheCandidatesOwn) {
  const std::string csv = ToCsv(StudyLikeInferencePlan());
  // cost_per_million_change_percent is the 20th column; empty for the unpriced candidate.
  auto column = [&](const std::string& name, int index) {
    const auto begin = csv.find("\n" + name + ",");
    std::string row = csv.substr(begin + 1, csv.find('\n', begin + 1) - begin - 1);
    std::vector<std::string> cells;
    std::stringstream in(row);
    std::string cell;
    while (std::getline(in, cell, ',')) cells.push_back(cell);
    return index < static_cast<int>(cells.size()) ? cells[index] : std::string();
  };
  EXPECT_EQ(column("this machine", 19), "");
  EXPECT_NEAR(std::stod(column("inf1", 19)), -90, 1e-9);
}

// 7,200 sequences on one instance: this machine 2 h at 100 W (no price), trn1 0.5 h at 400 W
// ($10/h), p4d 1 h at 300 W ($30/h).
TrainingPlan StudyLikeTrainingPlan(double sequences = 7200) {
  TrainingRequest request;
  request.total_sequences = sequences;
  request.instances = 1;
  request.carbon = Carbon();
  return PlanTraining(request, {Training("this machine", 1, 100, std::nullopt),
                                Training("trn1", 4, 400, 10), Training("p4d", 2, 300, 30)});
}

TEST(TrainingPlanTable, ChangeRowsAreMatchedByMetricWhenTheFirstCandidateHasNoPrice) {
  const auto table = TableCells(RenderTable(StudyLikeTrainingPlan()), "change against p4d");
  ASSERT_TRUE(table.contains("cost per training run")) << RenderTable(StudyLikeTrainingPlan());
  EXPECT_EQ(table.at("cost per training run").at("this machine"), "-");
  EXPECT_EQ(table.at("cost per training run").at("trn1"), "-83 %");  // $5 vs $30
  EXPECT_EQ(table.at("CO2e").at("this machine"), "-33 %");           // 0.2 vs 0.3 kWh
  EXPECT_EQ(table.at("CO2e").at("trn1"), "-33 %");
  EXPECT_EQ(table.at("time to train").at("this machine"), "+100 %");
  EXPECT_EQ(table.at("time to train").at("trn1"), "-50 %");
  EXPECT_EQ(table.size(), 5u);
}

TEST(TrainingPlanTable, TimeToTrainUsesTheSignificantFigureRule) {
  // This machine at 1 sequence/s takes 4,114.8 h; the others 1,028.7 h and 2,057.4 h.
  const auto table = TableCells(RenderTable(StudyLikeTrainingPlan(4114.8 * 3600)), "per candidate");
  const auto& hours = table.at("time to train [h]");
  EXPECT_EQ(hours.at("this machine"), "4,115");
  EXPECT_EQ(hours.at("trn1"), "1,029");
  EXPECT_EQ(hours.at("p4d (1x)"), "2,057");
  const auto small = TableCells(RenderTable(StudyLikeTrainingPlan()), "per candidate");
  EXPECT_EQ(small.at("time to train [h]").at("trn1"), "0.500");
  EXPECT_EQ(small.at("time to train [h]").at("this machine"), "2.000");
}

TEST(TrainingPlanTable, ChangesKeepTheirSignificantDigits) {
  // As in `study --quick` on a 2-core machine: a thousandth of the baseline's throughput.
  TrainingRequest request;
  request.total_sequences = 7200;
  request.instances = 1;
  request.carbon = Carbon();
  const auto plan =
      PlanTraining(request, {Training("this machine", 0.0024, 1.0, std::nullopt),
                             Training("close", 1.996, 300, 30), Training("p4d", 2, 300, 30)});
  const auto table = TableCells(RenderTable(plan), "change against p4d");
  EXPECT_EQ(table.at("throughput (sequences per hour per instance)").at("this machine"), "0.0012x")
      << RenderTable(plan);
  EXPECT_EQ(table.at("time to train").at("this machine"), "+83,233 %");  // 2/0.0024 - 1
  EXPECT_EQ(table.at("time to train").at("close"), "+0.2 %");            // 2/1.996 - 1
  EXPECT_EQ(table.at("throughput (sequences per hour per instance)").at("close"), "1.00x");
}

}  // namespace
}  // namespace joulebench::plan
