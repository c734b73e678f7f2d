// composewatch_container_{memory,cpu,pids,network,blkio}_*: read at scrape time from the
// cgroups of the snapshot's running containers, or (--stats.source=api) from the figures
// the engine thread last polled, which the snapshot carries. Never calls the engine.
// The cgroup files are read through a SharedRead: on the scraping thread, once for all
// the scrapes of the same snapshot at the same moment.

#include <vector>

#include "composewatch/log/log.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/shared_read.h"
#include "composewatch/metrics/text_writer.h"
#include "container_labels.h"

namespace composewatch::metrics {
namespace {

class ResourceCollector final : public Collector {
 public:
  explicit ResourceCollector(std::shared_ptr<const SharedRead> reader) : reader_(std::move(reader)) {}
  std::string_view name() const override { return "resources"; }

  void collect(const state::Snapshot& s, TextWriter& out) const override { collect_checked(s, out); }

  // Success is 0 when the read of some container threw: its series are missing.
  bool collect_checked(const state::Snapshot& s, TextWriter& out) const override {
    // The containers to report, and their figures: read from cgroups now, or taken from
    // what the engine thread last polled.
    std::vector<const state::ContainerRecord*> live;
    for (const auto& r : s.containers)
      if (reports_resources(r)) live.push_back(&r);
    std::vector<std::optional<docker::ResourceStats>> stats(live.size());
    bool complete = true;
    if (reader_) {
      const auto readings = reader_->get(s);
      for (std::size_t i = 0; i < live.size(); ++i) stats[i] = readings->of(live[i]->id);
      complete = readings->failed == 0;
    } else if (s.api_stats) {
      for (std::size_t i = 0; i < live.size(); ++i) {
        auto it = s.api_stats->by_id.find(live[i]->id);
        if (it == s.api_stats->by_id.end()) continue;
        stats[i] = it->second;
        // The API's limit is the host's memory when unlimited; HostConfig.Memory is exact.
        if (live[i]->spec.memory_limit > 0) stats[i]->memory_limit_bytes = std::uint64_t(live[i]->spec.memory_limit);
      }
    }
    if (reader_)
      for (std::size_t i = 0; i < live.size(); ++i)
        if (!stats[i])
          log::debug("resources: the container's cgroup is gone; skipped",
                     {{"container", live[i]->name}, {"id", docker::short_id(live[i]->id)}});

    // One family at a time (the text format keeps a family's samples together), each
    // left out when no container has the figure.
    auto family = [&](std::string_view name, std::string_view help, MetricType type, auto figure) {
      out.family(name, help, type, TextWriter::IfEmpty::omit);
      for (std::size_t i = 0; i < live.size(); ++i) {
        if (!stats[i]) continue;
        const auto v = figure(*live[i], *stats[i]);
        if (v) out.sample(container_labels(*live[i]), double(*v));
      }
    };
    using R = const state::ContainerRecord&;
    using S = const docker::ResourceStats&;
    family("composewatch_container_memory_usage_bytes",
           "Memory charged to the container's cgroup, page cache included.", MetricType::gauge,
           [](R, S st) { return st.memory_usage_bytes; });
    family("composewatch_container_memory_working_set_bytes",
           "Memory usage minus inactive file cache, floored at 0 (as docker stats shows).", MetricType::gauge,
           [](R, S st) { return st.memory_working_set_bytes; });
    family("composewatch_container_memory_limit_bytes", "The container's memory limit; absent when unlimited.",
           MetricType::gauge, [](R, S st) { return st.memory_limit_bytes; });
    family("composewatch_container_cpu_seconds_total", "CPU time the container used.", MetricType::counter,
           [](R, S st) { return st.cpu_seconds; });
    family("composewatch_container_cpu_throttled_seconds_total", "Time the container was throttled by its CPU quota.",
           MetricType::counter, [](R, S st) { return st.cpu_throttled_seconds; });
    // Without a quota the kernel counts no periods: nothing to report, rather than a 0
    // that reads as "never throttled" beside a limit that is not there.
    auto cfs = [](R r, S st) { return st.cpu_periods && (*st.cpu_periods > 0 || r.spec.cpu_limited()); };
    family("composewatch_container_cpu_periods_total",
           "CFS enforcement periods in which the container ran under its CPU limit; absent without a limit.",
           MetricType::counter, [&](R r, S st) { return cfs(r, st) ? st.cpu_periods : std::nullopt; });
    family("composewatch_container_cpu_throttled_periods_total",
           "CFS enforcement periods in which the container was throttled by its CPU limit; absent without a limit.",
           MetricType::counter, [&](R r, S st) { return cfs(r, st) ? st.cpu_throttled_periods : std::nullopt; });
    family("composewatch_container_pids", "Processes and threads in the container.", MetricType::gauge,
           [](R, S st) { return st.pids; });
    family("composewatch_container_network_receive_bytes_total", "Bytes received on the container's interfaces but lo.",
           MetricType::counter, [](R, S st) { return st.network_receive_bytes; });
    family("composewatch_container_network_transmit_bytes_total", "Bytes sent on the container's interfaces but lo.",
           MetricType::counter, [](R, S st) { return st.network_transmit_bytes; });
    family("composewatch_container_blkio_read_bytes_total", "Bytes read from block devices.", MetricType::counter,
           [](R, S st) { return st.blkio_read_bytes; });
    family("composewatch_container_blkio_write_bytes_total", "Bytes written to block devices.", MetricType::counter,
           [](R, S st) { return st.blkio_write_bytes; });
    return complete;
  }

 private:
  std::shared_ptr<const SharedRead> reader_;  // null: --stats.source=api
};

}  // namespace

std::unique_ptr<Collector> make_resource_collector(std::shared_ptr<const SharedRead> reader) {
  return std::make_unique<ResourceCollector>(std::move(reader));
}

std::unique_ptr<Collector> make_resource_collector(std::shared_ptr<const cgroup::Reader> reader) {
  return make_resource_collector(reader ? shared_cgroup_read(std::move(reader)) : nullptr);
}

}  // namespace composewatch::metrics
