#include "joulebench/store/fingerprint.h"

#include <gtest/gtest.h>

#include <regex>

#include "support/temp_dir.h"

namespace joulebench::store {
namespace {

TEST(MachineFingerprint, ReadsCpuMemoryAndBootIdFromProcfs) {
  testing::TempDir proc;
  proc.Write("cpuinfo",
             "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Fake Xeon(R) 8375C @ "
             "2.90GHz\n\nprocessor\t: 1\nmodel name\t: Fake Xeon(R) 8375C @ 2.90GHz\n");
  proc.Write("meminfo", "MemTotal:       16318412 kB\nMemFree:         1234 kB\n");
  proc.Write("sys/kernel/random/boot_id", "0b1c2d3e-aaaa-bbbb-cccc-111122223333\n");
  FingerprintOptions options;
  options.procfs_root = proc.path();
  auto f = MachineFingerprint(options);
  EXPECT_EQ(f["cpu_model"], "Fake Xeon(R) 8375C @ 2.90GHz");
  EXPECT_EQ(f["memory_bytes"], 16318412ULL * 1024);
  EXPECT_EQ(f["boot_id"], "0b1c2d3e-aaaa-bbbb-cccc-111122223333");
  EXPECT_GE(f["cpu_count"].get<int>(), 1);
  EXPECT_FALSE(f.contains("libtorch"));
  EXPECT_FALSE(f.contains("gpus"));
  EXPECT_TRUE(
      std::regex_match(f["joulebench_version"].get<std::string>(), std::regex(R"(\d+\.\d+\.\d+)")));
  EXPECT_TRUE(f["joulebench_commit"].is_string());
}

TEST(MachineFingerprint, TakesGpusAndDriverFromNvmlProbeDetailsAndTorchVersion) {
  std::vector<energy::ProbeResult> probes(2);
  probes[0].source_name = "powercap";
  probes[0].details = {"intel-rapl:0 package-0"};
  probes[1].source_name = "nvml";
  probes[1].details = {"driver version 535.104.05", "gpu0: NVIDIA A100-SXM4-40GB"};
  FingerprintOptions options;
  AddProbeDetails(options, probes);
  options.torch_version = "1.13.1";
  auto f = MachineFingerprint(options);
  EXPECT_EQ(f["gpu_driver"], "535.104.05");
  ASSERT_EQ(f["gpus"].size(), 1u);
  EXPECT_EQ(f["gpus"][0], "gpu0: NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(f["nvml_details"].size(), 2u);
  EXPECT_EQ(f["libtorch"], "1.13.1");
}

}  // namespace
}  // namespace joulebench::store
