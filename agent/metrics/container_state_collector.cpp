// Container series from events and inspect: info, state, health and the event counters.

#include <array>
#include <charconv>

#include "composewatch/docker/container.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/text_writer.h"
#include "container_labels.h"

namespace composewatch::metrics {
namespace {

constexpr std::array<const char*, 7> kStates = {"created",  "running", "paused", "restarting",
                                                "removing", "exited",  "dead"};
constexpr std::array<const char*, 4> kHealth = {"starting", "healthy", "unhealthy", "none"};

class ContainerStateCollector final : public Collector {
 public:
  std::string_view name() const override { return "containers"; }
  void collect(const state::Snapshot& s, TextWriter& out) const override {
    // Each family whole, one pass over the containers each: the text format wants a
    // family's samples together, and the passes cost less than holding the samples.
    const auto& all = s.containers;
    out.family("composewatch_container_info", "A container known to the engine.", MetricType::gauge);
    for (const auto& r : all)
      if (r.present)  // a short id fits std::string's inline buffer: no allocation
        out.sample(container_labels(r).with("id", docker::short_id(r.id)).with("image", r.spec.image), 1);
    out.family("composewatch_container_state", "The container's state: 1 for the current one.", MetricType::gauge);
    for (const auto& r : all)
      if (r.present)
        for (const char* st : kStates) out.sample(container_labels(r).with("state", st), r.state == st ? 1 : 0);
    out.family("composewatch_container_health_status",
               "The container's health: 1 for the current status, none without a healthcheck.", MetricType::gauge);
    for (const auto& r : all)
      if (r.present)
        for (const char* h : kHealth) out.sample(container_labels(r).with("status", h), r.health == h ? 1 : 0);
    out.family("composewatch_container_health_failing_streak", "Consecutive failed healthchecks.", MetricType::gauge);
    for (const auto& r : all)
      if (r.present) out.sample(container_labels(r), r.failing_streak);
    out.family("composewatch_container_started_timestamp_seconds", "When the container last started.",
               MetricType::gauge);
    for (const auto& r : all)
      if (r.present && r.started_at) out.sample(container_labels(r), *r.started_at);
    // Counters outlive the container (retention) so that rate() sees the last increase.
    out.family("composewatch_container_oom_kills_total", "OOM kills, counted from engine events.", MetricType::counter);
    for (const auto& r : all) out.sample(container_labels(r), double(r.counters.oom_kills));
    out.family("composewatch_container_restarts_total", "Starts that followed a die of a container with this name.",
               MetricType::counter);
    for (const auto& r : all) out.sample(container_labels(r), double(r.counters.restarts));
    out.family("composewatch_container_exits_total",
               "Container exits by exit code and reason: completed, stopped, oom, error.", MetricType::counter);
    for (const auto& r : all)
      for (const auto& [key, n] : r.counters.exits) {
        char code[16];
        const auto end = std::to_chars(code, code + sizeof code, key.code).ptr;
        out.sample(container_labels(r)
                       .with("exit_code", std::string_view(code, std::size_t(end - code)))
                       .with("reason", state::to_string(key.reason)),
                   double(n));
      }
    // Families with no series are left out, as the resource collector does.
    out.family("composewatch_container_last_exit_reason",
               "1 for the reason of the last exit of a container that is down (exited or dead).", MetricType::gauge,
               TextWriter::IfEmpty::omit);
    for (const auto& r : all)
      if (r.present)
        if (const state::LastExit* e = state::current_exit(r))
          out.sample(container_labels(r).with("reason", state::to_string(e->reason)), 1);
    out.family("composewatch_container_last_oom_kill_timestamp_seconds",
               "When the last OOM kill counted for the container happened.", MetricType::gauge,
               TextWriter::IfEmpty::omit);
    for (const auto& r : all)
      if (r.last_oom_kill_at) out.sample(container_labels(r), *r.last_oom_kill_at);
  }
};

}  // namespace

std::unique_ptr<Collector> make_container_state_collector() { return std::make_unique<ContainerStateCollector>(); }

}  // namespace composewatch::metrics
