// The meter's metrics, read at each scrape (a prometheus-cpp Collectable): per domain the
// cumulative energy (a counter that never decreases: the meter corrects sensor wrap-around)
// and the recent power (none over a gap), the machine total without double counting (a lost
// domain leaves it, the domains inside it count instead), whether each domain is measuring, each source's health and
// the sampler's settings and own CPU time. A scrape copies the meter's newest sample under its
// data lock (Meter::ReadLive) and formats outside it; the sampler's hot path is untouched.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <mutex>
#include <string>
#include <vector>

#include "exporter/metric_families.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::exporter {

class MeterCollector : public prometheus::Collectable {
 public:
  // From now on scrapes read `meter`, which must stay alive until Freeze() or Attach().
  void Attach(const sampling::Meter& meter);
  // Reads the meter one last time and keeps serving those values without it.
  void Freeze();

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Domain {
    Labels labels;           // domain, component, provenance
    Labels info_labels;      // those and source, sensor, parent, counted_in_total
    Labels source_labels;    // domain, source
    std::size_t source = 0;  // index into sources_
    bool in_total = false;
  };
  void ReadLocked() const;

  mutable std::mutex mutex_;
  const sampling::Meter* meter_ = nullptr;
  bool attached_ = false;  // a meter was attached once (its last values stay after Freeze)
  std::vector<Domain> domains_;
  std::vector<std::string> sources_;
  double interval_s_ = 0;
  bool any_modelled_in_total_ = false;
  // The last values read, refreshed at each scrape while a meter is attached.
  mutable sampling::LiveReadings live_;
  mutable double sampler_cpu_s_ = 0;
  // The machine's energy counter, summed from each scrape's increase of the domains counted
  // then, so that it never decreases when the counted set changes (a lost domain leaves it
  // and the domains inside it join).
  mutable double machine_joules_ = 0;
  mutable std::vector<double> last_joules_;
  mutable bool machine_started_ = false;
};

}  // namespace joulebench::exporter
