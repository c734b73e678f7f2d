// Container series from events and inspect: info, state, health and the event counters.

#include <array>

#include "composewatch/docker/container.h"
#include "composewatch/metrics/collector.h"
#include "family.h"

namespace composewatch::metrics {
namespace {

using prometheus::MetricType;

constexpr std::array<const char*, 7> kStates = {"created", "running", "paused", "restarting",
                                                 "removing", "exited",  "dead"};
constexpr std::array<const char*, 4> kHealth = {"starting", "healthy", "unhealthy", "none"};

detail::Labels with(detail::Labels l, std::string name, std::string value) {
  l.push_back({std::move(name), std::move(value)});
  return l;
}

class ContainerStateCollector final : public Collector {
 public:
  std::string_view name() const override { return "containers"; }
  void collect(const state::Snapshot& s, Families& out) const override {
    auto info = detail::family("composewatch_container_info", "A container known to the engine.", MetricType::Gauge);
    auto state = detail::family("composewatch_container_state", "The container's state: 1 for the current one.",
                                MetricType::Gauge);
    auto health = detail::family("composewatch_container_health_status",
                                 "The container's health: 1 for the current status, none without a healthcheck.",
                                 MetricType::Gauge);
    auto streak = detail::family("composewatch_container_health_failing_streak",
                                 "Consecutive failed healthchecks.", MetricType::Gauge);
    auto started = detail::family("composewatch_container_started_timestamp_seconds",
                                  "When the container last started.", MetricType::Gauge);
    auto ooms = detail::family("composewatch_container_oom_kills_total",
                               "OOM kills, counted from engine events.", MetricType::Counter);
    auto restarts = detail::family("composewatch_container_restarts_total",
                                   "Starts that followed a die of a container with this name.", MetricType::Counter);
    auto exits = detail::family("composewatch_container_exits_total", "Container exits by exit code.",
                                MetricType::Counter);

    for (const auto& r : s.containers) {
      const auto labels = detail::container_labels(r);
      if (r.present) {
        auto l = labels;
        l.push_back({"id", docker::short_id(r.id)});
        l.push_back({"image", r.spec.image});
        detail::add(info, std::move(l), 1);
        for (const char* st : kStates) detail::add(state, with(labels, "state", st), r.state == st ? 1 : 0);
        for (const char* h : kHealth) detail::add(health, with(labels, "status", h), r.health == h ? 1 : 0);
        detail::add(streak, labels, r.failing_streak);
        if (r.started_at) detail::add(started, labels, *r.started_at);
      }
      // Counters outlive the container (retention) so that rate() sees the last increase.
      detail::add(ooms, labels, double(r.counters.oom_kills));
      detail::add(restarts, labels, double(r.counters.restarts));
      for (const auto& [code, n] : r.counters.exits)
        detail::add(exits, with(labels, "exit_code", std::to_string(code)), double(n));
    }
    for (auto* f : {&info, &state, &health, &streak, &started, &ooms, &restarts, &exits}) out.push_back(std::move(*f));
  }
};

}  // namespace

std::unique_ptr<Collector> make_container_state_collector() { return std::make_unique<ContainerStateCollector>(); }

}  // namespace composewatch::metrics
