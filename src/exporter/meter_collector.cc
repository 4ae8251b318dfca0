#include "exporter/meter_collector.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

namespace joulebench::exporter {
namespace {

using prometheus::MetricType;

// Power is the mean over this span (or over one sampling interval when that is longer):
// long enough to smooth a counter's quantisation (RAPL updates about every 1 ms in 15.3 uJ
// steps), short enough to follow a load change within a typical 15 s scrape interval.
constexpr std::chrono::seconds kPowerSpan{1};

}  // namespace

void MeterCollector::Attach(const sampling::Meter& meter) {
  std::lock_guard lock(mutex_);
  meter_ = &meter;
  attached_ = true;
  domains_.clear();
  sources_.clear();
  any_modelled_in_total_ = false;
  interval_s_ = std::chrono::duration<double>(meter.options().interval).count();
  const auto& infos = meter.domains();
  const auto& source_names = meter.domain_sources();
  // The meter's own rule for its total: a domain counts unless the domain containing it is
  // measured too (cores and DRAM inside a package, everything inside a BMC's whole machine).
  std::set<std::string> names;
  for (const auto& d : infos) names.insert(d.name);
  for (std::size_t i = 0; i < infos.size(); ++i) {
    const energy::DomainInfo& d = infos[i];
    Domain out;
    const std::string component(energy::ComponentName(d.component));
    const std::string provenance(energy::ProvenanceKindName(d.provenance.kind));
    out.in_total = d.parent.empty() || !names.contains(d.parent);
    if (out.in_total && d.provenance.kind != energy::ProvenanceKind::kMeasured) {
      any_modelled_in_total_ = true;
    }
    out.labels = {{"domain", d.name}, {"component", component}, {"provenance", provenance}};
    out.info_labels = out.labels;
    out.info_labels.push_back({"source", source_names[i]});
    out.info_labels.push_back({"sensor", d.provenance.by});
    out.info_labels.push_back({"parent", d.parent});
    out.info_labels.push_back({"counted_in_total", out.in_total ? "true" : "false"});
    out.source_labels = {{"domain", d.name}, {"source", source_names[i]}};
    const auto known = std::find(sources_.begin(), sources_.end(), source_names[i]);
    out.source = static_cast<std::size_t>(known - sources_.begin());
    if (known == sources_.end()) sources_.push_back(source_names[i]);
    domains_.push_back(std::move(out));
  }
  live_ = {};
  sampler_cpu_s_ = 0;
  machine_joules_ = 0;
  last_joules_.clear();
  machine_started_ = false;
  ReadLocked();
}

void MeterCollector::Freeze() {
  std::lock_guard lock(mutex_);
  if (meter_ == nullptr) return;
  ReadLocked();
  meter_ = nullptr;
}

void MeterCollector::ReadLocked() const {
  if (meter_ == nullptr) return;
  const auto interval = meter_->options().interval;
  meter_->ReadLive(std::max<std::chrono::nanoseconds>(kPowerSpan, interval), live_);
  const std::size_t n = live_.joules.size();
  if (!machine_started_) {
    for (std::size_t d = 0; d < n; ++d) {
      if (live_.counted[d]) machine_joules_ += live_.joules[d];
    }
    machine_started_ = true;
  } else {
    for (std::size_t d = 0; d < n && d < last_joules_.size(); ++d) {
      if (live_.counted[d]) machine_joules_ += std::max(0.0, live_.joules[d] - last_joules_[d]);
    }
  }
  last_joules_ = live_.joules;
  // 0 once the sampling thread has stopped: keep the last figure so the counter never drops.
  sampler_cpu_s_ = std::max(sampler_cpu_s_, meter_->SamplerCpuSeconds());
}

std::vector<prometheus::MetricFamily> MeterCollector::Collect() const {
  std::lock_guard lock(mutex_);
  std::vector<prometheus::MetricFamily> families;
  // A run without energy (loadgen --no-energy) has a meter without domains: no energy
  // metrics rather than a machine total of 0 J.
  if (!attached_ || domains_.empty()) return families;
  ReadLocked();
  const std::size_t n = std::min(domains_.size(), live_.joules.size());

  auto energy = MakeFamily("joulebench_energy_joules_total",
                           "Energy of the domain since sampling began, in joules: counters "
                           "wrap-corrected (never decreasing across a sensor's wrap-around), power "
                           "gauges integrated; provenance says measured or modelled",
                           MetricType::Counter);
  auto power = MakeFamily("joulebench_power_watts",
                          "Mean power of the domain over the last second (or the last sampling "
                          "interval when longer), in watts",
                          MetricType::Gauge);
  const double total_joules = machine_joules_;
  double total_watts = 0;
  bool power_known = live_.samples >= 2;
  for (std::size_t d = 0; d < n; ++d) {
    AddSample(energy, domains_[d].labels, live_.joules[d]);
    const double watts = live_.watts[d];
    if (!std::isnan(watts)) AddSample(power, domains_[d].labels, watts);
    if (live_.counted[d]) {
      if (std::isnan(watts)) {
        power_known = false;
      } else {
        total_watts += watts;
      }
    }
  }
  families.push_back(std::move(energy));
  families.push_back(std::move(power));
  const Labels total_labels = {
      {"provenance", any_modelled_in_total_ ? "partly modelled" : "measured"}};
  AddSingle(families, "joulebench_machine_energy_joules_total",
            "Energy of the machine since sampling began, in joules: the increase of the "
            "domains counted in the total (a domain inside another measured one, e.g. cores "
            "inside their package, is not added twice; a lost domain's place is taken by the "
            "domains inside it); a domain's unmeasured gaps add nothing",
            MetricType::Counter, total_labels, total_joules);
  if (power_known) {
    AddSingle(families, "joulebench_machine_power_watts",
              "Mean power of the machine over the last second, in watts: the sum over the "
              "domains counted in the total (absent while one of them has a gap)",
              MetricType::Gauge, total_labels, total_watts);
  }

  auto info = MakeFamily("joulebench_domain_info",
                         "Each energy domain: its source, the sensor or model behind it, the "
                         "domain containing it and whether it counts in the machine total "
                         "(value 1)",
                         MetricType::Gauge);
  auto errors = MakeFamily("joulebench_domain_read_errors_total",
                           "Reads of the domain's sensor that failed: each is part of a gap in "
                           "the domain's timeline, whose energy is not interpolated",
                           MetricType::Counter);
  auto measuring = MakeFamily("joulebench_domain_measuring",
                              "1 while the domain's sensor answers, 0 while a gap is open or "
                              "the sensor is lost for good",
                              MetricType::Gauge);
  for (std::size_t d = 0; d < n; ++d) {
    AddSample(info, domains_[d].info_labels, 1);
    AddSample(errors, domains_[d].source_labels, static_cast<double>(live_.failed_reads[d]));
    AddSample(measuring, domains_[d].labels, live_.in_gap[d] || live_.lost[d] ? 0 : 1);
  }
  families.push_back(std::move(info));
  families.push_back(std::move(errors));
  families.push_back(std::move(measuring));
  auto up = MakeFamily("joulebench_source_up",
                       "1 when the newest read of every domain of the source succeeded, else 0",
                       MetricType::Gauge);
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    bool ok = live_.samples > 0;
    for (std::size_t d = 0; d < n; ++d) {
      if (domains_[d].source == s && !live_.read_ok[d]) ok = false;
    }
    AddSample(up, {{"source", sources_[s]}}, ok ? 1 : 0);
  }
  families.push_back(std::move(up));

  AddSingle(families, "joulebench_sampler_interval_seconds",
            "Period at which the sampler reads every source, in seconds", MetricType::Gauge, {},
            interval_s_);
  AddSingle(families, "joulebench_sampler_samples_total",
            "Samples the sampler has taken (each reads every domain once)", MetricType::Counter, {},
            static_cast<double>(live_.samples));
  AddSingle(families, "joulebench_sampler_cpu_seconds_total",
            "CPU time used by the sampling thread, in seconds: the meter's own cost",
            MetricType::Counter, {}, sampler_cpu_s_);
  if (live_.samples > 0) {
    AddSingle(families, "joulebench_sampler_last_sample_timestamp_seconds",
              "Unix time of the newest sample, in seconds (a stuck sampler stops it)",
              MetricType::Gauge, {}, live_.start_unix_s + live_.time_s);
    AddSingle(families, "joulebench_sampler_start_timestamp_seconds",
              "Unix time of the first sample, in seconds: where the energy counters start "
              "from 0",
              MetricType::Gauge, {}, live_.start_unix_s);
  }
  return families;
}

}  // namespace joulebench::exporter
