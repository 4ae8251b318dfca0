// CPU-time share of one server process (or cgroup) on this machine, for attributing CPU
// energy to a server that a load generator drives from the same machine. A thread samples
// the server's CPU time (/proc/PID/stat utime + stime, all its threads; or a cgroup v2
// cpu.stat usage_usec), this process's own CPU time, and the machine's busy CPU time
// (/proc/stat: every field but idle and iowait) every `interval`; a window's share is
// interpolated at its bounds.
//
// The attribution model (as Scaphandre's per-process power): energy of the CPU domains in
// the window x server CPU time / machine busy CPU time. It is a model: CPU time is not
// energy (a core waiting on memory burns less than one running AVX-512), and idle power is
// shared out by busy time too. Reports label it "modelled".
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace joulebench::sampling {

struct CpuShareOptions {
  std::filesystem::path procfs_root = "/proc";
  std::optional<int> pid;             // the server process (its threads included)
  std::filesystem::path cgroup_path;  // or a cgroup v2 directory with cpu.stat
  std::chrono::milliseconds interval{100};
};

// CPU seconds in a window, all from the same samples.
struct CpuShareWindow {
  double duration_s = 0;
  double server_cpu_s = 0;        // the server (pid or cgroup)
  double self_cpu_s = 0;          // this process (the load generator)
  double machine_busy_cpu_s = 0;  // every CPU, not idle
  double machine_cpu_s = 0;       // every CPU, idle included
  // server_cpu_s / machine_busy_cpu_s, in [0, 1]; 0 when the machine was idle.
  double server_share() const;
  double self_share() const;
};

// The machine's CPU time so far from PROCFS/stat: busy (every field but idle and iowait)
// and all of it, in seconds; nullopt when the file cannot be read. Multi-node runs take the
// busy time of a node over a window from two of these.
struct MachineCpuTimes {
  double busy_s = 0;
  double total_s = 0;
};
std::optional<MachineCpuTimes> ReadMachineCpuTimes(const std::filesystem::path& procfs_root);

// utime + stime of PROCFS/PID/stat in seconds (the process's threads, not its children);
// nullopt when the process is gone or the file cannot be read.
std::optional<double> ReadProcessCpuSeconds(const std::filesystem::path& procfs_root, int pid);

class CpuShareSampler {
 public:
  // Throws InputError when the pid does not exist or the cgroup has no cpu.stat (naming the
  // path), and when neither or both of pid and cgroup_path are given.
  explicit CpuShareSampler(CpuShareOptions options);
  ~CpuShareSampler();
  CpuShareSampler(const CpuShareSampler&) = delete;
  CpuShareSampler& operator=(const CpuShareSampler&) = delete;

  void Start();  // first sample now, then every interval
  void Stop();   // last sample now
  // The window between two steady-clock times (load::SteadyNowSeconds()), interpolated
  // linearly between the samples around each bound. Zero duration when outside the samples.
  CpuShareWindow Window(double begin_steady_s, double end_steady_s) const;
  // "pid 1234 (joulebench)" or "cgroup /sys/fs/cgroup/system.slice/triton.service".
  std::string ServerLabel() const;
  // "/proc/1234/stat utime+stime over /proc/stat busy time" (the sensor, for provenance).
  std::string Method() const;
  // True once the server process has gone (its last CPU time is kept).
  bool server_gone() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::sampling
