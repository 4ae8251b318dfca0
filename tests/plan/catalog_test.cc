#include "joulebench/plan/catalog.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "joulebench/error.h"
#include "joulebench/plan/carbon_data.h"
#include "support/temp_dir.h"

namespace joulebench::plan {
namespace {

const std::filesystem::path kData = std::filesystem::path(JOULEBENCH_SOURCE_DIR) / "data";

Catalog BuiltIn() {
  return Catalog::Load(kData / "instances.csv", kData / "instance_power_curves.csv",
                       kData / "gpu_power.csv");
}

TEST(Catalog, HoldsTheStudysFourMachinesWithTheirPrices) {
  const Catalog catalog = BuiltIn();
  EXPECT_DOUBLE_EQ(catalog.Find("inf1.2xlarge").price->usd_per_hour, 0.362);
  EXPECT_DOUBLE_EQ(catalog.Find("g4dn.2xlarge").price->usd_per_hour, 0.752);
  EXPECT_DOUBLE_EQ(catalog.Find("trn1.32xlarge").price->usd_per_hour, 21.50);
  EXPECT_DOUBLE_EQ(catalog.Find("p4d.24xlarge").price->usd_per_hour, 32.7726);
  EXPECT_EQ(catalog.Find("p4d.24xlarge").price->region, "us-east-1");
  EXPECT_EQ(catalog.Find("p4d.24xlarge").accelerator->count, 8);
  EXPECT_EQ(catalog.Find("p4d.24xlarge").accelerator->kind, "NVIDIA A100");
  EXPECT_DOUBLE_EQ(*catalog.Find("p4d.24xlarge").accelerator->board_watts, 400);
  EXPECT_EQ(catalog.Find("g4dn.2xlarge").cpu_family, "Cascade Lake");
  EXPECT_EQ(catalog.Find("trn1.32xlarge").vcpus, 128);
}

TEST(Catalog, EveryPricedMachineHasSourceAndDate) {
  const Catalog catalog = BuiltIn();
  for (const char* name :
       {"inf1.xlarge", "inf2.48xlarge", "trn1n.32xlarge", "g5.48xlarge", "p3.16xlarge",
        "p5.48xlarge", "c7g.xlarge", "c6i.xlarge", "m7g.xlarge"}) {
    EXPECT_NE(catalog.TryFind(name), nullptr) << name;
  }
  for (const auto& m : catalog.machines()) {
    EXPECT_FALSE(m.source.empty()) << m.name;
    EXPECT_FALSE(m.date.empty()) << m.name;
  }
}

TEST(Catalog, PublishedCurveIsUsedWithItsCaveat) {
  const Catalog catalog = BuiltIn();
  const MachineType& g4dn = catalog.Find("g4dn.2xlarge");
  ASSERT_TRUE(g4dn.power_curve);
  EXPECT_EQ(g4dn.power_curve->kind(), CurveKind::kCatalog);
  EXPECT_DOUBLE_EQ(g4dn.power_curve->WattsAt(0.5), 100.0);
  EXPECT_DOUBLE_EQ(g4dn.power_curve->PeakWatts(), 136.7);
  EXPECT_NE(catalog.Find("inf1.2xlarge").power_curve_note.find("Inferentia"), std::string::npos);
  EXPECT_FALSE(catalog.Find("trn1.32xlarge").power_curve);
}

TEST(Catalog, UnknownTypeSuggestsTheClosestNames) {
  const Catalog catalog = BuiltIn();
  try {
    catalog.Find("inf1.2xlarg");
    FAIL();
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("closest in the catalog: inf1.2xlarge"), std::string::npos) << message;
  }
  EXPECT_EQ(catalog.Closest("g4dn.2xlrage", 1).front(), "g4dn.2xlarge");
}

TEST(Catalog, EditDistanceCountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("P4D.24XLARGE", "p4d.24xlarge"), 0u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
}

TEST(Catalog, UserFileOverridesOnlyTheFieldsItFillsAndAddsMachines) {
  testing::TempDir dir;
  const auto file = dir.Write("mine.csv",
                              "name,price_usd_per_hour,price_region,pricing_model,price_date,"
                              "watts_idle,watts_50pct,watts_100pct,source\n"
                              "g4dn.2xlarge,0.5,eu-west-1,reserved 1y,2026-01-01,,,,my quote\n"
                              "box.large,1.25,,,,40,70,90,own measurement\n");
  Catalog catalog = BuiltIn();
  catalog.MergeFile(file);
  const MachineType& g4dn = catalog.Find("g4dn.2xlarge");
  EXPECT_DOUBLE_EQ(g4dn.price->usd_per_hour, 0.5);
  EXPECT_EQ(g4dn.price->pricing_model, "reserved 1y");
  EXPECT_EQ(g4dn.vcpus, 8);                                // kept
  EXPECT_DOUBLE_EQ(g4dn.power_curve->PeakWatts(), 136.7);  // kept
  const MachineType& box = catalog.Find("box.large");
  EXPECT_DOUBLE_EQ(box.power_curve->WattsAt(0.75), 80);
  EXPECT_EQ(box.source, "own measurement");
}

TEST(Catalog, ParseErrorNamesFileLineAndField) {
  testing::TempDir dir;
  const auto file = dir.Write("bad.csv",
                              "name,price_usd_per_hour,source\n"
                              "a.large,0.5,quote\n"
                              "b.large,cheap,quote\n");
  Catalog catalog = BuiltIn();
  try {
    catalog.MergeFile(file);
    FAIL();
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("bad.csv:3: field 'price_usd_per_hour': 'cheap' is not a number"),
              std::string::npos)
        << message;
  }
}

