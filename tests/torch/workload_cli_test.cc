// End-to-end: the joulebench binary's infer, train and gemm commands on tiny models, metered
// by whatever sources this machine has (at least the utilisation model).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/fake_machine.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace joulebench {
namespace {

using testing::RunJoulebench;
using testing::RunProcess;
using testing::TempDir;

const char* kPython = "/usr/bin/python3";

const nlohmann::json* FindMetric(const nlohmann::json& record, const std::string& name) {
  for (const auto& m : record.at("metrics")) {
    if (m.at("name") == name) return &m;
  }
  return nullptr;
}

TEST(InferCommand, OfflineTinyLayoutLMReportsThroughputEnergyAndFlops) {
  auto r = RunJoulebench({"infer", "--model", "layoutlm-tiny", "--seq-len", "32", "--batch", "4",
                          "--duration", "1s", "--no-steady-state", "--min-queries", "20",
                          "--gemm-duration", "200ms", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto record = nlohmann::json::parse(r.out);
  EXPECT_EQ(record.at("kind"), "infer");
  const auto* throughput = FindMetric(record, "throughput");
  ASSERT_NE(throughput, nullptr);
  EXPECT_GT(throughput->at("value").get<double>(), 0);
  const auto* energy = FindMetric(record, "energy_per_inference");
  ASSERT_NE(energy, nullptr);
  EXPECT_GT(energy->at("value").get<double>(), 0);
  const auto* flops = FindMetric(record, "flops_per_inference");
  ASSERT_NE(flops, nullptr);
  // 2 layers x 2 x (4*32*64^2 + 2*32*64*128 + 2*32^2*64) + 2*32*64*13 = 4,771,840.
  EXPECT_DOUBLE_EQ(flops->at("value").get<double>(), 4771840.0);
  ASSERT_NE(FindMetric(record, "fraction_of_gemm_peak"), nullptr);
  // The CPU cost of an inference and how busy the rest of the machine was, over the same
  // window: this process's CPU time covers every measured inference.
  const auto* cpu_total = FindMetric(record, "process_cpu_time");
  const auto* cpu_each = FindMetric(record, "cpu_time_per_inference");
  const auto* others = FindMetric(record, "other_processes_cpu_share");
  ASSERT_NE(cpu_total, nullptr);
  ASSERT_NE(cpu_each, nullptr);
  ASSERT_NE(others, nullptr);
  const double queries = FindMetric(record, "measured_queries")->at("value").get<double>();
  const double duration_s = FindMetric(record, "measured_duration")->at("value").get<double>();
  EXPECT_GT(cpu_each->at("value").get<double>(), 0);
  EXPECT_NEAR(cpu_total->at("value").get<double>(), cpu_each->at("value").get<double>() * queries,
              1e-9);
  // No more CPU time than the machine's CPUs had in the window (the samples, 100 ms apart,
  // are interpolated at its bounds: hence the margin).
  EXPECT_LE(cpu_total->at("value").get<double>(),
            1.5 * duration_s * std::thread::hardware_concurrency());
  EXPECT_GE(others->at("value").get<double>(), 0);
  EXPECT_LE(others->at("value").get<double>(), 1);
  EXPECT_TRUE(record.at("config").at("torch").at("thread_env").is_object());
}

TEST(InferCommand, UnknownModelListsTheKnownOnes) {
  auto r = RunJoulebench({"infer", "--model", "resnet50"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("known models: bert-base, bert-large, layoutlm-base"), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(InferCommand, SequenceLongerThan512PositionsIsRejected) {
  auto r = RunJoulebench({"infer", "--model", "layoutlm-tiny", "--seq-len", "513"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--seq-len: 513"), std::string::npos) << r.err;
}

TEST(InferCommand, BatchOfZeroIsRejected) {
  auto r = RunJoulebench({"infer", "--model", "layoutlm-tiny", "--batch", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--batch"), std::string::npos) << r.err;
}

TEST(InferCommand, CudaWithoutCudaIsAnEnvironmentError) {
  auto r = RunJoulebench({"infer", "--model", "layoutlm-tiny", "--device", "cuda"});
  if (r.exit_code == 0) GTEST_SKIP() << "this libtorch has a GPU";
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("--device cuda"), std::string::npos) << r.err;
}

TEST(InferCommand, ServerWithoutRateOrPeakSearchIsRejected) {
  auto r = RunJoulebench({"infer", "--model", "layoutlm-tiny", "--scenario", "server"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--rate"), std::string::npos) << r.err;
}

TEST(InferCommand, MissingAndNonTorchScriptFilesAreInputErrors) {
  TempDir dir;
  auto missing = RunJoulebench(
      {"infer", "--model", (dir.path() / "absent.pt").string(), "--input", "x:int64[1,4]"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("absent.pt"), std::string::npos) << missing.err;
  const auto junk = dir.Write("junk.pt", "not a zip archive");
  auto not_script = RunJoulebench({"infer", "--model", junk.string(), "--input", "x:int64[1,4]"});
  EXPECT_EQ(not_script.exit_code, 2);
  EXPECT_NE(not_script.err.find("is not a TorchScript file"), std::string::npos) << not_script.err;
}

TEST(InferCommand, TorchScriptModelRunsOnSpecsAndRejectsMismatchedOnes) {
  TempDir dir;
  const auto model = (dir.path() / "tagger.pt").string();
  auto made = RunProcess(
      kPython, {std::string(JOULEBENCH_SOURCE_DIR) + "/tests/python/make_torchscript.py", model});
  ASSERT_EQ(made.exit_code, 0) << made.err;

  auto wrong_name = RunJoulebench(
      {"infer", "--model", model, "--input", "ids:int64[2,8]", "--input", "bbox:int64[2,8,4]"});
  EXPECT_EQ(wrong_name.exit_code, 2);
  EXPECT_NE(wrong_name.err.find("forward(input_ids, bbox)"), std::string::npos) << wrong_name.err;
  auto wrong_shape = RunJoulebench({"infer", "--model", model, "--input", "input_ids:int64[2,8]",
                                    "--input", "bbox:int64[2,8,3]"});
  EXPECT_EQ(wrong_shape.exit_code, 2);
  EXPECT_NE(wrong_shape.err.find("do not fit"), std::string::npos) << wrong_shape.err;
  auto bad_spec = RunJoulebench({"infer", "--model", model, "--input", "input_ids:int64[2,x]"});
  EXPECT_EQ(bad_spec.exit_code, 2);

  auto ok = RunJoulebench({"infer", "--model", model, "--input", "input_ids:int64[2,8]", "--input",
                           "bbox:int64[2,8,4]", "--duration", "1s", "--no-steady-state",
                           "--min-queries", "20", "--gemm-duration", "0s", "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto record = nlohmann::json::parse(ok.out);
  EXPECT_GT(FindMetric(record, "throughput")->at("value").get<double>(), 0);
}

TEST(TrainCommand, TinyBertReportsSequenceRateLossAndProjection) {
  auto r = RunJoulebench({"train", "--model", "bert-tiny", "--seq-len", "32", "--batch", "4",
                          "--steps", "6", "--gemm-duration", "0s", "--sequences", "1M", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto record = nlohmann::json::parse(r.out);
  EXPECT_EQ(record.at("kind"), "train");
  const double per_s = FindMetric(record, "sequences_per_s")->at("value").get<double>();
  EXPECT_GT(per_s, 0);
  EXPECT_NEAR(FindMetric(record, "projected_time")->at("value").get<double>(), 1e6 / per_s,
              1e6 / per_s * 1e-9);
  EXPECT_GT(FindMetric(record, "loss_first_step")->at("value").get<double>(), 5.0);
  EXPECT_NE(FindMetric(record, "energy_per_sequence"), nullptr);
}

TEST(TrainCommand, SteadyStateWindowsAreWholeStepsLastingTheWindow) {
  auto r = RunJoulebench({"train", "--model", "bert-tiny", "--seq-len", "16", "--batch", "2",
                          "--steps", "40", "--window", "150ms", "--gemm-duration", "0s", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto record = nlohmann::json::parse(r.out);
  const auto& windows = record.at("windows");
  ASSERT_GE(windows.size(), 1u);
  // Fewer windows than steps: several steps each, and none shorter than the window.
  EXPECT_LT(windows.size(), 40u);
  for (const auto& w : windows) {
    const double length_s = w.at("end_s").get<double>() - w.at("begin_s").get<double>();
    EXPECT_GE(length_s, 0.15);
    // Each window's rate counts whole steps of 2 sequences.
    const double sequences = w.at("throughput_per_s").get<double>() * length_s;
    EXPECT_NEAR(sequences, std::round(sequences), 1e-6);
    EXPECT_EQ(std::llround(sequences) % 2, 0);
    EXPECT_GE(sequences, 2);
  }

  auto zero = RunJoulebench({"train", "--model", "bert-tiny", "--steps", "3", "--window", "0s"});
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--window"), std::string::npos) << zero.err;
}

// A machine whose /proc/stat (in the fake procfs) says both of its CPUs are always busy, while
// the training run itself uses about one: other processes took about half the machine.
class BusyProcStat {
 public:
  explicit BusyProcStat(const std::filesystem::path& procfs) : stat_(procfs / "stat") {
    Write(0);
    writer_ = std::thread([this] {
      const auto start = std::chrono::steady_clock::now();
      while (!stop_) {
        const double elapsed_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        Write(static_cast<std::uint64_t>(elapsed_s * 200));  // 2 CPUs x 100 ticks/s, all busy
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  ~BusyProcStat() {
    stop_ = true;
    writer_.join();
  }

 private:
  void Write(std::uint64_t busy_ticks) {
    const auto tmp = stat_.string() + ".tmp";
    std::ofstream(tmp) << "cpu  " << busy_ticks << " 0 0 1000 0 0 0 0 0 0\n";
    std::filesystem::rename(tmp, stat_);  // whole lines only, as the kernel's file
  }
  std::filesystem::path stat_;
  std::atomic<bool> stop_{false};
  std::thread writer_;
};

// `train` of bert-tiny at one thread, with `args` added, on a fake machine whose /proc/stat says
// both CPUs are always busy.
auto TrainOnBusyMachine(const std::vector<std::string>& args) {
  testing::FakeMachine machine;
  BusyProcStat busy(machine.dir.path() / "proc");
  std::vector<std::string> all = {"train", "--model",         "bert-tiny", "--seq-len",
                                  "16",    "--batch",         "2",         "--threads",
                                  "1",     "--gemm-duration", "0s",        "--json"};
  all.insert(all.end(), args.begin(), args.end());
  const auto flags = machine.SourceFlags();
  all.insert(all.end(), flags.begin(), flags.end());
  return RunJoulebench(all);
}

TEST(TrainCommand, OtherProcessesShareOfTheMachineIsReportedWithItsCpuTime) {
  auto r = TrainOnBusyMachine({"--steps", "30", "--window", "100ms"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto record = nlohmann::json::parse(r.out);
  const auto* others = FindMetric(record, "other_processes_cpu_share");
  const auto* cpu_total = FindMetric(record, "process_cpu_time");
  const auto* cpu_each = FindMetric(record, "cpu_time_per_sequence");
  ASSERT_NE(others, nullptr) << r.out;
  ASSERT_NE(cpu_total, nullptr);
  ASSERT_NE(cpu_each, nullptr);
  // 2 CPUs busy, this process about one of them (at most 1.6: its sampler thread aside).
  EXPECT_GT(others->at("value").get<double>(), 0.2);
  EXPECT_LE(others->at("value").get<double>(), 1.0);
  const double sequences = FindMetric(record, "measured_sequences")->at("value").get<double>();
  EXPECT_GT(cpu_each->at("value").get<double>(), 0);
  EXPECT_NEAR(cpu_total->at("value").get<double>(), cpu_each->at("value").get<double>() * sequences,
              1e-9);
  bool warned = false;
  for (const auto& w : record.at("warnings")) {
    warned = warned || w.get<std::string>().find("other processes used") != std::string::npos;
  }
  EXPECT_TRUE(warned) << record.at("warnings").dump();
}

TEST(TrainCommand, AWarmUpThatTimesOutOnABusyMachineSaysHowBusy) {
  // No window of 5 s can end within a 400 ms warm-up: the warm-up times out, always.
  auto r = TrainOnBusyMachine({"--duration", "200ms", "--max-warmup", "400ms", "--window", "5s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto record = nlohmann::json::parse(r.out);
  EXPECT_EQ(record.at("verdict"), "INVALID");
  ASSERT_EQ(record.at("verdict_reasons").size(), 1u) << record.at("verdict_reasons").dump();
  const auto reason = record.at("verdict_reasons").at(0).get<std::string>();
  EXPECT_NE(reason.find("steady state not reached within"), std::string::npos) << reason;
  EXPECT_NE(reason.find("(no window of 5.000 s ended)"), std::string::npos) << reason;
  EXPECT_NE(reason.find("other processes used"), std::string::npos) << reason;
}

TEST(TrainCommand, DurationAndStepsAreAlternatives) {
  auto r = RunJoulebench({"train", "--model", "bert-tiny", "--steps", "3", "--duration", "1s"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("alternatives"), std::string::npos) << r.err;
}

TEST(InferCommand, LinearKernelIsRecordedWithTheRunAndBadChoicesAreRejected) {
  auto r = RunJoulebench({"infer", "--model", "bert-tiny", "--seq-len", "16", "--batch", "2",
                          "--duration", "300ms", "--no-steady-state", "--min-queries", "4",
                          "--gemm-duration", "0s", "--linear-kernel", "blas", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("config").at("torch").at("linear_kernel"), "blas");

  auto unknown = RunJoulebench({"infer", "--model", "bert-tiny", "--linear-kernel", "fast"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("--linear-kernel: 'fast'"), std::string::npos) << unknown.err;
  auto bf16 = RunJoulebench(
      {"infer", "--model", "bert-tiny", "--linear-kernel", "onednn", "--dtype", "bf16"});
  EXPECT_EQ(bf16.exit_code, 2);
  EXPECT_NE(bf16.err.find("fp32 only"), std::string::npos) << bf16.err;
}

TEST(GemmCommand, ReportsAPositivePeak) {
  auto r = RunJoulebench({"gemm", "--size", "256", "--duration", "100ms", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j.at("flops_per_s").get<double>(), 1e8);
  EXPECT_EQ(j.at("size"), 256);
  auto blas = RunJoulebench(
      {"gemm", "--size", "256", "--duration", "100ms", "--linear-kernel", "blas", "--json"});
  ASSERT_EQ(blas.exit_code, 0) << blas.err;
  EXPECT_EQ(nlohmann::json::parse(blas.out).at("kernel"), "blas");
}

}  // namespace
}  // namespace joulebench
