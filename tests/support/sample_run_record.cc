#include "support/sample_run_record.h"

#include <gtest/gtest.h>

#include <cmath>

namespace joulebench::testing {
namespace {

void ExpectSameDouble(double expected, double actual, const std::string& what) {
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(actual)) << what;
  } else {
    EXPECT_EQ(expected, actual) << what;
  }
}

void ExpectSameDomain(const energy::DomainInfo& e, const energy::DomainInfo& a) {
  EXPECT_EQ(e.name, a.name);
  EXPECT_EQ(e.component, a.component) << e.name;
  EXPECT_EQ(e.provenance.kind, a.provenance.kind) << e.name;
  EXPECT_EQ(e.provenance.by, a.provenance.by) << e.name;
  EXPECT_EQ(e.signal, a.signal) << e.name;
  EXPECT_EQ(e.counter_range_joules, a.counter_range_joules) << e.name;
  EXPECT_EQ(e.max_watts, a.max_watts) << e.name;
  EXPECT_EQ(e.parent, a.parent) << e.name;
  EXPECT_EQ(e.update_period_s, a.update_period_s) << e.name;
  EXPECT_EQ(e.min_window_s, a.min_window_s) << e.name;
  EXPECT_EQ(e.note, a.note) << e.name;
  EXPECT_EQ(e.whole_machine, a.whole_machine) << e.name;
  EXPECT_EQ(e.counts_through_gaps, a.counts_through_gaps) << e.name;
}

void ExpectSameGaps(const std::vector<sampling::TimelineGap>& e,
                    const std::vector<sampling::TimelineGap>& a, const std::string& what) {
  ASSERT_EQ(e.size(), a.size()) << what;
  for (std::size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(e[i].domain, a[i].domain) << what << " gap " << i;
    EXPECT_EQ(e[i].begin_s, a[i].begin_s) << what << " gap " << i;
    EXPECT_EQ(e[i].end_s, a[i].end_s) << what << " gap " << i;
    EXPECT_EQ(e[i].reason, a[i].reason) << what << " gap " << i;
    EXPECT_EQ(e[i].bridged, a[i].bridged) << what << " gap " << i;
    EXPECT_EQ(e[i].lost, a[i].lost) << what << " gap " << i;
    EXPECT_EQ(e[i].open, a[i].open) << what << " gap " << i;
  }
}

void ExpectSameSplit(const std::optional<sampling::WholeSystemSplit>& e,
                     const std::optional<sampling::WholeSystemSplit>& a, const std::string& what) {
  ASSERT_EQ(e.has_value(), a.has_value()) << what;
  if (!e) return;
  EXPECT_EQ(e->whole_domains, a->whole_domains) << what;
  EXPECT_EQ(e->whole_joules, a->whole_joules) << what;
  EXPECT_EQ(e->whole_machine, a->whole_machine) << what;
  EXPECT_EQ(e->component_domains, a->component_domains) << what;
  EXPECT_EQ(e->component_joules, a->component_joules) << what;
  EXPECT_EQ(e->unsubtracted_domains, a->unsubtracted_domains) << what;
  EXPECT_EQ(e->rest_joules, a->rest_joules) << what;
  EXPECT_EQ(e->rest_mean_watts, a->rest_mean_watts) << what;
  EXPECT_EQ(e->rest_attributable_joules, a->rest_attributable_joules) << what;
}

energy::DomainInfo Domain(std::string name, energy::Component component,
                          energy::ProvenanceKind kind, std::string by, energy::SignalKind signal,
                          std::string parent) {
  energy::DomainInfo d;
  d.name = std::move(name);
  d.component = component;
  d.provenance = {kind, std::move(by)};
  d.signal = signal;
  d.counter_range_joules = signal == energy::SignalKind::kCounter ? 262143.328850 : 0;
  d.max_watts = 125.5;
  d.parent = std::move(parent);
  d.update_period_s = 0.001;
  d.min_window_s = 0.25;
  d.note = "note for " + d.name + " with \"quotes\" & <angle>";
  return d;
}

}  // namespace

