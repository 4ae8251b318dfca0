#include "joulebench/sampling/meter.h"

#include <fmt/format.h>
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/units.h"
#include "sampling/domain_integrator.h"
#include "sampling/timeline_store.h"

namespace joulebench::sampling {
namespace {

using Clock = std::chrono::steady_clock;

// How often the sampler asks sources for their warnings (they may allocate).
constexpr double kWarningPollS = 0.1;
// A window shorter than this many sensor updates gets a warning.
constexpr double kMinUpdatesPerWindow = 3;
// A negative rest of the system beyond both of these gets a warning (below them it is the
// sensors' noise and their different refresh times).
constexpr double kRestToleranceJoules = 1.0;
constexpr double kRestToleranceFraction = 0.02;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

struct Meter::Impl {
  MeterOptions options;
  std::vector<std::unique_ptr<energy::Source>> sources;
  std::vector<std::size_t> offsets;  // first domain index of each source
  std::vector<energy::DomainInfo> domains;
  std::vector<std::string> domain_sources;
  std::vector<bool> in_total;

  // Owned by whoever holds sample_mutex (the sampler thread, or a caller while it is not
  // running).
  std::mutex sample_mutex;
  std::vector<energy::Reading> readings;
  std::vector<DomainIntegrator> integrators;
  std::vector<double> row;
  bool started_clock = false;
  Clock::time_point t0;
  double last_warning_poll_s = -1;

  // Guarded by data_mutex: read by report and steady-state queries from other threads.
  mutable std::mutex data_mutex;
  double start_unix_s = 0;
  TimelineStore timeline;
  std::vector<bool> read_ok;                             // per domain: the newest read succeeded
  std::vector<std::uint64_t> failed_reads;               // per domain
  std::vector<std::pair<double, std::string>> warnings;  // (time_s, text)
  std::size_t warnings_taken = 0;
  std::map<std::string, double> baseline_watts;
  std::map<WindowId, std::pair<std::string, double>> open_windows;  // name, begin_s
  WindowId next_window = 1;

  // The sampler thread and on-demand sample requests.
  std::mutex control_mutex;
  std::condition_variable wake;
  std::condition_variable done;
  bool running = false;
  bool stop_requested = false;
  std::uint64_t requested = 0;
  std::uint64_t completed = 0;
  std::thread thread;

  Impl(std::vector<std::unique_ptr<energy::Source>> s, MeterOptions o)
      : options(o), sources(std::move(s)), timeline(0) {
    if (options.interval < std::chrono::milliseconds(1) ||
        options.interval > std::chrono::hours(1)) {
      throw InputError(fmt::format("sampling interval {} is out of range; use 1ms to 1h",
                                   FormatDuration(Seconds(options.interval))));
    }
    if (options.keep < std::chrono::nanoseconds::zero()) {
      throw InputError("the meter's sample retention must not be negative");
    }
    for (const auto& source : sources) {
      offsets.push_back(domains.size());
      const auto& ds = source->domains();
      domains.insert(domains.end(), ds.begin(), ds.end());
      domain_sources.insert(domain_sources.end(), ds.size(), std::string(source->name()));
    }
    std::set<std::string> names;
    for (const auto& d : domains) names.insert(d.name);
    NestInsideWholeMachine(names);
    // A domain is counted unless its container is measured too (no double counting).
    for (const auto& d : domains) in_total.push_back(d.parent.empty() || !names.contains(d.parent));
    readings.resize(domains.size());
    row.resize(domains.size());
    read_ok.assign(domains.size(), false);
    failed_reads.assign(domains.size(), 0);
    for (const auto& d : domains) integrators.emplace_back(d);
    timeline = TimelineStore(domains.size());
  }

