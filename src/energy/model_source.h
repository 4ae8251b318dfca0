// A utilisation-driven model for the components no sensor measures (Cloud Carbon Footprint
// method): CPU watts from /proc/stat utilisation and per-vCPU min/max watts of the CPU family,
// memory watts from MemTotal x W per GB, network joules from the bytes in /proc/net/dev x kWh
// per GB. Every domain's provenance is kModelled and names the coefficients.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "joulebench/energy/ccf_coefficients.h"
#include "joulebench/energy/source.h"

namespace joulebench::energy {

class ModelSource final : public Source {
 public:
  // What to model and with which coefficients; ProbeModel fills it.
  struct Config {
    std::filesystem::path procfs_root = "/proc";
    std::filesystem::path sysfs_root = "/sys";  // to tell virtual network interfaces apart
    bool model_cpu = true;
    bool model_memory = true;
    bool model_network = true;
    CpuCoefficients cpu;
    double memory_watts_per_gb = 0;
    double network_kwh_per_gb = 0;
  };

  // Opens the procfs files and takes the first reading. Throws EnvironmentError naming the file
  // when a file it needs cannot be read.
  explicit ModelSource(Config config);
  ~ModelSource() override;
  ModelSource(const ModelSource&) = delete;
  ModelSource& operator=(const ModelSource&) = delete;

  std::string_view name() const override { return "model"; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  // cpu and memory: watts (gauges); network: cumulative joules since the source was created
  // (a counter that never wraps).
  void Read(std::span<Reading> out) override;
  std::vector<std::string> TakeWarnings() override;

  int vcpus() const { return vcpus_; }
  double memory_gb() const { return memory_gb_; }
  // Names of the interfaces whose bytes are counted (physical ones, not lo or virtual).
  std::vector<std::string> CountedInterfaces() const;

 private:
  struct CpuTimes {
    std::uint64_t busy = 0;
    std::uint64_t total = 0;
  };
  // Per network interface, fixed size so that steady-state reads never allocate.
  struct Interface {
    std::array<char, 32> name{};
    std::uint64_t last_bytes = 0;
    bool counted = false;
  };

  void Open();
  void CloseFiles();
  bool ReadCpuTimes(CpuTimes& times);
  bool ReadNetworkBytes();
  Interface* FindOrAddInterface(std::string_view name, std::uint64_t bytes, bool& is_new);

  Config config_;
  std::vector<DomainInfo> domains_;
  int cpu_index_ = -1;  // position in domains_, -1 when not modelled
  int memory_index_ = -1;
  int network_index_ = -1;
  int stat_fd_ = -1;
  int net_fd_ = -1;
  std::vector<char> buffer_;
  int vcpus_ = 0;
  CpuTimes last_times_;
  double last_cpu_watts_ = 0;
  double memory_gb_ = 0;
  double memory_watts_ = 0;
  std::vector<Interface> interfaces_;
  double network_bytes_ = 0;  // counted since the source was created
  // Set by Read on the sampler thread, reported by TakeWarnings on another.
  std::atomic<bool> warn_stat_failed_{false};
  std::atomic<bool> warn_net_failed_{false};
  std::atomic<bool> warn_net_truncated_{false};
  std::atomic<bool> warn_too_many_interfaces_{false};
  bool warned_stat_ = false;
  bool warned_net_ = false;
  bool warned_truncated_ = false;
  bool warned_interfaces_ = false;
};

}  // namespace joulebench::energy