run::RunRecord SampleRunRecord(std::size_t samples) {
  using energy::Component;
  using energy::ProvenanceKind;
  using energy::SignalKind;
  run::RunRecord r;
  r.id = "r-0001";
  r.kind = "loadgen";
  r.name = "<script>alert(1)</script> layoutlm \"base\" 'q' & co";
  r.start_unix_s = 1795944600.125;
  r.end_unix_s = 1795944660.5;
  r.status = run::RunStatus::kComplete;
  r.verdict = "INVALID";
  r.verdict_reasons = {"p99 latency 0.21 s > bound 0.1 s", "fewer than 1024 queries"};
  r.config = {{"workload", "layoutlm-base"},
              {"seq_len", 512},
              {"batch", 4},
              {"scenario", "server"},
              {"nested", {{"list", {1, 2.5, "x"}}, {"flag", true}}}};
  r.fingerprint = {{"cpu_model", "Test CPU @ 2.0GHz"},
                   {"cpu_count", 2},
                   {"memory_bytes", 8589934592ULL},
                   {"kernel", "6.1.0-test"}};
  r.timeline.start_unix_s = r.start_unix_s;
  r.timeline.domains = {
      Domain("rapl/package-0", Component::kCpuPackage, ProvenanceKind::kMeasured,
             "powercap RAPL intel-rapl:0", SignalKind::kCounter, ""),
      Domain("rapl/package-0/dram", Component::kDram, ProvenanceKind::kMeasured,
             "powercap RAPL intel-rapl:0:1", SignalKind::kCounter, "rapl/package-0"),
      Domain("model/network", Component::kNetwork, ProvenanceKind::kModelled,
             "ccf-2026 coefficients (0.001 kWh/GB)", SignalKind::kGauge, ""),
  };
  r.timeline.domains[0].whole_machine = true;
  r.timeline.domains[2].counts_through_gaps = false;
  r.timeline.gaps = {
      {"rapl/package-0", 0.125, 0.1875, "read failed: energy_uj does not hold a number", true,
       false, false},
      {"model/network", 0.25, 0.49, "lost: the GPU is lost (NVML_ERROR_GPU_IS_LOST)", false, true,
       true},
  };
  r.timeline.joules.assign(3, {});
  for (std::size_t i = 0; i < samples; ++i) {
    double t = 0.01 * static_cast<double>(i) + 1e-7 * static_cast<double>(i % 7);
    r.timeline.time_s.push_back(t);
    r.timeline.joules[0].push_back(41.3 * t + 0.001 * static_cast<double>(i % 3));
    r.timeline.joules[1].push_back(5.7 * t);
    r.timeline.joules[2].push_back(0.3 * t * t);
  }
  sampling::EnergyReport e;
  e.name = "measurement";
  e.begin_s = 0.1;
  e.end_s = 0.45;
  e.duration_s = 0.35;
  for (std::size_t d = 0; d < r.timeline.domains.size(); ++d) {
    sampling::DomainEnergy de;
    de.domain = r.timeline.domains[d];
    de.joules = 10.5 + static_cast<double>(d);
    de.mean_watts = 30.0 + static_cast<double>(d);
    de.peak_watts = 50.25 + static_cast<double>(d);
    de.samples = 35 + d;
    if (d != 2) {
      de.baseline_watts = 4.5 + static_cast<double>(d);
      de.attributable_joules = 8.75 + static_cast<double>(d);
    }
    de.in_total = d != 1;
    if (d == 2) {
      de.in_total = false;
      de.unmeasured_s = 0.2;
      de.gaps = {r.timeline.gaps[1]};
      de.gaps[0].end_s = 0.45;
      de.lost_at_s = 0.25;
      de.excluded_from_total = true;
    }
    if (d == 0) de.gaps = {r.timeline.gaps[0]};
    e.domains.push_back(de);
  }
  e.excluded_domains = {"model/network"};
  e.partial_domains = {"rapl/package-0"};
  e.total_complete = false;
  e.total_joules = 23.0;
  e.total_attributable_joules = 17.5;
  e.mean_watts = 65.7;
  e.total_domains = {"rapl/package-0", "model/network"};
  e.warnings = {"window shorter than 4 sensor updates"};
  e.any_modelled = true;
  sampling::WholeSystemSplit split;
  split.whole_domains = {"rapl/package-0"};
  split.whole_joules = 10.5;
  split.whole_machine = true;
  split.component_domains = {"rapl/package-0/dram"};
  split.component_joules = 11.5;
  split.unsubtracted_domains = {"model/cpu"};
  split.rest_joules = -1.0;
  split.rest_mean_watts = -2.875;
  split.rest_attributable_joules = -0.25;
  e.whole_system = split;
  sampling::EnergyReport baseline = e;
  baseline.whole_system->rest_attributable_joules.reset();
  baseline.name = "baseline";
  baseline.begin_s = 0;
  baseline.end_s = 0.1;
  baseline.total_attributable_joules.reset();
  baseline.any_modelled = false;
  baseline.warnings.clear();
  // The measurement's total is complete (runs compare as like for like); the baseline's
  // carries the fields of a total that lost a domain, for the round trips.
  e.excluded_domains.clear();
  e.partial_domains.clear();
  e.total_complete = true;
  r.energy = {baseline, e};
  for (int w = 0; w < 5; ++w) {
    r.windows.push_back(
        {0.1 * w, 0.1 * (w + 1), 50.0 + w, 60.5 + w, 0.01 * (w + 1), 0.03 * (w + 1)});
  }
  r.steady_state_at_s = 0.1;
  r.steady_state_criterion = "last 3 windows within 5 % (throughput and power)";
  r.latency_histogram = {{0.001, 3}, {0.002, 170}, {0.005, 1234567890123ULL}};
  r.histograms = {{"time_to_first_token",
                   "s",
                   "measured: joulebench load generator (http)",
                   {{0.01, 4}, {0.02, 9}}},
                  {"inter_token_latency", "s", "measured: another", {{0.003, 77}}}};
  r.power_curve = {
      {0.0, 0.0, 0.0, 20.5, {{"rapl/package-0", 18.0}, {"model/network", 2.5}}},
      {0.5, 25.0, 24.9, 40.25, {{"rapl/package-0", 36.0}, {"model/network", 4.25}}},
      {1.0, 50.0, 48.5, 70.0, {{"rapl/package-0", 64.0}, {"model/network", 6.0}}},
  };
  r.peak_probes = {{10, 0.02, true}, {20, 0.05, true}, {40, 0.2, false}, {30, 0.09, true}};
  r.metrics = {
      {"throughput", 52.5, "1/s", "measured: load generator"},
      {"energy_per_inference", 0.4375, "J", "measured: powercap RAPL intel-rapl:0"},
      {"p99_latency", 0.0875, "s", "measured: load generator"},
      {"network_energy", 1.25e-6, "J", "modelled: ccf-2026 coefficients"},
  };
  r.warnings = {"NVML absent: no GPU power", "counter wrapped twice"};
  // Two nodes of a multi-node run: one complete with its windows, one whose leader was lost.
  run::NodeResult a;
  a.node_id = "node07";
  a.hostname = "node07.cluster";
  a.node_id_source = "JOULEBENCH_NODE_ID";
  a.leader_rank = 0;
  a.status = "complete";
  a.energy = {baseline, e};
  a.machine_busy_cpu_s = 14.25;
  a.cpu_joules = 812.5;
  a.cpu_domains = "rapl/package-0";
  a.attribution = "modelled: CPU-time share x (rapl/package-0)";
  a.ranks = {{.rank = 0,
              .pid = 4242,
              .status = "complete",
              .exit_code = 0,
              .cpu_s = 7.125,
              .cpu_share = 0.5,
              .cpu_joules = 406.25},
             {.rank = 1, .pid = 4243, .status = "complete", .exit_code = 3, .cpu_s = 1.5}};
  a.sources = {"powercap: 2 domain(s)", "nvml: absent (no libnvidia-ml)"};
  a.warnings = {"a warning of node07"};
  run::NodeResult b;
  b.node_id = "node08";
  b.hostname = "node08.cluster";
  b.node_id_source = "hostname";
  b.leader_rank = 2;
  b.status = "partial";
  b.energy = {e};
  b.ranks = {{.rank = 2, .pid = 99, .status = "lost", .cpu_s = 0.25}};
  r.nodes = {a, b};
  return r;
}

