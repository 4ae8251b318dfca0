#include "joulebench/sampling/cpu_share.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "energy/procfs_text.h"
#include "joulebench/error.h"
#include "joulebench/load/power_signal.h"

namespace joulebench::sampling {
namespace {

struct Sample {
  double t_s = 0;  // steady clock
  double server_s = 0;
  double self_s = 0;
  double busy_s = 0;
  double total_s = 0;
};

std::optional<std::string> ReadText(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

double TicksPerSecond() {
  const long hz = sysconf(_SC_CLK_TCK);
  return hz > 0 ? static_cast<double>(hz) : 100.0;
}

// utime + stime of /proc/PID/stat (all the process's threads), in seconds.
std::optional<double> ProcessCpuSeconds(const std::filesystem::path& stat_path, std::string* comm) {
  const auto text = ReadText(stat_path);
  if (!text) return std::nullopt;
  const auto stat = energy::ParseProcPidStat(*text);
  if (!stat) return std::nullopt;
  if (comm != nullptr) *comm = std::string(stat->comm);
  return static_cast<double>(stat->utime_ticks + stat->stime_ticks) / TicksPerSecond();
}

// usage_usec of a cgroup v2 cpu.stat, in seconds.
std::optional<double> CgroupCpuSeconds(const std::filesystem::path& cpu_stat) {
  const auto text = ReadText(cpu_stat);
  if (!text) return std::nullopt;
  const auto usec = energy::ParseCgroupCpuUsageUsec(*text);
  if (!usec) return std::nullopt;
  return static_cast<double>(*usec) / 1e6;
}

// The aggregate "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal
// (guest time is already inside user). Busy = all but idle and iowait.
bool MachineCpuSeconds(const std::filesystem::path& stat, double* busy_s, double* total_s) {
  const auto text = ReadText(stat);
  if (!text) return false;
  const auto ticks = energy::ParseProcStatCpuLine(*text);
  if (!ticks) return false;
  const auto& v = ticks->fields;
  const double hz = TicksPerSecond();
  const unsigned long long idle = v[3] + v[4];
  unsigned long long total = 0;
  for (unsigned long long x : v) total += x;
  *busy_s = static_cast<double>(total - idle) / hz;
  *total_s = static_cast<double>(total) / hz;
  return true;
}

}  // namespace

std::optional<MachineCpuTimes> ReadMachineCpuTimes(const std::filesystem::path& procfs_root) {
  MachineCpuTimes t;
  if (!MachineCpuSeconds(procfs_root / "stat", &t.busy_s, &t.total_s)) return std::nullopt;
  return t;
}

std::optional<double> ReadProcessCpuSeconds(const std::filesystem::path& procfs_root, int pid) {
  try {
    return ProcessCpuSeconds(procfs_root / std::to_string(pid) / "stat", nullptr);
  } catch (const std::exception&) {  // std::stoull on a damaged file
    return std::nullopt;
  }
}

double CpuShareWindow::server_share() const {
  return machine_busy_cpu_s > 0 ? std::clamp(server_cpu_s / machine_busy_cpu_s, 0.0, 1.0) : 0.0;
}
double CpuShareWindow::self_share() const {
  return machine_busy_cpu_s > 0 ? std::clamp(self_cpu_s / machine_busy_cpu_s, 0.0, 1.0) : 0.0;
}

struct CpuShareSampler::Impl {
  CpuShareOptions options;
  std::filesystem::path server_path;  // /proc/PID/stat or CGROUP/cpu.stat
  std::filesystem::path self_path;
  std::filesystem::path machine_path;
  std::string comm;
  mutable std::mutex mutex;
  std::vector<Sample> samples;
  double last_server_s = 0;
  double last_self_s = 0;
  double last_busy_s = 0;
  double last_total_s = 0;
  std::atomic<bool> gone{false};
  std::condition_variable wake;
  bool stop = false;
  std::thread thread;

  void TakeSample() {
    Sample s;
    s.t_s = load::SteadyNowSeconds();
    std::optional<double> server =
        options.pid ? ProcessCpuSeconds(server_path, nullptr) : CgroupCpuSeconds(server_path);
    if (server) {
      last_server_s = *server;
    } else {
      gone.store(true);
    }
    s.server_s = last_server_s;
    // A reading that fails (a file cut short, a transient error) keeps the last one: a zero
    // would make the next window's CPU time a jump from zero.
    if (const auto self = ProcessCpuSeconds(self_path, nullptr)) last_self_s = *self;
    s.self_s = last_self_s;
    double busy_s = 0, total_s = 0;
    if (MachineCpuSeconds(machine_path, &busy_s, &total_s)) {
      last_busy_s = busy_s;
      last_total_s = total_s;
    }
    s.busy_s = last_busy_s;
    s.total_s = last_total_s;
    std::lock_guard lock(mutex);
    samples.push_back(s);
  }

