// The sampler and its windows: one background thread reads every source at a fixed period
// and keeps a cumulative-joules timeline per domain; windows turn spans of that timeline
// into energy reports.
//
//   auto meter = joulebench::sampling::Meter::FromProbe(energy::ProbeAll(options), {});
//   meter.Start();
//   meter.MeasureBaseline(std::chrono::seconds(10));     // optional idle baseline
//   auto w = meter.BeginWindow("inference");
//   ... workload ...
//   EnergyReport r = meter.EndWindow(w);                  // joules, watts, provenance
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/energy/source.h"

namespace joulebench::sampling {

struct MeterOptions {
  // Sampling period; 1 ms to 1 h. Default 100 ms.
  std::chrono::nanoseconds interval = std::chrono::milliseconds(100);
  // Samples older than this may be dropped (a block of 4096 at a time), so that a meter that
  // runs for days (`joulebench export`) holds bounded memory; windows, reports and snapshots
  // then reach back only this far. 0 (default): every sample is kept.
  std::chrono::nanoseconds keep = std::chrono::nanoseconds::zero();
};

// The newest state of every domain, for exporters that read a running meter (a Prometheus
// scrape) without copying its timeline. Per-domain vectors are in Meter::domains() order.
struct LiveReadings {
  double start_unix_s = 0;  // when the first sample was taken
  double time_s = 0;        // the newest sample, seconds since the first
  std::size_t samples = 0;  // samples taken so far (dropped ones included)
  // Cumulative joules since the first sample: wrap-corrected, so a counter domain's value
  // never decreases.
  std::vector<double> joules;
  // Mean power over the last `power_span` before the newest sample; NaN before two samples,
  // and while a gap of the domain overlaps the span (its energy there is unmeasured, or a
  // bridged gap's whole energy would land in the span) or the domain is lost.
  std::vector<double> watts;
  std::vector<bool> read_ok;                // the newest read of the domain succeeded
  std::vector<std::uint64_t> failed_reads;  // reads that failed since the meter started
  std::vector<bool> in_gap;   // a gap of the domain is open now
  std::vector<bool> lost;     // the domain's sensor is lost for good
  // Whether the machine total counts the domain now: as the reports' totals do, a lost
  // domain is left out and the domains inside it count instead.
  std::vector<bool> counted;
};

// A span in which one domain has no measurement: its reads failed (a powercap file that
// vanished or holds garbage, NVML returning an error, a BMC that stopped answering), its
// counter went back by more than a wrap allows, or its sensor was lost for good. The other
// domains go on being sampled. Over a gap that is not bridged the domain's cumulative joules
// stay flat: its energy there is not measured, and nothing is interpolated.
struct TimelineGap {
  std::string domain;  // the domain's name
  double begin_s = 0;  // its last good sample before the gap (seconds since the meter started)
  double end_s = 0;    // its first good sample after the gap; for an open gap, the latest sample
  std::string reason;  // e.g. "read failed: GPU is lost", "counter went back 100 kJ, ..."
  // The sensor is a counter that kept counting through the gap (RAPL, NVML's energy counter):
  // the energy over the gap is the counter's difference across it, a measurement, though when
  // within the gap it was used is not known. False: the gap's energy is not counted.
  bool bridged = false;
  bool lost = false;  // the domain never came back: lost from begin_s on
  bool open = false;  // the gap had not ended when the timeline was taken
};

// Energy of one domain over a window.
struct DomainEnergy {
  energy::DomainInfo domain;
  double joules = 0;        // total energy in the window
  double mean_watts = 0;    // joules / duration
  double peak_watts = 0;    // highest power between two consecutive samples in the window
  std::size_t samples = 0;  // samples that fell inside the window
  // Idle power measured by MeasureBaseline (if any) and the energy above it:
  // attributable = joules - baseline_watts * duration.
  std::optional<double> baseline_watts;
  std::optional<double> attributable_joules;
  bool in_total = false;  // counted in EnergyReport::total_joules (no double counting)
  // Seconds of the window in which this domain has no measurement (gaps overlapping it; a
  // bridged gap counts only where it crosses an edge of the window, since its energy cannot be
  // split at the edge). `joules` covers only the other duration_s - unmeasured_s seconds.
  double unmeasured_s = 0;
  std::vector<TimelineGap> gaps;    // the gaps overlapping the window, clipped to it
  std::optional<double> lost_at_s;  // the domain was lost for good at this time (<= the end)
  // The total would add this domain but leaves it out because it was lost (lost_at_s): its
  // energy covers only part of the window and says nothing about the rest.
  bool excluded_from_total = false;
};

// How the total divides when it holds a whole-system domain (component kPlatform: a BMC's
// reading of the whole machine, or RAPL psys) with other domains inside it. The total is then
// the whole-system figure; the components inside it are shown but not added.
struct WholeSystemSplit {
  std::vector<std::string> whole_domains;  // the whole-system domains counted in the total
  double whole_joules = 0;                 // their energy in the window
  bool whole_machine = false;              // some of them read the whole machine (a BMC)
  // Measured domains directly inside them (RAPL packages and DRAM, GPUs, Neuron devices):
  // their energy is subtracted from the whole.
  std::vector<std::string> component_domains;
  double component_joules = 0;
  // Domains inside them that are not subtracted: modelled ones (an estimate subtracted from a
  // measurement would turn the rest into a guess) and a second reading of the whole machine.
  // The rest of the system still holds their energy.
  std::vector<std::string> unsubtracted_domains;
  // whole - components: what no component sensor sees (fans, power-supply losses, disks,
  // NICs, the board). Negative when the sensors disagree over the window (a warning says so).
  double rest_joules = 0;
  double rest_mean_watts = 0;  // rest_joules / duration
  // With a baseline: the whole's attributable energy minus the components'.
  std::optional<double> rest_attributable_joules;
};

struct EnergyReport {
  std::string name;
  double begin_s = 0;  // seconds since the meter started
  double end_s = 0;
  double duration_s = 0;
  std::vector<DomainEnergy> domains;
  double total_joules = 0;                          // sum over domains with in_total
  std::optional<double> total_attributable_joules;  // when a baseline was measured
  double mean_watts = 0;                            // total_joules / duration_s
  std::vector<std::string> total_domains;           // names summed into the total
  std::vector<std::string> warnings;  // short window, wrapped counters, vanished zones
  bool any_modelled = false;          // some domain in the total is modelled
  // Set when the total holds a whole-system domain with domains inside it. When a domain of
  // the split has unmeasured time in the window, rest_joules and rest_mean_watts are NaN.
  std::optional<WholeSystemSplit> whole_system;
  // Domains the total leaves out because they were lost in or before the window (the domains
  // inside them are then counted instead, when measured).
  std::vector<std::string> excluded_domains;
  // Domains in the total with unmeasured time in the window: the total then holds their
  // energy over the measured part only and is a lower bound.
  std::vector<std::string> partial_domains;
  // False when excluded_domains or partial_domains is not empty.
  bool total_complete = true;
};

// The stored samples: for sample i, time_s[i] (since the meter started) and, per domain d,
// cumulative joules joules[d][i] since the first sample (wrap-corrected, gauges integrated).
// A domain's series is flat over its gaps that are not bridged.
struct Timeline {
  double start_unix_s = 0;
  std::vector<energy::DomainInfo> domains;
  std::vector<double> time_s;
  std::vector<std::vector<double>> joules;
  // Every gap of every domain so far (also in a SnapshotFrom), in order of their begin.
  std::vector<TimelineGap> gaps;
};

using WindowId = std::uint64_t;

class Meter {
 public:
  Meter(std::vector<std::unique_ptr<energy::Source>> sources, MeterOptions options);
  // Takes the sources of every available probe result.
  static Meter FromProbe(std::vector<energy::ProbeResult> probes, MeterOptions options);
  ~Meter();
  Meter(Meter&&) noexcept;
  Meter& operator=(Meter&&) noexcept;

