// A sensor that fails mid-run, end to end: `measure` with a GPU that NVML loses after a few
// reads (the fake libnvidia-ml.so) next to a powercap package. The run goes on; the terminal,
// the JSON, the stored run and the HTML report all show the gap and leave the lost GPU out of
// the total instead of interpolating it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/fake_machine.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench::testing {
namespace {

using json = nlohmann::json;

struct LostGpuMachine {
  FakeMachine m;
  std::filesystem::path nvml_config = m.dir.Write(
      "nvml.conf", "count=1\ngpu0.arch=7\ngpu0.energy_mj=1000\ngpu0.energy_step_mj=500\n");
  // The probe reads the counter once; the sampler every 20 ms: lost after about 0.2 s.
  std::vector<std::string> env = {"JOULEBENCH_FAKE_NVML_CONFIG=" + nvml_config.string(),
                                  "JOULEBENCH_FAKE_NVML_LOST_AFTER=10"};
  std::vector<std::string> Args(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"measure",        "--interval",
                                     "20ms",           "--db",
                                     m.db(),           "--quiet",
                                     "--sysfs-root",   (m.dir.path() / "sys").string(),
                                     "--procfs-root",  (m.dir.path() / "proc").string(),
                                     "--nvml-library", FakeLibraryPath("fake_nvml"),
                                     "--disable",      "neuron",
                                     "--disable",      "model"};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const std::string a : {"--", "sleep", "0.6"}) args.push_back(a);
    return args;
  }
};

const json& DomainOf(const json& report, const std::string& name) {
  for (const auto& d : report.at("domains")) {
    const json& info = d.contains("domain") ? d.at("domain") : d;
    if (info.at("name") == name) return d;
  }
  throw std::runtime_error("no domain " + name + " in " + report.dump());
}

TEST(SensorFaultsCli, LostGpuIsLeftOutOfTheTotalInJsonStoreAndReport) {
  LostGpuMachine g;
  StoringOn storing;
  const ProcessResult r = RunJoulebench(g.Args({"--json"}), g.env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json out = json::parse(r.out);
  const json& measurement = out.at("measurement");
  const json& gpu = DomainOf(measurement, "nvml/gpu0");
  EXPECT_TRUE(gpu.at("excluded_from_total").get<bool>());
  EXPECT_FALSE(gpu.at("in_total").get<bool>());
  EXPECT_TRUE(gpu.contains("lost_at_s"));
  EXPECT_GT(gpu.at("unmeasured_s").get<double>(), 0.2);
  ASSERT_EQ(gpu.at("gaps").size(), 1u);
  EXPECT_TRUE(gpu.at("gaps")[0].at("lost").get<bool>());
  EXPECT_EQ(measurement.at("total_domains"), json({"rapl/package-0"}));
  EXPECT_EQ(measurement.at("excluded_domains"), json({"nvml/gpu0"}));
  EXPECT_FALSE(measurement.at("total_complete").get<bool>());
  EXPECT_EQ(DomainOf(measurement, "rapl/package-0").at("unmeasured_s").get<double>(), 0);

  // Stored: the timeline's gap, and the window's report with the same verdict.
  const std::string id = StoredRunId(r.err);
  ASSERT_FALSE(id.empty()) << r.err;
  const ProcessResult show = RunJoulebench({"runs", "show", id, "--json", "--db", g.m.db()});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const json run = json::parse(show.out);
  const json& gaps = run.at("timeline").at("gaps");
  ASSERT_EQ(gaps.size(), 1u) << gaps.dump();
  EXPECT_EQ(gaps[0].at("domain"), "nvml/gpu0");
  EXPECT_TRUE(gaps[0].at("lost").get<bool>());
  EXPECT_NE(gaps[0].at("reason").get<std::string>().find("NVML_ERROR_GPU_IS_LOST"),
            std::string::npos);
  bool stored_report = false;
  for (const auto& e : run.at("energy")) {
    if (e.at("name") != "measurement") continue;
    stored_report = true;
    EXPECT_TRUE(DomainOf(e, "nvml/gpu0").at("excluded_from_total").get<bool>());
    EXPECT_FALSE(e.at("total_complete").get<bool>());
  }
  EXPECT_TRUE(stored_report);
  const ProcessResult text = RunJoulebench({"runs", "show", id, "--db", g.m.db()});
  EXPECT_NE(text.out.find("gap in nvml/gpu0"), std::string::npos) << text.out;

  // The HTML report shades the gap and breaks the GPU's line there.
  const std::string html_path = (g.m.dir.path() / "report.html").string();
  const ProcessResult report = RunJoulebench({"report", id, "-o", html_path, "--db", g.m.db()});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::string html = ReadFile(html_path);
  EXPECT_NE(html.find("band-gap"), std::string::npos);
  EXPECT_NE(html.find("lost nvml/gpu0"), std::string::npos);
  EXPECT_NE(html.find("(incomplete)"), std::string::npos);
}

TEST(SensorFaultsCli, TerminalTableMarksTheLostDomainAndTheIncompleteTotal) {
  LostGpuMachine g;
  const ProcessResult r = RunJoulebench(g.Args({"--no-store"}), g.env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Lost within the window: measured until then, lost from then on.
  EXPECT_NE(r.out.find("[measured over "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("; lost at "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(lost: not added to the total)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(incomplete: leaves out nvml/gpu0 (lost))"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("warning: window 'measurement': the total leaves out nvml/gpu0"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace joulebench::testing