void ExpectSameEnergyReport(const sampling::EnergyReport& e, const sampling::EnergyReport& a) {
  EXPECT_EQ(e.name, a.name);
  EXPECT_EQ(e.begin_s, a.begin_s) << e.name;
  EXPECT_EQ(e.end_s, a.end_s) << e.name;
  EXPECT_EQ(e.duration_s, a.duration_s) << e.name;
  ASSERT_EQ(e.domains.size(), a.domains.size()) << e.name;
  for (std::size_t i = 0; i < e.domains.size(); ++i) {
    const auto& ed = e.domains[i];
    const auto& ad = a.domains[i];
    ExpectSameDomain(ed.domain, ad.domain);
    EXPECT_EQ(ed.joules, ad.joules);
    EXPECT_EQ(ed.mean_watts, ad.mean_watts);
    EXPECT_EQ(ed.peak_watts, ad.peak_watts);
    EXPECT_EQ(ed.samples, ad.samples);
    EXPECT_EQ(ed.baseline_watts, ad.baseline_watts);
    EXPECT_EQ(ed.attributable_joules, ad.attributable_joules);
    EXPECT_EQ(ed.in_total, ad.in_total);
    EXPECT_EQ(ed.unmeasured_s, ad.unmeasured_s) << ed.domain.name;
    ExpectSameGaps(ed.gaps, ad.gaps, e.name + " " + ed.domain.name);
    EXPECT_EQ(ed.lost_at_s, ad.lost_at_s) << ed.domain.name;
    EXPECT_EQ(ed.excluded_from_total, ad.excluded_from_total) << ed.domain.name;
  }
  EXPECT_EQ(e.excluded_domains, a.excluded_domains) << e.name;
  EXPECT_EQ(e.partial_domains, a.partial_domains) << e.name;
  EXPECT_EQ(e.total_complete, a.total_complete) << e.name;
  EXPECT_EQ(e.total_joules, a.total_joules);
  EXPECT_EQ(e.total_attributable_joules, a.total_attributable_joules);
  EXPECT_EQ(e.mean_watts, a.mean_watts);
  EXPECT_EQ(e.total_domains, a.total_domains);
  EXPECT_EQ(e.warnings, a.warnings);
  EXPECT_EQ(e.any_modelled, a.any_modelled);
  ExpectSameSplit(e.whole_system, a.whole_system, e.name);
}