  // Starts / stops the sampling thread. Stop() takes a last sample. Idempotent.
  void Start();
  void Stop();

  const std::vector<energy::DomainInfo>& domains() const;
  const MeterOptions& options() const;

  // Blocks for `duration` while sampling, and records each domain's mean power as its idle
  // baseline. Returns the baseline window's report.
  EnergyReport MeasureBaseline(std::chrono::nanoseconds duration);
  // Sets the baseline directly (e.g. from a stored run), watts per domain name.
  void SetBaseline(const std::vector<std::pair<std::string, double>>& watts_by_domain);

  // Windows: begin and end take a sample at once, so the window's edges are exact.
  // Windows may overlap and nest.
  WindowId BeginWindow(std::string name);
  EnergyReport EndWindow(WindowId id);
  // An open window's report so far: from its beginning to the latest sample, without ending
  // it or taking a sample (live progress). Throws InputError when `id` is not open.
  EnergyReport WindowSoFar(WindowId id) const;

  // Report for any span of the timeline (seconds since start), interpolating at the edges.
  EnergyReport Between(double begin_s, double end_s, std::string name = "") const;
  // Seconds since the meter started.
  double Now() const;
  // Mean total power (non-overlapping domains) over the last `span`; for steady-state checks.
  double RecentTotalWatts(std::chrono::nanoseconds span) const;

  // A copy of every sample and gap so far (for storage and reports).
  Timeline Snapshot() const;
  // Samples first_sample, first_sample+1, ... so far (domains, start time and every gap as
  // Snapshot); lets a store append what is new without copying the whole timeline each time.
  Timeline SnapshotFrom(std::size_t first_sample) const;
  // Number of samples so far.
  std::size_t sample_count() const;
  // The newest sample, each domain's recent power and read health. Reuses `out`'s storage
  // and holds the meter's data lock only while copying: a scrape never stalls the sampler.
  void ReadLive(std::chrono::nanoseconds power_span, LiveReadings& out) const;
  // Name of the source that reads each domain ("powercap", "nvml", ...), in domains() order.
  const std::vector<std::string>& domain_sources() const;
  // Warnings from sources and the sampler (each once).
  std::vector<std::string> TakeWarnings();
  // CPU time the sampling thread has used since Start() (CLOCK_THREAD_CPUTIME of that
  // thread), in seconds; 0 when it is not running. Shows the meter's own overhead.
  double SamplerCpuSeconds() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::sampling
