#include "joulebench/sampling/meter.h"

#include <fmt/format.h>
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/printable_text.h"
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
// A domain that fails more often than this keeps its gaps in memory and in the store no
// longer one by one: later gaps extend its last one (which then also covers the good samples
// between them, so that the report errs on the side of "not measured").
constexpr std::size_t kMaxGapsPerDomain = 1000;
// Gaps of one domain warned one by one; later ones are only in the timeline's gaps.
constexpr std::size_t kGapWarningsPerDomain = 10;
// Unmeasured time below this is rounding, not a gap.
constexpr double kUnmeasuredToleranceS = 1e-9;

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
  std::vector<bool> failing;              // a gap is open (reads fail) for this domain
  std::vector<std::size_t> gap_warnings;  // gap warnings given per domain
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
  // Gaps per domain, closed and open (open ones have open=true; their end is the latest
  // sample), in order of their begin.
  std::vector<std::vector<TimelineGap>> gaps;
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
    failing.assign(domains.size(), false);
    gap_warnings.assign(domains.size(), 0);
    gaps.resize(domains.size());
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
    // Whole and components measured over different spans: their difference means nothing.
    bool partial = false;
    for (const auto& e : r.domains) {
      const bool in_split =
          wholes.contains(e.domain.name) ||
          std::find(split.component_domains.begin(), split.component_domains.end(),
                    e.domain.name) != split.component_domains.end();
      if (in_split && e.unmeasured_s > 0) partial = true;
    }
    if (partial) {
      split.rest_joules = std::numeric_limits<double>::quiet_NaN();
      split.rest_mean_watts = std::numeric_limits<double>::quiet_NaN();
      if (split.rest_attributable_joules) {
        split.rest_attributable_joules = std::numeric_limits<double>::quiet_NaN();
      }
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

  // Appends a gap to domain d's list (data_mutex held), or extends its last one when the
  // domain has failed too often to keep each.
  void PushGapLocked(std::size_t d, TimelineGap gap) {
    auto& list = gaps[d];
    if (list.size() < kMaxGapsPerDomain) {
      list.push_back(std::move(gap));
      return;
    }
    TimelineGap& last = list.back();
    last.end_s = gap.end_s;
    last.bridged = false;
    last.lost = gap.lost;
    last.open = gap.open;
    last.reason = fmt::format(
        "this domain had more than {} gaps: this one also covers the later ones and the "
        "samples between them; latest: {}",
        kMaxGapsPerDomain, gap.reason);
  }

  // A failed read: opens a gap from the domain's last good sample, or marks the open one lost.
  // A failed read's reason as text fit for reports and the store: a sensor library's error
  // string is outside input (bounded, printable UTF-8).
  static std::string ProblemText(const energy::Reading& reading) {
    return PrintableText(reading.problem != nullptr ? reading.problem : "no reason given", 200);
  }

  void NoteFailedRead(std::size_t d, double t_s, const energy::Reading& reading) {
    integrators[d].Add(t_s, reading);
    std::lock_guard lock(data_mutex);
    if (failing[d]) {
      TimelineGap& open = gaps[d].back();
      if (reading.lost && !open.lost) {
        open.lost = true;
        open.reason = fmt::format("lost: {}", ProblemText(reading));
        warnings.emplace_back(t_s, LostWarning(d, open));
      }
      return;
    }
    failing[d] = true;
    TimelineGap gap;
    gap.domain = domains[d].name;
    gap.begin_s = integrators[d].has_reading() ? integrators[d].last_good_s() : t_s;
    gap.end_s = t_s;
    gap.open = true;
    gap.lost = reading.lost;
    gap.reason = fmt::format("{}: {}", reading.lost ? "lost" : "read failed", ProblemText(reading));
    if (gap.lost) warnings.emplace_back(t_s, LostWarning(d, gap));
    PushGapLocked(d, std::move(gap));
  }

  // Warns about a gap of domain d (data_mutex held), up to kGapWarningsPerDomain times.
  void WarnGapLocked(std::size_t d, double t_s, std::string text) {
    const std::size_t n = ++gap_warnings[d];
    if (n > kGapWarningsPerDomain) return;
    if (n == kGapWarningsPerDomain) {
      text += fmt::format(
          "; {} has failed {} times: its later gaps are not warned one by one "
          "(the run's timeline lists them)",
          domains[d].name, n);
    }
    warnings.emplace_back(t_s, std::move(text));
  }

  std::string LostWarning(std::size_t d, const TimelineGap& gap) const {
    return fmt::format(
        "{}: {} at {} after the meter started; the other domains go on, and totals of windows "
        "from then on leave this domain out",
        domains[d].name, gap.reason, FormatDuration(gap.begin_s));
  }

  // The first good read after failed ones: the open gap ends here.
  void CloseGap(std::size_t d, double t_s, const IntegrationEvent& event) {
    std::lock_guard lock(data_mutex);
    failing[d] = false;
    TimelineGap& gap = gaps[d].back();
    gap.end_s = t_s;
    gap.open = false;
    gap.lost = false;
    gap.bridged = !event.dropped;
    if (event.implausible_jump) {
      gap.reason += fmt::format("; then the counter went back {}, more than a wrap allows",
                                FormatJoules(event.jump_joules));
    } else if (event.extra_wraps > 0) {
      gap.reason += fmt::format("; the counter may have wrapped {} more time(s) meanwhile",
                                event.extra_wraps);
    }
    WarnGapLocked(d, t_s,
                  fmt::format("{}: no reading from {} to {} ({}); {}", domains[d].name,
                              FormatDuration(gap.begin_s), FormatDuration(t_s), gap.reason,
                              gap.bridged ? "its counter measured the energy across that span"
                                          : "that span's energy is not measured and not counted"));
  }

  // A good read whose interval is not counted although no read failed (a counter fault).
  void AddDroppedInterval(std::size_t d, double t_s, const IntegrationEvent& event) {
    TimelineGap gap;
    gap.domain = domains[d].name;
    gap.begin_s = event.dropped_from_s;
    gap.end_s = t_s;
    if (event.implausible_jump) {
      gap.reason = fmt::format("counter fault: it went back {}, more than a wrap allows (range {})",
                               FormatJoules(event.jump_joules),
                               FormatJoules(domains[d].counter_range_joules));
    } else if (event.counter_reset) {
      gap.reason = "counter fault: it went backwards (driver reset?)";
    } else {
      gap.reason = "not counted";
    }
    std::lock_guard lock(data_mutex);
    WarnGapLocked(d, t_s,
                  fmt::format("{}: {}; the {} from {} to {} is a gap: not counted", domains[d].name,
                              gap.reason, FormatDuration(t_s - gap.begin_s),
                              FormatDuration(gap.begin_s), FormatDuration(t_s)));
    PushGapLocked(d, std::move(gap));
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
      const energy::Reading& reading = readings[d];
      if (!reading.ok) [[unlikely]] {
        NoteFailedRead(d, t_s, reading);
        row[d] = integrators[d].joules();
        continue;
      }
      const IntegrationEvent event = integrators[d].Add(t_s, reading);
      if (failing[d]) [[unlikely]] {
        CloseGap(d, t_s, event);
      } else if (event.dropped) [[unlikely]] {
        AddDroppedInterval(d, t_s, event);
      }
      if (event.extra_wraps > 0 && !event.dropped) [[unlikely]] {
        std::lock_guard lock(data_mutex);
        warnings.emplace_back(
            t_s, fmt::format("{}: no sample for {}; its counter (range {}) probably wrapped {} "
                             "more time(s), estimated from {} of recent power: that interval's "
                             "energy is an estimate",
                             domains[d].name, FormatDuration(event.gap_s),
                             FormatJoules(domains[d].counter_range_joules), event.extra_wraps,
                             FormatWatts(event.assumed_watts)));
      }
      row[d] = integrators[d].joules();
    }
    {
      std::lock_guard lock(data_mutex);
      timeline.Append(t_s, row.data());
      for (std::size_t d = 0; d < domains.size(); ++d) {
        read_ok[d] = readings[d].ok;
        if (!readings[d].ok) ++failed_reads[d];
        if (failing[d]) [[unlikely]]
          gaps[d].back().end_s = t_s;
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

  // For each domain: whether the total would add it if it is not lost itself, i.e. none of
  // its containers is measured and not lost. The total leaves a lost domain out and counts
  // the domains inside it instead.
  std::vector<bool> WouldCount(const std::vector<bool>& lost) const {
    std::map<std::string, std::size_t> index_of;
    for (std::size_t d = 0; d < domains.size(); ++d) index_of.emplace(domains[d].name, d);
    std::vector<bool> out(domains.size(), true);
    for (std::size_t d = 0; d < domains.size(); ++d) {
      std::string parent = domains[d].parent;
      for (std::size_t depth = 0; !parent.empty() && depth < domains.size(); ++depth) {
        const auto it = index_of.find(parent);
        if (it == index_of.end()) break;
        if (!lost[it->second]) {
          out[d] = false;
          break;
        }
        parent = domains[it->second].parent;
      }
    }
    return out;
  }

  // Domains lost for good so far (data_mutex held).
  std::vector<bool> LostNowLocked() const {
    std::vector<bool> lost(domains.size(), false);
    for (std::size_t d = 0; d < domains.size(); ++d) {
      lost[d] = !gaps[d].empty() && gaps[d].back().lost;
    }
    return lost;
  }

  // What the report's total leaves out or holds only in part, one line each.
  static void AddGapWarnings(EnergyReport& r, const std::string& label) {
    for (const auto& e : r.domains) {
      if (e.excluded_from_total) {
        r.warnings.push_back(fmt::format(
            "{}: the total leaves out {}: lost at {} ({}); the {} it measured before are shown "
            "on its line only",
            label, e.domain.name, FormatDuration(e.lost_at_s.value_or(r.begin_s)),
            e.gaps.empty() ? "sensor lost" : e.gaps.back().reason, FormatJoules(e.joules)));
      } else if (e.in_total && e.unmeasured_s > 0) {
        r.warnings.push_back(fmt::format(
            "{}: the total is a lower bound: {} was measured over {} of {} ({} gap{}: {}); its "
            "energy over the rest is not counted, not interpolated",
            label, e.domain.name, FormatDuration(r.duration_s - e.unmeasured_s),
            FormatDuration(r.duration_s), e.gaps.size(), e.gaps.size() == 1 ? "" : "s",
            e.gaps.empty() ? "" : e.gaps.front().reason));
      }
    }
    if (r.whole_system && std::isnan(r.whole_system->rest_joules)) {
      r.warnings.push_back(
          fmt::format("{}: the rest of the system is not computed: a domain of the whole or of its "
                      "components was not measured over the whole window",
                      label));
    }
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
    // Gaps first: they decide each domain's edges, unmeasured time and whether it is lost.
    std::vector<bool> lost(domains.size(), false);
    for (std::size_t d = 0; d < domains.size(); ++d) {
      DomainEnergy e;
      e.domain = domains[d];
      double joules_begin = timeline.JoulesAt(d, begin_s);
      double joules_end = timeline.JoulesAt(d, end_s);
      for (const auto& g : gaps[d]) {
        if (g.begin_s >= end_s || g.end_s <= begin_s) {
          if (g.lost && g.begin_s < end_s) {  // lost before the window and never back
            lost[d] = true;
            e.lost_at_s = g.begin_s;
            e.unmeasured_s = duration;
            TimelineGap clipped = g;
            clipped.begin_s = begin_s;
            clipped.end_s = end_s;
            e.gaps.push_back(std::move(clipped));
          }
          continue;
        }
        // An edge inside a gap takes the value on the far side of it, so that a window never
        // gets part of a gap's energy by interpolation.
        if (g.begin_s < begin_s) joules_begin = timeline.JoulesAt(d, g.end_s);
        if (g.end_s > end_s) joules_end = timeline.JoulesAt(d, g.begin_s);
        const bool inside = g.begin_s >= begin_s && g.end_s <= end_s;
        if (!(g.bridged && inside)) {
          e.unmeasured_s += std::min(end_s, g.end_s) - std::max(begin_s, g.begin_s);
        }
        if (g.lost) {
          lost[d] = true;
          e.lost_at_s = g.begin_s;
          // Lost for good: unmeasured to the end of the window, whatever the latest sample.
          e.unmeasured_s += end_s - std::min(end_s, g.end_s);
        }
        TimelineGap clipped = g;
        clipped.begin_s = std::max(begin_s, g.begin_s);
        clipped.end_s = g.lost ? end_s : std::min(end_s, g.end_s);
        e.gaps.push_back(std::move(clipped));
      }
      e.unmeasured_s = std::min(e.unmeasured_s, duration);
      if (e.unmeasured_s < kUnmeasuredToleranceS) e.unmeasured_s = 0;
      e.joules = std::max(0.0, joules_end - joules_begin);
      const double measured_s = duration - e.unmeasured_s;
      e.mean_watts = measured_s > 0 ? e.joules / measured_s : 0;
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
        e.attributable_joules = e.joules - watts * measured_s;
      }
      r.domains.push_back(std::move(e));
    }
    const std::vector<bool> would_count_all = WouldCount(lost);
    double total_attributable = 0;
    for (std::size_t d = 0; d < domains.size(); ++d) {
      DomainEnergy& e = r.domains[d];
      const bool would_count = would_count_all[d];
      e.in_total = would_count && !lost[d];
      e.excluded_from_total = would_count && lost[d];
      if (e.excluded_from_total) r.excluded_domains.push_back(domains[d].name);
      if (!e.in_total) continue;
      if (e.unmeasured_s > 0) r.partial_domains.push_back(domains[d].name);
      r.total_joules += e.joules;
      if (e.attributable_joules) total_attributable += *e.attributable_joules;
      r.total_domains.push_back(domains[d].name);
      if (domains[d].provenance.kind == energy::ProvenanceKind::kModelled) r.any_modelled = true;
    }
    r.total_complete = r.excluded_domains.empty() && r.partial_domains.empty();
    if (have_baseline) r.total_attributable_joules = total_attributable;
    r.mean_watts = duration > 0 ? r.total_joules / duration : 0;
    r.whole_system = SplitLocked(r);

    const std::string label = r.name.empty() ? "window" : fmt::format("window '{}'", r.name);
    AddGapWarnings(r, label);
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
  // A lost domain gives no power: the domains inside it count instead (as in the reports).
  const std::vector<bool> lost = impl_->LostNowLocked();
  const bool any_lost = std::find(lost.begin(), lost.end(), true) != lost.end();
  const std::vector<bool> counted = any_lost ? impl_->WouldCount(lost) : impl_->in_total;
  for (std::size_t d = 0; d < impl_->domains.size(); ++d) {
    if (counted[d] && !lost[d]) joules += tl.JoulesAt(d, end) - tl.JoulesAt(d, begin);
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
  for (const auto& list : impl_->gaps) t.gaps.insert(t.gaps.end(), list.begin(), list.end());
  std::stable_sort(t.gaps.begin(), t.gaps.end(),
                   [](const auto& a, const auto& b) { return a.begin_s < b.begin_s; });
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
  out.in_gap.assign(domain_count, false);
  std::lock_guard lock(m.data_mutex);
  out.lost = m.LostNowLocked();
  const bool any_lost = std::find(out.lost.begin(), out.lost.end(), true) != out.lost.end();
  out.counted = any_lost ? m.WouldCount(out.lost) : m.in_total;
  for (std::size_t d = 0; d < domain_count; ++d) {
    if (out.lost[d]) out.counted[d] = false;
    out.in_gap[d] = !m.gaps[d].empty() && m.gaps[d].back().open;
  }
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
      // Its newest gap reaching into the span (gaps are in order of their begin).
      const bool gap_in_span =
          !m.gaps[d].empty() && (m.gaps[d].back().open || m.gaps[d].back().end_s > begin);
      out.watts[d] = span_s > 0 && !gap_in_span && !out.lost[d]
                         ? (out.joules[d] - tl.JoulesAt(d, begin)) / span_s
                         : std::nan("");
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
