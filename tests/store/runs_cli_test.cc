// `joulebench runs ...` and `joulebench compare` against databases the tests fill through the
// store library.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "joulebench/store/run_store.h"
#include "support/run_cli.h"
#include "support/sample_run_record.h"
#include "support/temp_dir.h"

namespace joulebench::store {
namespace {

using testing::RunJoulebench;
using testing::SampleRunRecord;

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

class RunsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = (dir_.path() / "runs.db").string();
    RunStore store = RunStore::Open(db_);
    run::RunRecord a = SampleRunRecord(30);
    a.name = "first";
    a.kind = "infer";
    a.start_unix_s = 1795944600;  // 2026-11-29T09:30:00Z
    run::RunRecord b = SampleRunRecord(30);
    b.name = "second";
    b.kind = "train";
    b.start_unix_s = 1796031000;  // a day later
    b.config["workload"] = "bert-large";
    id_a_ = store.Save(a);
    id_b_ = store.Save(b);
  }
  testing::TempDir dir_;
  std::string db_;
  std::string id_a_, id_b_;
};

TEST_F(RunsCli, ListShowsEveryRunNewestFirst) {
  auto r = RunJoulebench({"runs", "list", "--db", db_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountLines(r.out), 3);  // header + 2 runs
  EXPECT_LT(r.out.find("second"), r.out.find("first"));
  EXPECT_NE(r.out.find("2026-11-29T09:30:00Z"), std::string::npos) << r.out;
}

TEST_F(RunsCli, ListFiltersByKindAndSinceAndPrintsJson) {
  auto r = RunJoulebench({"runs", "list", "--db", db_, "--kind", "infer", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "first");
  EXPECT_EQ(j[0]["status"], "complete");
  auto since = RunJoulebench({"runs", "list", "--db", db_, "--since", "2026-11-30", "--json"});
  ASSERT_EQ(since.exit_code, 0) << since.err;
  auto js = nlohmann::json::parse(since.out);
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0]["name"], "second");
  auto bad = RunJoulebench({"runs", "list", "--db", db_, "--since", "yesterday"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--since"), std::string::npos) << bad.err;
}

TEST_F(RunsCli, ListOfAMissingDatabaseSaysNoRunsAndCreatesNothing) {
  auto path = dir_.path() / "nothing.db";
  auto r = RunJoulebench({"runs", "list", "--db", path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "No runs stored.\n");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(RunsCli, ShowJsonIsTheRunDocument) {
  auto r = RunJoulebench({"runs", "show", id_a_, "--db", db_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto back = run::RunRecordFromJson(nlohmann::json::parse(r.out));
  auto expected = SampleRunRecord(30);
  expected.name = "first";
  expected.kind = "infer";
  expected.start_unix_s = 1795944600;
  expected.id = id_a_;
  testing::ExpectSameRunRecord(expected, back);
}

TEST_F(RunsCli, ShowTextNamesProvenanceOfEachDomain) {
  auto r = RunJoulebench({"runs", "show", id_a_, "--db", db_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("modelled: ccf-2026 coefficients (0.001 kWh/GB)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("measured: powercap RAPL intel-rapl:0"), std::string::npos);
}

TEST_F(RunsCli, ExportCsvHasTheWholeTimeline) {
  std::string id = RunStore::Open(db_).Save(SampleRunRecord(30));
  auto r = RunJoulebench({"runs", "export", id, "--db", db_, "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto at = r.out.find("# timeline\n");
  ASSERT_NE(at, std::string::npos);
  std::string timeline = r.out.substr(at);
  EXPECT_EQ(CountLines(timeline), 2 + 30);  // marker, header, 30 samples
  // The run's name has quotes: quoted per RFC 4180.
  EXPECT_NE(r.out.find("\"<script>alert(1)</script> layoutlm \"\"base\"\" 'q' & co\""),
            std::string::npos);
}

TEST_F(RunsCli, ExportJsonOfSeveralRunsIsAnArray) {
  auto out = dir_.path() / "export.json";
  auto r = RunJoulebench({"runs", "export", id_a_, id_b_, "--db", db_, "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(testing::ReadFile(out));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["name"], "second");
  EXPECT_EQ(j[1]["timeline"]["time_s"].size(), 30u);
}

TEST_F(RunsCli, DeleteRemovesTheRun) {
  auto r = RunJoulebench({"runs", "delete", id_a_, "--db", db_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto list = RunJoulebench({"runs", "list", "--db", db_, "--json"});
  auto j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["id"], id_b_);
}

TEST_F(RunsCli, UnknownIdIsOneLineAndChangesNothing) {
  std::string before = testing::ReadFile(db_);
  for (auto args : std::vector<std::vector<std::string>>{{"runs", "show", "99"},
                                                         {"runs", "export", id_a_, "99"},
                                                         {"runs", "delete", id_a_, "99"},
                                                         {"compare", id_a_, "99"},
                                                         {"runs", "show", "abc"}}) {
    args.insert(args.end(), {"--db", db_});
    auto r = RunJoulebench(args);
    EXPECT_EQ(r.exit_code, 2) << args[1];
    EXPECT_EQ(CountLines(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("joulebench: error: ", 0), 0u) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_EQ(RunStore::OpenExisting(db_).List().size(), 2u);
}

TEST_F(RunsCli, RunInProgressIsRefusedByShowExportDeleteAndCompare) {
  RunStore store = RunStore::Open(db_);
  RunWriter writer = store.BeginRun(SampleRunRecord(5));  // this process is alive: in progress
  for (auto args : std::vector<std::vector<std::string>>{{"runs", "show", writer.id()},
                                                         {"runs", "export", writer.id()},
                                                         {"runs", "delete", writer.id()},
                                                         {"compare", id_a_, writer.id()}}) {
    args.insert(args.end(), {"--db", db_});
    auto r = RunJoulebench(args);
    EXPECT_EQ(r.exit_code, 2) << args[1];
    EXPECT_NE(r.err.find("still in progress"), std::string::npos) << r.err;
    EXPECT_EQ(CountLines(r.err), 1) << r.err;
  }
  auto list = RunJoulebench({"runs", "list", "--db", db_, "--json"});
  bool listed = false;
  for (const auto& run : nlohmann::json::parse(list.out)) {
    if (run["id"] == writer.id()) {
      listed = true;
      EXPECT_EQ(run["status"], "running");
    }
  }
  EXPECT_TRUE(listed);
}

TEST_F(RunsCli, BadDatabasesAreOneLineErrors) {
  auto corrupt = dir_.Write("corrupt.db", std::string(4096, 'x'));
  auto missing_dir = dir_.path() / "no" / "such" / "runs.db";
  for (const auto& db : {corrupt.string(), missing_dir.string()}) {
    for (auto args :
         std::vector<std::vector<std::string>>{{"runs", "list"}, {"runs", "show", "1"}}) {
      args.insert(args.end(), {"--db", db});
      auto r = RunJoulebench(args);
      EXPECT_NE(r.exit_code, 0) << db;
      EXPECT_EQ(CountLines(r.err), 1) << r.err;
      EXPECT_TRUE(r.out.empty() || r.out == "No runs stored.\n") << r.out;
    }
  }
  EXPECT_EQ(testing::ReadFile(corrupt), std::string(4096, 'x'));
  // JOULEBENCH_DB is honoured like --db.
  auto r = RunJoulebench({"runs", "list", "--json"}, {"JOULEBENCH_DB=" + db_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 2u);
}

TEST_F(RunsCli, CompareOfDifferentWorkloadsIsFlagged) {
  auto r = RunJoulebench({"compare", id_a_, id_b_, "--db", db_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["comparable"].get<bool>());
  std::string flags = j["flags"].dump();
  EXPECT_NE(flags.find("different workloads"), std::string::npos) << flags;
  EXPECT_NE(flags.find("layoutlm-base"), std::string::npos) << flags;
  EXPECT_NE(flags.find("bert-large"), std::string::npos) << flags;
  EXPECT_NE(r.err.find("not like for like"), std::string::npos) << r.err;
  auto text = RunJoulebench({"compare", id_a_, id_b_, "--db", db_});
  EXPECT_EQ(text.out.rfind("NOT LIKE FOR LIKE: ", 0), 0u) << text.out;
}

TEST_F(RunsCli, CompareOfLikeRunsGivesRatiosAgainstTheFirst) {
  RunStore store = RunStore::Open(db_);
  run::RunRecord reference = SampleRunRecord(3);
  reference.verdict = "VALID";
  run::RunRecord faster = reference;
  faster.metrics[0].value = 105.0;  // throughput, twice the sample's 52.5
  faster.metrics[1].value = 0.35;   // energy per inference, 80 % of 0.4375
  std::string id_ref = store.Save(reference);
  std::string id = store.Save(faster);
  auto r = RunJoulebench({"compare", id_ref, id, "--db", db_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["comparable"].get<bool>()) << j["flags"];
  bool saw_throughput = false, saw_energy = false;
  for (const auto& q : j["quantities"]) {
    if (q["name"] == "throughput") {
      saw_throughput = true;
      EXPECT_DOUBLE_EQ(q["values"][1]["ratio"].get<double>(), 2.0);
      EXPECT_DOUBLE_EQ(q["values"][1]["change_percent"].get<double>(), 100.0);
    }
    if (q["name"] == "energy per inference") {
      saw_energy = true;
      EXPECT_NEAR(q["values"][1]["change_percent"].get<double>(), -20.0, 1e-9);
      EXPECT_EQ(q["values"][1]["provenance"], "measured: powercap RAPL intel-rapl:0");
    }
  }
  EXPECT_TRUE(saw_throughput);
  EXPECT_TRUE(saw_energy);
}

}  // namespace
}  // namespace joulebench::store