  // A reading of the whole machine at its inlet (a BMC) holds every other sensor of this
  // machine: the top-level domains go inside it, so that the total is that reading. Modelled
  // network traffic stays outside: its coefficient is the energy of the network beyond the
  // machine (docs/sources.md).
  void NestInsideWholeMachine(const std::set<std::string>& names) {
    const auto machine = std::find_if(domains.begin(), domains.end(), [](const auto& d) {
      return d.whole_machine && d.parent.empty();
    });
    if (machine == domains.end()) return;
    const std::string whole = machine->name;
    for (auto& d : domains) {
      if (d.name == whole) continue;
      const bool top_level = d.parent.empty() || !names.contains(d.parent);
      const bool outside_the_machine = d.component == energy::Component::kNetwork &&
                                       d.provenance.kind == energy::ProvenanceKind::kModelled;
      if (top_level && !outside_the_machine) d.parent = whole;
    }
  }

  // Whole-system domains in the total with domains inside them: whole, components, rest.
  std::optional<WholeSystemSplit> SplitLocked(const EnergyReport& r) const {
    WholeSystemSplit split;
    std::set<std::string> wholes;
    for (const auto& e : r.domains) {
      if (!e.in_total || e.domain.component != energy::Component::kPlatform) continue;
      wholes.insert(e.domain.name);
    }
    bool any_inside = false;
    double components_attributable = 0;
    double whole_attributable = 0;
    for (const auto& e : r.domains) {
      if (wholes.contains(e.domain.name)) continue;
      if (!wholes.contains(e.domain.parent)) continue;
      any_inside = true;
      if (e.domain.provenance.kind != energy::ProvenanceKind::kMeasured || e.domain.whole_machine) {
        split.unsubtracted_domains.push_back(e.domain.name);
        continue;
      }
      split.component_domains.push_back(e.domain.name);
      split.component_joules += e.joules;
      components_attributable += e.attributable_joules.value_or(e.joules);
    }
    if (!any_inside) return std::nullopt;
    for (const auto& e : r.domains) {
      if (!wholes.contains(e.domain.name)) continue;
      split.whole_domains.push_back(e.domain.name);
      split.whole_joules += e.joules;
      whole_attributable += e.attributable_joules.value_or(e.joules);
      if (e.domain.whole_machine) split.whole_machine = true;
    }
    split.rest_joules = split.whole_joules - split.component_joules;
    split.rest_mean_watts = r.duration_s > 0 ? split.rest_joules / r.duration_s : 0;
    if (r.total_attributable_joules) {
      split.rest_attributable_joules = whole_attributable - components_attributable;
    }
    return split;
  }

  void PollSourceWarnings(double t_s) {
    for (const auto& source : sources) {
      auto texts = source->TakeWarnings();
      if (texts.empty()) continue;
      std::lock_guard lock(data_mutex);
      for (auto& text : texts) warnings.emplace_back(t_s, std::move(text));
    }
  }

  void TakeSample(bool force_warning_poll) {
    std::lock_guard sample_lock(sample_mutex);
    const Clock::time_point before = Clock::now();
    if (!started_clock) {
      started_clock = true;
      t0 = before;
      std::lock_guard lock(data_mutex);
      start_unix_s = Seconds(std::chrono::system_clock::now().time_since_epoch());
    }
    for (std::size_t s = 0; s < sources.size(); ++s) {
      sources[s]->Read(
          std::span<energy::Reading>(readings.data() + offsets[s], sources[s]->domains().size()));
    }
    const Clock::time_point after = Clock::now();
    const double t_s = Seconds(before - t0) + 0.5 * Seconds(after - before);
    for (std::size_t d = 0; d < domains.size(); ++d) {
      const IntegrationEvent event = integrators[d].Add(t_s, readings[d]);
      if (event.extra_wraps > 0) [[unlikely]] {
        std::lock_guard lock(data_mutex);
        warnings.emplace_back(
            t_s, fmt::format("{}: no sample for {}; its counter (range {}) probably wrapped {} "
                             "more time(s), estimated from {} of recent power: that interval's "
                             "energy is an estimate",
                             domains[d].name, FormatDuration(event.gap_s),
                             FormatJoules(domains[d].counter_range_joules), event.extra_wraps,
                             FormatWatts(event.assumed_watts)));
      } else if (event.counter_reset) [[unlikely]] {
        std::lock_guard lock(data_mutex);
        warnings.emplace_back(t_s, fmt::format("{}: the counter went backwards (driver reset?); "
                                               "that interval is not counted",
                                               domains[d].name));
      }
      row[d] = integrators[d].joules();
    }
    {
      std::lock_guard lock(data_mutex);
      timeline.Append(t_s, row.data());
      for (std::size_t d = 0; d < domains.size(); ++d) {
        read_ok[d] = readings[d].ok;
        if (!readings[d].ok) ++failed_reads[d];
      }
      if (options.keep.count() > 0) timeline.DropBefore(t_s - Seconds(options.keep));
    }
    if (force_warning_poll || t_s - last_warning_poll_s >= kWarningPollS) {
      last_warning_poll_s = t_s;
      PollSourceWarnings(t_s);
    }
  }

