#include <chrono>
#include <prometheus/text_serializer.h>
#include <sstream>

#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/shared_read.h"
#include "composewatch/log/log.h"
#include "family.h"

namespace composewatch::metrics {

using prometheus::MetricType;

Exposition::Exposition(std::vector<std::unique_ptr<Collector>> collectors) : collectors_(std::move(collectors)) {}

Families Exposition::gather(const state::Snapshot& snapshot) const {
  Families out;
  auto duration = detail::family("composewatch_collector_duration_seconds",
                                 "Time a collector took at this scrape.", MetricType::Gauge);
  auto success = detail::family("composewatch_collector_success",
                                "Whether a collector succeeded at this scrape (1) or failed (0).", MetricType::Gauge);
  for (const auto& c : collectors_) {
    auto t0 = std::chrono::steady_clock::now();
    std::size_t before = out.size();
    bool ok = true;
    try {
      ok = c->collect_checked(snapshot, out);
    } catch (const std::exception& e) {
      ok = false;
      out.resize(before);  // a failed collector exports nothing half-built
      log::error("collector failed", {{"collector", c->name()}, {"error", e.what()}});
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    detail::add(duration, {{"collector", std::string(c->name())}}, took.count());
    detail::add(success, {{"collector", std::string(c->name())}}, ok ? 1 : 0);
  }
  out.push_back(std::move(duration));
  out.push_back(std::move(success));
  return out;
}

std::string Exposition::render(const state::Snapshot& snapshot) const {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, gather(snapshot));
  return std::move(os).str();
}

std::vector<std::unique_ptr<Collector>> default_collectors(std::shared_ptr<const cgroup::Reader> cgroups) {
  return default_collectors(cgroups ? shared_cgroup_read(std::move(cgroups)) : nullptr);
}

std::vector<std::unique_ptr<Collector>> default_collectors(std::shared_ptr<const SharedRead> resources) {
  std::vector<std::unique_ptr<Collector>> v;
  v.push_back(make_engine_collector());
  v.push_back(make_container_state_collector());
  v.push_back(make_compose_collector());
  v.push_back(make_disk_collector());
  v.push_back(make_prune_collector());
  v.push_back(make_autoheal_collector());
  v.push_back(make_image_collector());
  v.push_back(make_resource_collector(std::move(resources)));
  v.push_back(make_process_collector());
  return v;
}

}  // namespace composewatch::metrics