  Sample At(double t) const {
    // Linear interpolation between the samples around t (clamped to the ends).
    if (t <= samples.front().t_s) return samples.front();
    if (t >= samples.back().t_s) return samples.back();
    const auto hi = std::lower_bound(samples.begin(), samples.end(), t,
                                     [](const Sample& s, double v) { return s.t_s < v; });
    const auto lo = hi - 1;
    const double f = (t - lo->t_s) / (hi->t_s - lo->t_s);
    auto mix = [&](double a, double b) { return a + f * (b - a); };
    return {t, mix(lo->server_s, hi->server_s), mix(lo->self_s, hi->self_s),
            mix(lo->busy_s, hi->busy_s), mix(lo->total_s, hi->total_s)};
  }
};

CpuShareSampler::CpuShareSampler(CpuShareOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.pid.has_value() == !options.cgroup_path.empty()) {
    throw InputError("give one of --server-pid PID and --server-cgroup PATH");
  }
  impl_->options = options;
  impl_->machine_path = options.procfs_root / "stat";
  impl_->self_path = options.procfs_root / "self" / "stat";
  if (options.pid) {
    if (*options.pid <= 0)
      throw InputError(fmt::format("--server-pid {} is not a process id", *options.pid));
    impl_->server_path = options.procfs_root / std::to_string(*options.pid) / "stat";
    if (!ProcessCpuSeconds(impl_->server_path, &impl_->comm)) {
      throw InputError(fmt::format(
          "--server-pid {}: no such process ({} cannot be read); give the pid of the server "
          "running on this machine",
          *options.pid, impl_->server_path.string()));
    }
  } else {
    impl_->server_path = options.cgroup_path / "cpu.stat";
    if (!CgroupCpuSeconds(impl_->server_path)) {
      throw InputError(fmt::format(
          "--server-cgroup {}: {} cannot be read or has no usage_usec; give a cgroup v2 "
          "directory, e.g. /sys/fs/cgroup/system.slice/triton.service",
          options.cgroup_path.string(), impl_->server_path.string()));
    }
  }
  double busy = 0, total = 0;
  if (!MachineCpuSeconds(impl_->machine_path, &busy, &total)) {
    throw EnvironmentError(
        fmt::format("cannot read the cpu line of {}", impl_->machine_path.string()));
  }
}

CpuShareSampler::~CpuShareSampler() { Stop(); }

void CpuShareSampler::Start() {
  impl_->TakeSample();
  impl_->thread = std::thread([impl = impl_.get()] {
    std::unique_lock lock(impl->mutex);
    while (!impl->stop) {
      impl->wake.wait_for(lock, impl->options.interval);
      if (impl->stop) break;
      lock.unlock();
      impl->TakeSample();
      lock.lock();
    }
  });
}

void CpuShareSampler::Stop() {
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
  impl_->TakeSample();
}

CpuShareWindow CpuShareSampler::Window(double begin_steady_s, double end_steady_s) const {
  std::lock_guard lock(impl_->mutex);
  CpuShareWindow w;
  if (impl_->samples.size() < 2 || end_steady_s <= begin_steady_s) return w;
  const Sample a = impl_->At(begin_steady_s);
  const Sample b = impl_->At(end_steady_s);
  w.duration_s = b.t_s - a.t_s;
  w.server_cpu_s = b.server_s - a.server_s;
  w.self_cpu_s = b.self_s - a.self_s;
  w.machine_busy_cpu_s = b.busy_s - a.busy_s;
  w.machine_cpu_s = b.total_s - a.total_s;
  return w;
}

std::string CpuShareSampler::ServerLabel() const {
  if (impl_->options.pid) return fmt::format("pid {} ({})", *impl_->options.pid, impl_->comm);
  return "cgroup " + impl_->options.cgroup_path.string();
}

std::string CpuShareSampler::Method() const {
  return fmt::format("{} {} over {} busy time", impl_->server_path.string(),
                     impl_->options.pid ? "utime+stime" : "usage_usec",
                     impl_->machine_path.string());
}

bool CpuShareSampler::server_gone() const { return impl_->gone.load(); }

}  // namespace joulebench::sampling