  void Loop() {
    const Clock::time_point begin = Clock::now();
    const auto interval = options.interval;
    std::int64_t tick = 1;
    std::unique_lock lock(control_mutex);
    while (!stop_requested) {
      if (requested > completed) {
        const std::uint64_t target = requested;
        lock.unlock();
        TakeSample(true);
        lock.lock();
        completed = target;
        done.notify_all();
        continue;
      }
      // Absolute deadlines (begin + k * interval): sampling cost and wake-up latency do not
      // accumulate into drift. A missed deadline is skipped, not made up in a burst.
      const Clock::time_point deadline = begin + tick * interval;
      const Clock::time_point now = Clock::now();
      if (now >= deadline) {
        lock.unlock();
        TakeSample(false);
        lock.lock();
        tick = (Clock::now() - begin) / interval + 1;
        continue;
      }
      wake.wait_until(lock, deadline);
    }
  }

  void SampleNow() {
    std::unique_lock lock(control_mutex);
    if (!running) {
      lock.unlock();
      TakeSample(true);
      return;
    }
    const std::uint64_t ticket = ++requested;
    wake.notify_all();
    done.wait(lock, [&] { return completed >= ticket || !running; });
  }

  double NowS() const {
    std::lock_guard lock(data_mutex);
    return timeline.size() == 0 ? 0 : timeline.time_s(timeline.size() - 1);
  }

