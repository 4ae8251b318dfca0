#include "joulebench/energy/ccf_coefficients.h"

#include <gtest/gtest.h>

#include "joulebench/error.h"
#include "support/temp_dir.h"

namespace joulebench::energy {
namespace {

TEST(CcfCoefficients, LoadsTheProjectDataFilesWithSourceAndDate) {
  const auto ccf = CcfCoefficients::Load();
  const auto& cascade = ccf.Cpu("Cascade Lake");
  EXPECT_DOUBLE_EQ(cascade.min_watts_per_vcpu, 0.64);
  EXPECT_DOUBLE_EQ(cascade.max_watts_per_vcpu, 3.97);
  EXPECT_NE(cascade.source.find("cloud-carbon-footprint"), std::string::npos);
  EXPECT_EQ(cascade.date.size(), 10u);  // YYYY-MM-DD
  EXPECT_DOUBLE_EQ(ccf.Cpu("sapphire rapids").max_watts_per_vcpu, 4.1605);
  EXPECT_DOUBLE_EQ(ccf.Cpu(CcfCoefficients::kUnknownFamily).min_watts_per_vcpu, 0.74);
  EXPECT_DOUBLE_EQ(ccf.Constant("memory"), 0.392);
  EXPECT_DOUBLE_EQ(ccf.Constant("network"), 0.001);
  EXPECT_EQ(ccf.FindConstant("network")->unit, "kWh per GB transferred");
}

TEST(CcfCoefficients, MissingConstantIsAnEnvironmentError) {
  const auto ccf = CcfCoefficients::Load();
  EXPECT_EQ(ccf.FindConstant("no-such"), nullptr);
  EXPECT_THROW(ccf.Constant("no-such"), EnvironmentError);
}

TEST(CcfCoefficients, MalformedNumberNamesFileLineAndColumn) {
  testing::TempDir dir;
  auto cpu = dir.Write("cpu.csv",
                       "microarchitecture,min_watts_per_vcpu,max_watts_per_vcpu,"
                       "memory_gb_per_chip,source,date\n"
                       "Skylake,0.65,4.26,81.32,ccf,2026-11-29\n"
                       "Haswell,one,4.74,27.71,ccf,2026-11-29\n");
  auto constants = dir.Write("constants.csv", "name,value,unit,source,date\n");
  try {
    CcfCoefficients::LoadFrom(cpu, constants);
    FAIL() << "no error";
  } catch (const EnvironmentError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cpu.csv line 3"), std::string::npos) << what;
    EXPECT_NE(what.find("min_watts_per_vcpu"), std::string::npos) << what;
  }
}

TEST(CcfCoefficients, QuotedFieldsMayHoldCommas) {
  testing::TempDir dir;
  auto cpu = dir.Write("cpu.csv",
                       "microarchitecture,min_watts_per_vcpu,max_watts_per_vcpu,"
                       "memory_gb_per_chip,source,date\n");
  auto constants = dir.Write("constants.csv",
                             "name,value,unit,source,date\n"
                             "memory,0.392,watts per GB,\"CCF, methodology\",2026-11-29\n");
  const auto ccf = CcfCoefficients::LoadFrom(cpu, constants);
  EXPECT_EQ(ccf.FindConstant("memory")->source, "CCF, methodology");
}

std::string CpuInfo(const std::string& vendor, const std::string& name, int family = 0,
                    int model = 0, int stepping = 0) {
  return "processor\t: 0\nvendor_id\t: " + vendor + "\ncpu family\t: " + std::to_string(family) +
         "\nmodel\t\t: " + std::to_string(model) + "\nmodel name\t: " + name +
         "\nstepping\t: " + std::to_string(stepping) + "\n";
}

TEST(DetectCpuFamily, ReadsXeonScalableGenerationFromTheModelName) {
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel(R) Xeon(R) Platinum 8175M CPU")),
            "Skylake");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel(R) Xeon(R) Platinum 8259CL CPU")),
            "Cascade Lake");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel(R) Xeon(R) Platinum 8375C CPU")),
            "Ice Lake");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel(R) Xeon(R) Platinum 8488C")),
            "Sapphire Rapids");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel(R) Xeon(R) Gold 6248R CPU")),
            "Cascade Lake");
}

TEST(DetectCpuFamily, ReadsXeonE5VersionsAndCoreGenerations) {
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz")),
            "Broadwell");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel(R) Xeon(R) CPU E5-2676 v3 @ 2.40GHz")),
            "Haswell");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel(R) Xeon(R) CPU E5-2670 v2 @ 2.50GHz")),
            "Ivy Bridge");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz")),
            "Sandy Bridge");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz")),
            "Coffee Lake");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "12th Gen Intel(R) Core(TM) i7-12700H")),
            std::string(CcfCoefficients::kUnknownFamily));
}

TEST(DetectCpuFamily, FallsBackToIntelModelNumbers) {
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel Xeon Processor", 6, 85, 7)),
            "Cascade Lake");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel Xeon Processor", 6, 85, 4)), "Skylake");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("GenuineIntel", "Intel Xeon Processor", 6, 106, 6)),
            "Ice Lake");
}

TEST(DetectCpuFamily, ReadsEpycGenerationFromNameOrModelNumbers) {
  EXPECT_EQ(DetectCpuFamily(CpuInfo("AuthenticAMD", "AMD EPYC 7571")), "AMD EPYC 1st Gen");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("AuthenticAMD", "AMD EPYC 7R32")), "AMD EPYC 2nd Gen");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("AuthenticAMD", "AMD EPYC 7R13 Processor")),
            "AMD EPYC 3rd Gen");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("AuthenticAMD", "AMD EPYC 9R14 96-Core Processor")),
            "AMD EPYC 4th Gen");
  EXPECT_EQ(DetectCpuFamily(CpuInfo("AuthenticAMD", "AMD EPYC", 25, 1)), "AMD EPYC 3rd Gen");
  // Zen 5 (family 0x1a) is not in the table.
  EXPECT_EQ(DetectCpuFamily(CpuInfo("AuthenticAMD", "AMD EPYC", 26, 2)),
            std::string(CcfCoefficients::kUnknownFamily));
}

TEST(DetectCpuFamily, ReadsGravitonFromTheArmCpuPart) {
  const std::string n1 =
      "processor\t: 0\nBogoMIPS\t: 243.75\nCPU implementer\t: 0x41\n"
      "CPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\n";
  EXPECT_EQ(DetectCpuFamily(n1), "AWS Graviton2");
  const std::string v1 = "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd40\n";
  EXPECT_EQ(DetectCpuFamily(v1), "AWS Graviton3");
  EXPECT_EQ(DetectCpuFamily(""), std::string(CcfCoefficients::kUnknownFamily));
}

}  // namespace
}  // namespace joulebench::energy
