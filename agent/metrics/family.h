#pragma once
// Small builders for prometheus::MetricFamily, private to the metrics component.

#include <initializer_list>
#include <prometheus/metric_family.h>
#include <string>
#include <utility>

#include "composewatch/state/model.h"

namespace composewatch::metrics::detail {

using Labels = std::vector<prometheus::ClientMetric::Label>;

inline prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

inline void add(prometheus::MetricFamily& f, Labels labels, double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else if (f.type == prometheus::MetricType::Gauge)
    m.gauge.value = value;
  else
    m.untyped.value = value;
  f.metric.push_back(std::move(m));
}

// project, service, container: the labels every container series starts with.
inline Labels container_labels(const state::ContainerRecord& r) {
  return {{"project", r.project()}, {"service", r.service()}, {"container", r.name}};
}

}  // namespace composewatch::metrics::detail
