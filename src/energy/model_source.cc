#include "energy/model_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "energy/procfs_text.h"
#include "joulebench/error.h"

namespace joulebench::energy {
namespace {

// /proc/net/dev may list hundreds of interfaces on container hosts; 64 KiB holds about 450.
constexpr std::size_t kBufferBytes = std::size_t{64} * 1024;
// Interfaces tracked at most; more are reported once and ignored.
constexpr std::size_t kMaxInterfaces = 512;
// 1 kWh = 3.6e6 J; network coefficients are per GB = 1e9 bytes.
constexpr double kJoulesPerKwh = 3.6e6;
constexpr double kBytesPerGb = 1e9;

std::string ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw EnvironmentError(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// MemTotal from /proc/meminfo, in kB (the kernel's kB are KiB).
std::uint64_t MemTotalKib(const std::string& meminfo, const std::filesystem::path& path) {
  if (const auto kib = ParseMemTotalKib(meminfo)) return *kib;
  throw EnvironmentError(fmt::format("{} has no MemTotal line", path.string()));
}

}  // namespace

ModelSource::ModelSource(Config config) : config_(std::move(config)) {
  try {
    Open();
  } catch (...) {
    CloseFiles();  // the destructor does not run when a constructor throws
    throw;
  }
}

void ModelSource::Open() {
  buffer_.resize(kBufferBytes);
  const std::string set_name(CcfCoefficients::kSetName);
  if (config_.model_cpu) {
    const auto stat_path = config_.procfs_root / "stat";
    vcpus_ = CountProcStatCpus(ReadWholeFile(stat_path));
    if (vcpus_ == 0) {
      throw EnvironmentError(fmt::format("{} lists no cpuN lines", stat_path.string()));
    }
    stat_fd_ = ::open(stat_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (stat_fd_ < 0 || !ReadCpuTimes(last_times_)) {
      throw EnvironmentError(fmt::format("cannot read the cpu line of {}", stat_path.string()));
    }
    // Until two readings differ, the best estimate is the utilisation since boot.
    const double u = last_times_.total ? static_cast<double>(last_times_.busy) /
                                             static_cast<double>(last_times_.total)
                                       : 0.0;
    const auto& c = config_.cpu;
    last_cpu_watts_ =
        vcpus_ * (c.min_watts_per_vcpu + u * (c.max_watts_per_vcpu - c.min_watts_per_vcpu));
    DomainInfo d;
    d.name = "model/cpu";
    d.component = Component::kCpu;
    d.provenance = {ProvenanceKind::kModelled,
                    fmt::format("{} ({}, {}-{} W/vCPU)", set_name, c.microarchitecture,
                                c.min_watts_per_vcpu, c.max_watts_per_vcpu)};
    d.signal = SignalKind::kGauge;
    d.max_watts = vcpus_ * c.max_watts_per_vcpu;
    // /proc/stat counts in USER_HZ ticks of 10 ms.
    d.update_period_s = 0.01;
    d.note = fmt::format(
        "{} vCPUs x (min + utilisation x (max - min)) from {}; an estimate, not a measurement",
        vcpus_, stat_path.string());
    cpu_index_ = static_cast<int>(domains_.size());
    domains_.push_back(std::move(d));
  }
  if (config_.model_memory) {
    const auto meminfo_path = config_.procfs_root / "meminfo";
    const std::uint64_t kib = MemTotalKib(ReadWholeFile(meminfo_path), meminfo_path);
    // GB as cloud providers size memory (GiB).
    memory_gb_ = static_cast<double>(kib) / (1024.0 * 1024.0);
    memory_watts_ = memory_gb_ * config_.memory_watts_per_gb;
    DomainInfo d;
    d.name = "model/memory";
    d.component = Component::kMemory;
    d.provenance = {
        ProvenanceKind::kModelled,
        fmt::format("{} ({} W/GB x {:.1f} GB)", set_name, config_.memory_watts_per_gb, memory_gb_)};
    d.signal = SignalKind::kGauge;
    d.max_watts = memory_watts_;
    d.note = "MemTotal x W per GB: constant, memory draws power whether used or not";
    memory_index_ = static_cast<int>(domains_.size());
    domains_.push_back(std::move(d));
  }
  if (config_.model_network) {
    const auto net_path = config_.procfs_root / "net" / "dev";
    net_fd_ = ::open(net_path.c_str(), O_RDONLY | O_CLOEXEC);
    interfaces_.reserve(kMaxInterfaces);
    if (net_fd_ < 0 || !ReadNetworkBytes()) {
      throw EnvironmentError(fmt::format("cannot read {}: {}", net_path.string(),
                                         net_fd_ < 0 ? std::strerror(errno) : "malformed"));
    }
    network_bytes_ = 0;  // bytes before the source existed are not ours
    std::string counted;
    for (const auto& name : CountedInterfaces()) {
      counted += counted.empty() ? name : ", " + name;
    }
    DomainInfo d;
    d.name = "model/network";
    d.component = Component::kNetwork;
    d.provenance = {ProvenanceKind::kModelled,
                    fmt::format("{} ({} kWh/GB moved)", set_name, config_.network_kwh_per_gb)};
    d.signal = SignalKind::kCounter;
    d.note = fmt::format("bytes received + sent on {} ({}); lo and virtual interfaces left out",
                         counted.empty() ? "no physical interface" : counted, net_path.string());
    network_index_ = static_cast<int>(domains_.size());
    domains_.push_back(std::move(d));
  }
}

ModelSource::~ModelSource() { CloseFiles(); }

void ModelSource::CloseFiles() {
  if (stat_fd_ >= 0) ::close(stat_fd_);
  if (net_fd_ >= 0) ::close(net_fd_);
  stat_fd_ = -1;
  net_fd_ = -1;
}

bool ModelSource::ReadCpuTimes(CpuTimes& times) {
  // The aggregate "cpu " line comes first and is far shorter than 4 KiB.
  const ssize_t n = ::pread(stat_fd_, buffer_.data(), 4096, 0);
  if (n < 5) return false;
  const auto ticks = ParseProcStatCpuLine(std::string_view(buffer_.data(), n));
  if (!ticks) return false;
  const auto& field = ticks->fields;
  times.busy = field[0] + field[1] + field[2] + field[5] + field[6];
  times.total = times.busy + field[3] + field[4] + field[7];
  return true;
}

ModelSource::Interface* ModelSource::FindOrAddInterface(std::string_view name, std::uint64_t bytes,
                                                        bool& is_new) {
  is_new = false;
  for (auto& i : interfaces_) {
    if (name == i.name.data()) return &i;
  }
  if (interfaces_.size() >= kMaxInterfaces || name.size() >= Interface{}.name.size()) {
    warn_too_many_interfaces_ = true;
    return nullptr;
  }
  // A new interface: rare, so looking it up in sysfs (which allocates) is fine here.
  Interface added;
  std::memcpy(added.name.data(), name.data(), name.size());
  added.last_bytes = bytes;
  std::error_code ec;
  const bool is_virtual = std::filesystem::exists(
      config_.sysfs_root / "devices" / "virtual" / "net" / std::string(name), ec);
  added.counted = name != "lo" && !is_virtual;
  interfaces_.push_back(added);
  is_new = true;
  return &interfaces_.back();
}

bool ModelSource::ReadNetworkBytes() {
  const ssize_t n = ::pread(net_fd_, buffer_.data(), buffer_.size(), 0);
  if (n <= 0) return false;
  if (static_cast<std::size_t>(n) == buffer_.size()) warn_net_truncated_ = true;
  std::string_view text(buffer_.data(), static_cast<std::size_t>(n));
  NetDevCounters counters;
  while (NextNetDevInterface(text, counters)) {
    const std::uint64_t bytes = counters.receive_bytes + counters.transmit_bytes;
    bool is_new = false;
    if (Interface* i = FindOrAddInterface(counters.name, bytes, is_new); i && !is_new) {
      // A counter that went backwards belongs to an interface that was re-created.
      const std::uint64_t delta = bytes >= i->last_bytes ? bytes - i->last_bytes : bytes;
      if (i->counted) network_bytes_ += static_cast<double>(delta);
      i->last_bytes = bytes;
    }
  }
  return true;
}

void ModelSource::Read(std::span<Reading> out) {
  if (cpu_index_ >= 0) {
    CpuTimes now;
    Reading& r = out[static_cast<std::size_t>(cpu_index_)];
    if (ReadCpuTimes(now)) {
      if (now.total > last_times_.total && now.busy >= last_times_.busy) {
        const double u = std::clamp(static_cast<double>(now.busy - last_times_.busy) /
                                        static_cast<double>(now.total - last_times_.total),
                                    0.0, 1.0);
        const auto& c = config_.cpu;
        last_cpu_watts_ =
            vcpus_ * (c.min_watts_per_vcpu + u * (c.max_watts_per_vcpu - c.min_watts_per_vcpu));
        last_times_ = now;
      }
      // No tick since the last read: the utilisation, hence the power, is the last one seen.
      r = {last_cpu_watts_, true};
    } else {
      warn_stat_failed_ = true;
      r = {0, false};
    }
  }
  if (memory_index_ >= 0) out[static_cast<std::size_t>(memory_index_)] = {memory_watts_, true};
  if (network_index_ >= 0) {
    Reading& r = out[static_cast<std::size_t>(network_index_)];
    if (ReadNetworkBytes()) {
      r = {network_bytes_ * config_.network_kwh_per_gb * kJoulesPerKwh / kBytesPerGb, true};
    } else {
      warn_net_failed_ = true;
      r = {0, false};
    }
  }
}

std::vector<std::string> ModelSource::TakeWarnings() {
  std::vector<std::string> warnings;
  auto once = [&](bool condition, bool& warned, std::string text) {
    if (condition && !warned) {
      warned = true;
      warnings.push_back(std::move(text));
    }
  };
  once(warn_stat_failed_, warned_stat_,
       fmt::format("model/cpu: could not read {}; the CPU estimate keeps its last value",
                   (config_.procfs_root / "stat").string()));
  once(warn_net_failed_, warned_net_,
       fmt::format("model/network: could not read {}; network energy keeps its last value",
                   (config_.procfs_root / "net" / "dev").string()));
  once(warn_net_truncated_, warned_truncated_,
       fmt::format("model/network: {} is longer than {} KiB; interfaces past that are not "
                   "counted",
                   (config_.procfs_root / "net" / "dev").string(), kBufferBytes / 1024));
  once(warn_too_many_interfaces_, warned_interfaces_,
       fmt::format("model/network: more than {} network interfaces (or a name too long); the "
                   "others are not counted",
                   kMaxInterfaces));
  return warnings;
}

std::vector<std::string> ModelSource::CountedInterfaces() const {
  std::vector<std::string> names;
  for (const auto& i : interfaces_) {
    if (i.counted) names.emplace_back(i.name.data());
  }
  return names;
}

}  // namespace joulebench::energy

namespace joulebench::energy {
namespace {

// "model name" of the first processor, or the Arm CPU part when there is none.
std::string CpuDescription(const std::string& cpuinfo) {
  for (const char* key : {"model name", "CPU part"}) {
    const std::size_t at = cpuinfo.find(key);
    if (at == std::string::npos) continue;
    const std::size_t colon = cpuinfo.find(':', at);
    const std::size_t end = cpuinfo.find('\n', at);
    if (colon == std::string::npos || colon > end) continue;
    std::string value = cpuinfo.substr(colon + 1, end - colon - 1);
    value.erase(0, value.find_first_not_of(" \t"));
    return std::string(key) + " '" + value + "'";
  }
  return "no model name";
}

}  // namespace

ProbeResult ProbeModel(const SourceOptions& options, const std::vector<DomainInfo>& measured) {
  ProbeResult result;
  result.source_name = "model";
  std::string cpu_measured_by;
  std::string dram_measured_by;
  std::string platform_measured_by;
  for (const auto& d : measured) {
    if (d.component == Component::kCpuPackage && cpu_measured_by.empty()) cpu_measured_by = d.name;
    if (d.component == Component::kDram && dram_measured_by.empty()) dram_measured_by = d.name;
    if (d.component == Component::kPlatform && platform_measured_by.empty()) {
      platform_measured_by = d.name;
    }
  }
  // A whole-platform reading (RAPL psys, a BMC) already holds the CPU and the memory: modelling
  // them too would count them twice.
  if (!platform_measured_by.empty()) {
    if (cpu_measured_by.empty()) cpu_measured_by = platform_measured_by + " (whole platform)";
    if (dram_measured_by.empty()) dram_measured_by = platform_measured_by + " (whole platform)";
  }
  CcfCoefficients ccf;
  ModelSource::Config config;
  try {
    ccf = CcfCoefficients::Load();
    config.memory_watts_per_gb = ccf.Constant("memory");
    config.network_kwh_per_gb = ccf.Constant("network");
  } catch (const EnvironmentError& e) {
    result.status = ProbeStatus::kError;
    result.reason = e.what();
    result.fix =
        "set JOULEBENCH_DATA_DIR to joulebench's data folder (data/ in the sources, "
        "share/joulebench when installed)";
    return result;
  }
  config.procfs_root = options.procfs_root;
  config.sysfs_root = options.sysfs_root;
  config.model_cpu = cpu_measured_by.empty();
  config.model_memory = dram_measured_by.empty();
  config.model_network = true;

  std::string family_origin;
  if (config.model_cpu) {
    std::string family;
    if (options.cpu_family) {
      family = ccf.Cpu(*options.cpu_family).microarchitecture;  // InputError when unknown
      family_origin = "set by --cpu-family";
    } else {
      const auto cpuinfo_path = options.procfs_root / "cpuinfo";
      std::ifstream in(cpuinfo_path);
      std::ostringstream text;
      if (in) text << in.rdbuf();
      family = DetectCpuFamily(text.str());
      family_origin =
          in ? "detected from " + cpuinfo_path.string() + " " + CpuDescription(text.str())
             : "cannot read " + cpuinfo_path.string();
    }
    const CpuCoefficients* row = ccf.FindCpu(family);
    if (!row) row = ccf.FindCpu(CcfCoefficients::kUnknownFamily);
    if (!row) {
      result.status = ProbeStatus::kError;
      result.reason = fmt::format("cpu_coefficients_ccf.csv has neither '{}' nor '{}'", family,
                                  CcfCoefficients::kUnknownFamily);
      result.fix = "restore data/cpu_coefficients_ccf.csv from the joulebench sources";
      return result;
    }
    config.cpu = *row;
  }

  try {
    auto source = std::make_unique<ModelSource>(config);
    if (config.model_cpu) {
      const auto& c = config.cpu;
      result.details.push_back(
          fmt::format("cpu: modelled as {}, {}; {} vCPUs x {}-{} W/vCPU ({}, {})",
                      c.microarchitecture, family_origin, source->vcpus(), c.min_watts_per_vcpu,
                      c.max_watts_per_vcpu, c.source, c.date));
      if (c.microarchitecture == CcfCoefficients::kUnknownFamily && !options.cpu_family) {
        result.details.push_back(fmt::format(
            "cpu family not recognised: the average of all families is used; set --cpu-family "
            "(or JOULEBENCH_CPU_FAMILY) to one of: {}",
            ccf.KnownFamilies()));
      }
    } else {
      result.details.push_back("cpu: not modelled, measured by " + cpu_measured_by);
    }
    const CcfConstant* memory = ccf.FindConstant("memory");
    const CcfConstant* network = ccf.FindConstant("network");
    if (config.model_memory) {
      result.details.push_back(fmt::format(
          "memory: modelled, {} {} x {:.1f} GB = {:.1f} W ({}, {})", memory->value, memory->unit,
          source->memory_gb(), memory->value * source->memory_gb(), memory->source, memory->date));
    } else {
      result.details.push_back("memory: not modelled, measured by " + dram_measured_by);
    }
    std::string interfaces;
    for (const auto& name : source->CountedInterfaces()) {
      interfaces += interfaces.empty() ? name : ", " + name;
    }
    result.details.push_back(fmt::format(
        "network: modelled, {} {} over {} ({}, {})", network->value, network->unit,
        interfaces.empty() ? "no physical interface" : interfaces, network->source, network->date));
    result.status = ProbeStatus::kAvailable;
    result.source = std::move(source);
  } catch (const EnvironmentError& e) {
    result.status = ProbeStatus::kError;
    result.reason = e.what();
    result.fix =
        "point --procfs-root (or JOULEBENCH_PROCFS_ROOT) at a procfs with stat, meminfo "
        "and net/dev";
  }
  return result;
}

}  // namespace joulebench::energy
