#include <chrono>

#include "composewatch/log/log.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/shared_read.h"
#include "composewatch/metrics/text_writer.h"

namespace composewatch::metrics {

Exposition::Exposition(std::vector<std::unique_ptr<Collector>> collectors) : collectors_(std::move(collectors)) {}

Exposition::Exposition(Exposition&& other) noexcept
    : collectors_(std::move(other.collectors_)), last_size_(other.last_size_.load(std::memory_order_relaxed)) {}

std::string Exposition::render(const state::Snapshot& snapshot) const {
  std::string body;
  // The last body and an eighth more: containers come and go between two scrapes.
  const std::size_t last = last_size_.load(std::memory_order_relaxed);
  body.reserve(last + last / 8 + 4096);

  struct Outcome {
    std::string_view collector;
    double seconds;
    bool ok;
  };
  std::vector<Outcome> outcomes;
  outcomes.reserve(collectors_.size());
  for (const auto& c : collectors_) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t before = body.size();
    bool ok = true;
    try {
      TextWriter out(body);
      ok = c->collect_checked(snapshot, out);
    } catch (const std::exception& e) {
      ok = false;
      body.resize(before);  // a failed collector exports nothing half-written
      log::error("collector failed", {{"collector", c->name()}, {"error", e.what()}});
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    outcomes.push_back({c->name(), took.count(), ok});
  }

  TextWriter out(body);
  out.family("composewatch_collector_duration_seconds", "Time a collector took at this scrape.", MetricType::gauge);
  for (const auto& o : outcomes) out.sample({{"collector", o.collector}}, o.seconds);
  out.family("composewatch_collector_success", "Whether a collector succeeded at this scrape (1) or failed (0).",
             MetricType::gauge);
  for (const auto& o : outcomes) out.sample({{"collector", o.collector}}, o.ok ? 1 : 0);
  last_size_.store(body.size(), std::memory_order_relaxed);
  return body;
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