  // Builds a report for [begin_s, end_s]; data_mutex must be held.
  EnergyReport ReportLocked(double begin_s, double end_s, std::string name) const {
    EnergyReport r;
    r.name = std::move(name);
    const std::size_t n = timeline.size();
    if (n == 0) return r;
    const double first = timeline.time_s(timeline.first());
    const double last = timeline.time_s(n - 1);
    begin_s = std::clamp(begin_s, first, last);
    end_s = std::clamp(end_s, begin_s, last);
    r.begin_s = begin_s;
    r.end_s = end_s;
    r.duration_s = end_s - begin_s;
    const double duration = r.duration_s;

    // Sample range inside the window, and the intervals used for peak power: consecutive
    // samples merged until they span half an interval, so that an on-demand sample right
    // after a periodic one does not produce a meaningless spike.
    const std::size_t after_begin = timeline.LastAtOrBefore(begin_s);
    std::size_t first_in = after_begin == n ? timeline.first() : after_begin;
    if (timeline.time_s(first_in) < begin_s) ++first_in;
    const std::size_t last_at = timeline.LastAtOrBefore(end_s);
    std::size_t samples = 0;
    if (last_at != n && first_in <= last_at) samples = last_at - first_in + 1;
    const double interval_s = Seconds(options.interval);

    const bool have_baseline = !baseline_watts.empty();
    double total_attributable = 0;
    for (std::size_t d = 0; d < domains.size(); ++d) {
      DomainEnergy e;
      e.domain = domains[d];
      e.joules = timeline.JoulesAt(d, end_s) - timeline.JoulesAt(d, begin_s);
      e.mean_watts = duration > 0 ? e.joules / duration : 0;
      e.samples = samples;
      const double min_dt = std::max(0.5 * interval_s, domains[d].update_period_s);
      std::size_t anchor = after_begin == n ? timeline.first() : after_begin;
      for (std::size_t i = anchor + 1; i < n && timeline.time_s(anchor) < end_s; ++i) {
        const double dt = timeline.time_s(i) - timeline.time_s(anchor);
        if (dt < min_dt && i + 1 < n && timeline.time_s(i) < end_s) continue;
        if (dt > 0) {
          e.peak_watts =
              std::max(e.peak_watts, (timeline.joules(i, d) - timeline.joules(anchor, d)) / dt);
        }
        anchor = i;
      }
      if (have_baseline) {
        const auto it = baseline_watts.find(domains[d].name);
        const double watts = it == baseline_watts.end() ? 0 : it->second;
        e.baseline_watts = watts;
        e.attributable_joules = e.joules - watts * duration;
      }
      e.in_total = in_total[d];
      if (e.in_total) {
        r.total_joules += e.joules;
        if (e.attributable_joules) total_attributable += *e.attributable_joules;
        r.total_domains.push_back(domains[d].name);
        if (domains[d].provenance.kind == energy::ProvenanceKind::kModelled) r.any_modelled = true;
      }
      r.domains.push_back(std::move(e));
    }
    if (have_baseline) r.total_attributable_joules = total_attributable;
    r.mean_watts = duration > 0 ? r.total_joules / duration : 0;
    r.whole_system = SplitLocked(r);

    const std::string label = r.name.empty() ? "window" : fmt::format("window '{}'", r.name);
    if (r.whole_system && r.whole_system->rest_joules <
                              -std::max(kRestToleranceJoules,
                                        kRestToleranceFraction * r.whole_system->whole_joules)) {
      r.warnings.push_back(fmt::format(
          "{}: the components inside the whole system measured {} more than the whole ({}): "
          "the rest of the system is negative. A BMC refreshes slowly and lags the component "
          "sensors: measure a longer window, or the sensors disagree",
          label, FormatJoules(-r.whole_system->rest_joules),
          FormatJoules(r.whole_system->whole_joules)));
    }
    if (duration < 2 * interval_s) {
      r.warnings.push_back(fmt::format(
          "{} lasted {}, less than two sampling intervals ({} each): its energy is imprecise; "
          "measure longer or sample faster (--interval)",
          label, FormatDuration(duration), FormatDuration(interval_s)));
    }
    for (const auto& d : domains) {
      if (d.min_window_s > 0 && duration < d.min_window_s) {
        r.warnings.push_back(
            fmt::format("{} lasted {}, shorter than the {} {} needs ({}): its "
                        "energy there is imprecise",
                        label, FormatDuration(duration), FormatDuration(d.min_window_s), d.name,
                        d.note.empty() ? "sensor averaging" : d.note));
      } else if (d.update_period_s > 0 && duration < kMinUpdatesPerWindow * d.update_period_s) {
        r.warnings.push_back(fmt::format(
            "{} lasted {}, fewer than {} updates of {} (it refreshes every {}): its energy there "
            "is imprecise",
            label, FormatDuration(duration), kMinUpdatesPerWindow, d.name,
            FormatDuration(d.update_period_s)));
      }
    }
    for (const auto& [t, text] : warnings) {
      if (t >= begin_s && t <= end_s) r.warnings.push_back(text);
    }
    return r;
  }
};

Meter::Meter(std::vector<std::unique_ptr<energy::Source>> sources, MeterOptions options)
    : impl_(std::make_unique<Impl>(std::move(sources), options)) {}

Meter Meter::FromProbe(std::vector<energy::ProbeResult> probes, MeterOptions options) {
  std::vector<std::unique_ptr<energy::Source>> sources;
  for (auto& p : probes) {
    if (p.status == energy::ProbeStatus::kAvailable && p.source) {
      sources.push_back(std::move(p.source));
    }
  }
  return Meter(std::move(sources), options);
}

Meter::~Meter() {
  if (impl_) Stop();
}
Meter::Meter(Meter&&) noexcept = default;
Meter& Meter::operator=(Meter&& other) noexcept {
  if (this != &other) {
    if (impl_) Stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void Meter::Start() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.control_mutex);
    if (m.running) return;
  }
  m.TakeSample(true);
  std::lock_guard lock(m.control_mutex);
  m.stop_requested = false;
  m.running = true;
  m.thread = std::thread([&m] { m.Loop(); });
}

void Meter::Stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.control_mutex);
    if (!m.running) return;
    m.stop_requested = true;
    m.wake.notify_all();
  }
  m.thread.join();
  {
    std::lock_guard lock(m.control_mutex);
    m.running = false;
    m.done.notify_all();
  }
  m.TakeSample(true);
}

