// Small builders for prometheus-cpp's metric families, so that collectors read as a list of
// metrics: name, HELP, type, then one sample per label set.
#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <string>
#include <utility>
#include <vector>

namespace joulebench::exporter {

using Labels = std::vector<prometheus::ClientMetric::Label>;

inline prometheus::MetricFamily MakeFamily(std::string name, std::string help,
                                           prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

// Appends one sample; `value` goes into the field the family's type reads.
inline void AddSample(prometheus::MetricFamily& family, Labels labels, double value) {
  prometheus::ClientMetric& metric = family.metric.emplace_back();
  metric.label = std::move(labels);
  switch (family.type) {
    case prometheus::MetricType::Counter:
      metric.counter.value = value;
      break;
    case prometheus::MetricType::Gauge:
      metric.gauge.value = value;
      break;
    default:
      metric.untyped.value = value;
      break;
  }
}

// Appends a family that has a single sample.
inline void AddSingle(std::vector<prometheus::MetricFamily>& families, std::string name,
                      std::string help, prometheus::MetricType type, Labels labels, double value) {
  prometheus::MetricFamily family = MakeFamily(std::move(name), std::move(help), type);
  AddSample(family, std::move(labels), value);
  families.push_back(std::move(family));
}

}  // namespace joulebench::exporter
