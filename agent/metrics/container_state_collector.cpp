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
    auto exits = detail::family("composewatch_container_exits_total",
                                "Container exits by exit code and reason: completed, stopped, oom, error.",
                                MetricType::Counter);
    auto last_exit = detail::family("composewatch_container_last_exit_reason",
                                    "1 for the reason of the last exit of a container that is down (exited or dead).",
                                    MetricType::Gauge);
    auto last_oom = detail::family("composewatch_container_last_oom_kill_timestamp_seconds",
                                   "When the last OOM kill counted for the container happened.", MetricType::Gauge);

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
        if (const state::LastExit* e = state::current_exit(r))
          detail::add(last_exit, with(labels, "reason", std::string(state::to_string(e->reason))), 1);
      }
      // Counters outlive the container (retention) so that rate() sees the last increase.
      detail::add(ooms, labels, double(r.counters.oom_kills));
      detail::add(restarts, labels, double(r.counters.restarts));
      if (r.last_oom_kill_at) detail::add(last_oom, labels, *r.last_oom_kill_at);
      for (const auto& [key, n] : r.counters.exits)
        detail::add(exits,
                    with(with(labels, "exit_code", std::to_string(key.code)), "reason",
                         std::string(state::to_string(key.reason))),
                    double(n));
    }
    for (auto* f : {&info, &state, &health, &streak, &started, &ooms, &restarts, &exits}) out.push_back(std::move(*f));
    // Families with no series are left out, as the resource collector does.
    for (auto* f : {&last_exit, &last_oom})
      if (!f->metric.empty()) out.push_back(std::move(*f));
  }
};

}  // namespace

std::unique_ptr<Collector> make_container_state_collector() { return std::make_unique<ContainerStateCollector>(); }

}  // namespace composewatch::metrics