const std::vector<energy::DomainInfo>& Meter::domains() const { return impl_->domains; }
const MeterOptions& Meter::options() const { return impl_->options; }

EnergyReport Meter::MeasureBaseline(std::chrono::nanoseconds duration) {
  Start();
  const WindowId id = BeginWindow("baseline");
  std::this_thread::sleep_for(duration);
  EnergyReport report = EndWindow(id);
  std::vector<std::pair<std::string, double>> watts;
  for (const auto& d : report.domains) watts.emplace_back(d.domain.name, d.mean_watts);
  SetBaseline(watts);
  return report;
}

void Meter::SetBaseline(const std::vector<std::pair<std::string, double>>& watts_by_domain) {
  std::lock_guard lock(impl_->data_mutex);
  impl_->baseline_watts.clear();
  for (const auto& [name, watts] : watts_by_domain) impl_->baseline_watts[name] = watts;
}

WindowId Meter::BeginWindow(std::string name) {
  impl_->SampleNow();
  const double t = impl_->NowS();
  std::lock_guard lock(impl_->data_mutex);
  const WindowId id = impl_->next_window++;
  impl_->open_windows.emplace(id, std::make_pair(std::move(name), t));
  return id;
}

EnergyReport Meter::EndWindow(WindowId id) {
  std::pair<std::string, double> window;
  {
    std::lock_guard lock(impl_->data_mutex);
    const auto it = impl_->open_windows.find(id);
    if (it == impl_->open_windows.end()) {
      throw InputError(fmt::format("window {} was not begun or has already ended", id));
    }
    window = std::move(it->second);
    impl_->open_windows.erase(it);
  }
  impl_->SampleNow();
  std::lock_guard lock(impl_->data_mutex);
  const double end = impl_->timeline.time_s(impl_->timeline.size() - 1);
  return impl_->ReportLocked(window.second, end, std::move(window.first));
}

EnergyReport Meter::WindowSoFar(WindowId id) const {
  std::lock_guard lock(impl_->data_mutex);
  const auto it = impl_->open_windows.find(id);
  if (it == impl_->open_windows.end()) {
    throw InputError(fmt::format("window {} was not begun or has already ended", id));
  }
  const auto& timeline = impl_->timeline;
  const double end = timeline.size() > 0 ? timeline.time_s(timeline.size() - 1) : 0;
  return impl_->ReportLocked(it->second.second, end, it->second.first);
}

EnergyReport Meter::Between(double begin_s, double end_s, std::string name) const {
  std::lock_guard lock(impl_->data_mutex);
  return impl_->ReportLocked(begin_s, end_s, std::move(name));
}

double Meter::Now() const {
  std::lock_guard lock(impl_->sample_mutex);
  if (!impl_->started_clock) return 0;
  return Seconds(Clock::now() - impl_->t0);
}

