#pragma once
// Collectors write fresh metric families from an immutable state snapshot at every
// scrape (node_exporter style), straight into the body in the text format
// (text_writer.h); none of them calls the engine.

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/state/model.h"

namespace composewatch::cgroup {
class Reader;
}
namespace composewatch::disk {
struct FilesystemUsage;
}

namespace composewatch::metrics {

class SharedRead;
class TextWriter;

class Collector {
 public:
  virtual ~Collector() = default;
  // The `collector` label of composewatch_collector_duration_seconds/_success.
  virtual std::string_view name() const = 0;
  // Writes this collector's families, each whole. May throw; the exposition then drops
  // what it wrote, reports composewatch_collector_success 0 for it and serves the others.
  virtual void collect(const state::Snapshot& snapshot, TextWriter& out) const = 0;
  // Whether what collect() exported is current. A collector that serves its last good
  // figures while their source fails says false here: composewatch_collector_success 0.
  virtual bool succeeded(const state::Snapshot&) const { return true; }
  // collect() and succeeded() in one call, for a collector that learns whether it
  // succeeded while collecting (concurrent scrapes share the collector, so it cannot keep
  // that in a member). The Exposition calls this one.
  virtual bool collect_checked(const state::Snapshot& snapshot, TextWriter& out) const {
    collect(snapshot, out);
    return succeeded(snapshot);
  }
};

// Renders every collector's families in the text format 0.0.4, with per-collector
// duration and success. The body is allocated once per scrape, at the size of the last one
// and a margin: it does not grow (and move) while it is written. Thread-safe: collectors
// are const and read only the snapshot.
class Exposition {
 public:
  explicit Exposition(std::vector<std::unique_ptr<Collector>> collectors);
  Exposition(Exposition&& other) noexcept;
  std::string render(const state::Snapshot& snapshot) const;

 private:
  std::vector<std::unique_ptr<Collector>> collectors_;
  mutable std::atomic<std::size_t> last_size_{0};
};

// The agent's collectors, in exposition order. Container resources come from `cgroups`,
// or, when it is null (--stats.source=api), from the figures the snapshot carries.
std::vector<std::unique_ptr<Collector>> default_collectors(std::shared_ptr<const cgroup::Reader> cgroups = nullptr);
// The same, reading the cgroups through `resources` (shared with the status page).
std::vector<std::unique_ptr<Collector>> default_collectors(std::shared_ptr<const SharedRead> resources);

std::unique_ptr<Collector> make_engine_collector();
std::unique_ptr<Collector> make_container_state_collector();
std::unique_ptr<Collector> make_process_collector();
// Container resources at scrape time: from `cgroups`, or from Snapshot::api_stats when null.
std::unique_ptr<Collector> make_resource_collector(std::shared_ptr<const cgroup::Reader> cgroups);
std::unique_ptr<Collector> make_resource_collector(std::shared_ptr<const SharedRead> resources);
// Compose projects, services, drift and lint findings from Snapshot::compose.
std::unique_ptr<Collector> make_compose_collector();
// Disk usage by kind, volumes, service images and volume findings from Snapshot::disk;
// the Docker root dir's filesystem read with `statfs` (disk::filesystem_usage) at scrape.
std::unique_ptr<Collector> make_disk_collector();
// Per-policy prune figures from Snapshot::prune.
std::unique_ptr<Collector> make_prune_collector();
// Per-container auto-heal actions, suppressions and given-up from Snapshot::autoheal.
std::unique_ptr<Collector> make_autoheal_collector();
// Image and Dockerfile findings from Snapshot::images.
std::unique_ptr<Collector> make_image_collector();
std::unique_ptr<Collector> make_disk_collector(
    std::function<std::optional<disk::FilesystemUsage>(const std::string&)> statfs);

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace composewatch::metrics
