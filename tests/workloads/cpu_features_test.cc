#include "joulebench/workloads/cpu_features.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace joulebench::workloads {
namespace {

TEST(CpuFlags, ReadsTheFirstProcessorsFlags) {
  testing::TempDir proc;
  proc.Write("cpuinfo",
             "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx2 avx512f avx512_bf16\n\n"
             "processor\t: 1\nflags\t\t: fpu\n");
  const auto flags = CpuFlags(proc.path());
  EXPECT_TRUE(flags.count("avx512_bf16"));
  EXPECT_TRUE(flags.count("avx2"));
  EXPECT_EQ(flags.size(), 4u);
}

TEST(CpuBf16Unsupported, NativeWithAvx512Bf16OrAmx) {
  EXPECT_EQ(CpuBf16Unsupported({"avx512f", "avx512_bf16"}), "");
  EXPECT_EQ(CpuBf16Unsupported({"amx_tile", "amx_bf16"}), "");
}

TEST(CpuBf16Unsupported, SaysWhyWithoutThem) {
  const std::string why = CpuBf16Unsupported({"avx2", "avx512f"});
  EXPECT_NE(why.find("neither AVX512_BF16 nor AMX"), std::string::npos) << why;
  EXPECT_NE(CpuBf16Unsupported({}).find("unknown"), std::string::npos);
}

TEST(CpuFlags, MissingCpuinfoGivesNoFlags) {
  testing::TempDir proc;
  EXPECT_TRUE(CpuFlags(proc.path()).empty());
}

}  // namespace
}  // namespace joulebench::workloads