TEST(Catalog, ACountOfVcpusOrAcceleratorsMustBeAWholeNumberAMachineCanHave) {
  // 1e300 vCPUs was converted to int: undefined behaviour (UBSan float-cast-overflow).
  Catalog catalog = BuiltIn();
  try {
    catalog.MergeText("name,vcpus,source\nhuge.metal,1e300,quote\n", "huge.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("huge.csv:2: field 'vcpus': 1e300 is not a whole number"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(catalog.MergeText("name,vcpus,source\nx,2.5,q\n", "a.csv"), InputError);
  EXPECT_THROW(
      catalog.MergeText("name,accelerator,accelerator_count,source\nx,T4,1e10,q\n", "b.csv"),
      InputError);
  catalog.MergeText("name,vcpus,accelerator,accelerator_count,source\nx,896,T4,8,q\n", "c.csv");
  ASSERT_NE(catalog.TryFind("x"), nullptr);
  EXPECT_EQ(catalog.TryFind("x")->vcpus, 896);
  EXPECT_EQ(catalog.TryFind("x")->accelerator->count, 8);
}

TEST(Catalog, UserRowsMustSaySource) {
  testing::TempDir dir;
  Catalog catalog = BuiltIn();
  EXPECT_THROW(catalog.MergeFile(dir.Write("a.csv", "name,price_usd_per_hour\nx,1\n")), InputError);
  try {
    catalog.MergeFile(dir.Write("b.csv", "name,price_usd_per_hour,source\nx,1,\n"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("b.csv:2: field 'source'"), std::string::npos);
  }
}

TEST(Catalog, QuotedFieldsMayHoldCommas) {
  testing::TempDir dir;
  Catalog catalog = BuiltIn();
  catalog.MergeFile(dir.Write("q.csv", "name,vcpus,source\nq.large,4,\"vendor sheet, p. 3\"\n"));
  EXPECT_EQ(catalog.Find("q.large").source, "vendor sheet, p. 3");
}

TEST(GridIntensity, FindsARegionAndListsTheRegionsWhenAbsent) {
  const auto grid = GridIntensityTable::Load(kData / "grid_intensity.csv");
  EXPECT_DOUBLE_EQ(grid.Find("us-east-1").g_co2e_per_kwh, 379.069);
  EXPECT_DOUBLE_EQ(grid.Find("eu-north-1").g_co2e_per_kwh, 8.8);
  try {
    grid.Find("mars-1");
    FAIL();
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'mars-1'"), std::string::npos);
    EXPECT_NE(message.find("eu-west-3"), std::string::npos);
  }
}

TEST(Constants, DefaultPueComesFromTheConstantsFile) {
  testing::TempDir dir;
  dir.Write("constants.csv", "name,value,unit,source,date\npue_aws,1.2,ratio,my dc,2026-01-01\n");
  dir.Write("cpu_coefficients_ccf.csv", testing::ReadFile(kData / "cpu_coefficients_ccf.csv"));
  ::setenv("JOULEBENCH_DATA_DIR", dir.path().c_str(), 1);
  const Sourced pue = DefaultPue();
  ::unsetenv("JOULEBENCH_DATA_DIR");
  EXPECT_DOUBLE_EQ(pue.value, 1.2);
  EXPECT_NE(pue.provenance.find("my dc"), std::string::npos);
}

TEST(Constants, MissingConstantsFileAsksForPue) {
  testing::TempDir dir;
  ::setenv("JOULEBENCH_DATA_DIR", dir.path().c_str(), 1);
  try {
    DefaultPue();
    ADD_FAILURE();
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("--pue"), std::string::npos) << e.what();
  }
  ::unsetenv("JOULEBENCH_DATA_DIR");
}

}  // namespace
}  // namespace joulebench::plan