double Meter::RecentTotalWatts(std::chrono::nanoseconds span) const {
  std::lock_guard lock(impl_->data_mutex);
  const auto& tl = impl_->timeline;
  if (tl.size() < 2) return 0;
  const double end = tl.time_s(tl.size() - 1);
  const double begin = std::max(tl.time_s(tl.first()), end - Seconds(span));
  if (end <= begin) return 0;
  double joules = 0;
  for (std::size_t d = 0; d < impl_->domains.size(); ++d) {
    if (impl_->in_total[d]) joules += tl.JoulesAt(d, end) - tl.JoulesAt(d, begin);
  }
  return joules / (end - begin);
}

Timeline Meter::Snapshot() const { return SnapshotFrom(0); }

Timeline Meter::SnapshotFrom(std::size_t first_sample) const {
  std::lock_guard lock(impl_->data_mutex);
  Timeline t;
  t.start_unix_s = impl_->start_unix_s;
  t.domains = impl_->domains;
  const auto& tl = impl_->timeline;
  first_sample = std::max(first_sample, tl.first());
  const std::size_t n = tl.size() > first_sample ? tl.size() - first_sample : 0;
  t.time_s.reserve(n);
  t.joules.assign(impl_->domains.size(), {});
  for (auto& j : t.joules) j.reserve(n);
  for (std::size_t i = first_sample; i < tl.size(); ++i) {
    t.time_s.push_back(tl.time_s(i));
    for (std::size_t d = 0; d < impl_->domains.size(); ++d) t.joules[d].push_back(tl.joules(i, d));
  }
  return t;
}

std::size_t Meter::sample_count() const {
  std::lock_guard lock(impl_->data_mutex);
  return impl_->timeline.size();
}

double Meter::SamplerCpuSeconds() const {
  std::lock_guard lock(impl_->control_mutex);
  if (!impl_->running) return 0;
  clockid_t clock = 0;
  timespec ts{};
  if (pthread_getcpuclockid(impl_->thread.native_handle(), &clock) != 0 ||
      clock_gettime(clock, &ts) != 0) {
    return 0;
  }
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void Meter::ReadLive(std::chrono::nanoseconds power_span, LiveReadings& out) const {
  const Impl& m = *impl_;
  const std::size_t domain_count = m.domains.size();
  out.joules.resize(domain_count);
  out.watts.resize(domain_count);
  out.read_ok.resize(domain_count);
  out.failed_reads.resize(domain_count);
  std::lock_guard lock(m.data_mutex);
  const TimelineStore& tl = m.timeline;
  out.start_unix_s = m.start_unix_s;
  out.samples = tl.size();
  if (tl.size() == 0) {
    out.time_s = 0;
    std::fill(out.joules.begin(), out.joules.end(), 0.0);
    std::fill(out.watts.begin(), out.watts.end(), std::nan(""));
  } else {
    const std::size_t last = tl.size() - 1;
    out.time_s = tl.time_s(last);
    const double begin = std::max(tl.time_s(tl.first()), out.time_s - Seconds(power_span));
    const double span_s = out.time_s - begin;
    for (std::size_t d = 0; d < domain_count; ++d) {
      out.joules[d] = tl.joules(last, d);
      out.watts[d] = span_s > 0 ? (out.joules[d] - tl.JoulesAt(d, begin)) / span_s : std::nan("");
    }
  }
  std::copy(m.read_ok.begin(), m.read_ok.end(), out.read_ok.begin());
  std::copy(m.failed_reads.begin(), m.failed_reads.end(), out.failed_reads.begin());
}

const std::vector<std::string>& Meter::domain_sources() const { return impl_->domain_sources; }

std::vector<std::string> Meter::TakeWarnings() {
  std::lock_guard lock(impl_->data_mutex);
  std::vector<std::string> out;
  for (std::size_t i = impl_->warnings_taken; i < impl_->warnings.size(); ++i) {
    out.push_back(impl_->warnings[i].second);
  }
  impl_->warnings_taken = impl_->warnings.size();
  return out;
}

}  // namespace joulebench::sampling