void ExpectSameRunRecord(const run::RunRecord& e, const run::RunRecord& a) {
  EXPECT_EQ(e.id, a.id);
  EXPECT_EQ(e.kind, a.kind);
  EXPECT_EQ(e.name, a.name);
  EXPECT_EQ(e.start_unix_s, a.start_unix_s);
  EXPECT_EQ(e.end_unix_s, a.end_unix_s);
  EXPECT_EQ(e.status, a.status);
  EXPECT_EQ(e.verdict, a.verdict);
  EXPECT_EQ(e.verdict_reasons, a.verdict_reasons);
  EXPECT_EQ(e.config, a.config);
  EXPECT_EQ(e.fingerprint, a.fingerprint);
  EXPECT_EQ(e.timeline.start_unix_s, a.timeline.start_unix_s);
  ASSERT_EQ(e.timeline.domains.size(), a.timeline.domains.size());
  for (std::size_t i = 0; i < e.timeline.domains.size(); ++i) {
    ExpectSameDomain(e.timeline.domains[i], a.timeline.domains[i]);
  }
  ASSERT_EQ(e.timeline.time_s.size(), a.timeline.time_s.size());
  for (std::size_t i = 0; i < e.timeline.time_s.size(); ++i) {
    ExpectSameDouble(e.timeline.time_s[i], a.timeline.time_s[i],
                     "time_s[" + std::to_string(i) + "]");
  }
  ASSERT_EQ(e.timeline.joules.size(), a.timeline.joules.size());
  for (std::size_t d = 0; d < e.timeline.joules.size(); ++d) {
    ASSERT_EQ(e.timeline.joules[d].size(), a.timeline.joules[d].size()) << d;
    for (std::size_t i = 0; i < e.timeline.joules[d].size(); ++i) {
      ExpectSameDouble(e.timeline.joules[d][i], a.timeline.joules[d][i],
                       "joules[" + std::to_string(d) + "][" + std::to_string(i) + "]");
    }
  }
  ExpectSameGaps(e.timeline.gaps, a.timeline.gaps, "timeline");
  ASSERT_EQ(e.energy.size(), a.energy.size());
  for (std::size_t i = 0; i < e.energy.size(); ++i)
    ExpectSameEnergyReport(e.energy[i], a.energy[i]);
  ASSERT_EQ(e.windows.size(), a.windows.size());
  for (std::size_t i = 0; i < e.windows.size(); ++i) {
    EXPECT_EQ(e.windows[i].begin_s, a.windows[i].begin_s);
    EXPECT_EQ(e.windows[i].end_s, a.windows[i].end_s);
    EXPECT_EQ(e.windows[i].throughput_per_s, a.windows[i].throughput_per_s);
    EXPECT_EQ(e.windows[i].watts, a.windows[i].watts);
    EXPECT_EQ(e.windows[i].latency_p50_s, a.windows[i].latency_p50_s);
    EXPECT_EQ(e.windows[i].latency_p99_s, a.windows[i].latency_p99_s);
  }
  EXPECT_EQ(e.steady_state_at_s, a.steady_state_at_s);
  EXPECT_EQ(e.steady_state_criterion, a.steady_state_criterion);
  EXPECT_EQ(e.latency_histogram, a.latency_histogram);
  ASSERT_EQ(e.histograms.size(), a.histograms.size());
  for (std::size_t i = 0; i < e.histograms.size(); ++i) {
    EXPECT_EQ(e.histograms[i].name, a.histograms[i].name);
    EXPECT_EQ(e.histograms[i].unit, a.histograms[i].unit);
    EXPECT_EQ(e.histograms[i].provenance, a.histograms[i].provenance);
    EXPECT_EQ(e.histograms[i].buckets, a.histograms[i].buckets);
  }
  ASSERT_EQ(e.power_curve.size(), a.power_curve.size());
  for (std::size_t i = 0; i < e.power_curve.size(); ++i) {
    EXPECT_EQ(e.power_curve[i].load_fraction, a.power_curve[i].load_fraction);
    EXPECT_EQ(e.power_curve[i].rate_per_s, a.power_curve[i].rate_per_s);
    EXPECT_EQ(e.power_curve[i].achieved_per_s, a.power_curve[i].achieved_per_s);
    EXPECT_EQ(e.power_curve[i].watts_total, a.power_curve[i].watts_total);
    EXPECT_EQ(e.power_curve[i].watts_by_domain, a.power_curve[i].watts_by_domain);
  }
  ASSERT_EQ(e.peak_probes.size(), a.peak_probes.size());
  for (std::size_t i = 0; i < e.peak_probes.size(); ++i) {
    EXPECT_EQ(e.peak_probes[i].rate_per_s, a.peak_probes[i].rate_per_s);
    EXPECT_EQ(e.peak_probes[i].latency_percentile_s, a.peak_probes[i].latency_percentile_s);
    EXPECT_EQ(e.peak_probes[i].valid, a.peak_probes[i].valid);
  }
  ASSERT_EQ(e.tune_probes.size(), a.tune_probes.size());
  for (std::size_t i = 0; i < e.tune_probes.size(); ++i) {
    const auto& x = e.tune_probes[i];
    const auto& y = a.tune_probes[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.knobs, y.knobs);
    EXPECT_EQ(x.rung, y.rung);
    EXPECT_EQ(x.outcome, y.outcome);
    EXPECT_EQ(x.verdict, y.verdict);
    EXPECT_EQ(x.reasons, y.reasons);
    for (auto [u, v] : {std::pair{x.probe_duration_s, y.probe_duration_s},
                        {x.rate_per_s, y.rate_per_s},
                        {x.throughput_per_s, y.throughput_per_s},
                        {x.latency_s, y.latency_s},
                        {x.mean_watts, y.mean_watts},
                        {x.joules_per_unit, y.joules_per_unit},
                        {x.elapsed_s, y.elapsed_s}}) {
      EXPECT_TRUE(u == v || (std::isnan(u) && std::isnan(v))) << x.name << ": " << u << " " << v;
    }
    EXPECT_EQ(x.joules_per_unit_attributable, y.joules_per_unit_attributable);
    EXPECT_EQ(x.energy_provenance, y.energy_provenance);
    EXPECT_EQ(x.accuracy_max_abs_diff, y.accuracy_max_abs_diff);
    EXPECT_EQ(x.accuracy_cosine, y.accuracy_cosine);
    EXPECT_EQ(x.accuracy_argmax_agreement, y.accuracy_argmax_agreement);
    EXPECT_EQ(x.chosen, y.chosen);
    EXPECT_EQ(x.pareto, y.pareto);
  }
  ASSERT_EQ(e.metrics.size(), a.metrics.size());
  for (std::size_t i = 0; i < e.metrics.size(); ++i) {
    EXPECT_EQ(e.metrics[i].name, a.metrics[i].name);
    EXPECT_EQ(e.metrics[i].value, a.metrics[i].value);
    EXPECT_EQ(e.metrics[i].unit, a.metrics[i].unit);
    EXPECT_EQ(e.metrics[i].provenance, a.metrics[i].provenance);
  }
  EXPECT_EQ(e.warnings, a.warnings);
  ASSERT_EQ(e.nodes.size(), a.nodes.size());
  for (std::size_t i = 0; i < e.nodes.size(); ++i) {
    const run::NodeResult& en = e.nodes[i];
    const run::NodeResult& an = a.nodes[i];
    EXPECT_EQ(en.node_id, an.node_id);
    EXPECT_EQ(en.hostname, an.hostname);
    EXPECT_EQ(en.node_id_source, an.node_id_source);
    EXPECT_EQ(en.leader_rank, an.leader_rank);
    EXPECT_EQ(en.status, an.status);
    ASSERT_EQ(en.energy.size(), an.energy.size());
    for (std::size_t k = 0; k < en.energy.size(); ++k) {
      ExpectSameEnergyReport(en.energy[k], an.energy[k]);
    }
    EXPECT_EQ(en.machine_busy_cpu_s, an.machine_busy_cpu_s);
    EXPECT_EQ(en.cpu_joules, an.cpu_joules);
    EXPECT_EQ(en.cpu_domains, an.cpu_domains);
    EXPECT_EQ(en.attribution, an.attribution);
    ASSERT_EQ(en.ranks.size(), an.ranks.size());
    for (std::size_t k = 0; k < en.ranks.size(); ++k) {
      EXPECT_EQ(en.ranks[k].rank, an.ranks[k].rank);
      EXPECT_EQ(en.ranks[k].pid, an.ranks[k].pid);
      EXPECT_EQ(en.ranks[k].status, an.ranks[k].status);
      EXPECT_EQ(en.ranks[k].exit_code, an.ranks[k].exit_code);
      EXPECT_EQ(en.ranks[k].cpu_s, an.ranks[k].cpu_s);
      EXPECT_EQ(en.ranks[k].cpu_share, an.ranks[k].cpu_share);
      EXPECT_EQ(en.ranks[k].cpu_joules, an.ranks[k].cpu_joules);
    }
    EXPECT_EQ(en.sources, an.sources);
    EXPECT_EQ(en.warnings, an.warnings);
  }
}

}  // namespace joulebench::testing
