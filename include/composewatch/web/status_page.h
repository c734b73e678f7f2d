#pragma once
// The status page served at `/`: what someone opening the agent's address on a host wants
// to see first. A pure function from a state snapshot to one self-contained HTML document
// (inline CSS, no script, no external assets), so it is tested on hand-built snapshots.
//
// It shows the figures /metrics exports for the same snapshot: container state and health
// and the event counters as the container collector reads them, memory as the resource
// collector reads it (the cgroup reader, or the figures polled from the Engine API that
// the snapshot carries), drift and replicas as the compose collector computes them, disk
// and prune figures as their collectors do.
//
// Every value that comes from outside (names, labels, images, errors, file paths) goes
// through html_escape(). Thread-safety: render_status_page reads only its arguments; the
// callables in StatusPageOptions must be safe to call from the thread that renders.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "composewatch/disk/report.h"
#include "composewatch/docker/stats.h"
#include "composewatch/state/model.h"

namespace composewatch::web {

struct StatusPageOptions {
  std::string telemetry_path = "/metrics";  // --web.telemetry-path, linked from the page
  std::string host_name;                    // shown in the title; empty: not shown
  // A running container's resource figures, read now (the agent passes the cgroup
  // reader). Null: the figures the snapshot carries from --stats.source=api.
  std::function<std::optional<docker::ResourceStats>(const state::ContainerRecord&)> resources;
  // The Docker root dir's filesystem (disk::filesystem_usage in the agent); null: not shown.
  std::function<std::optional<disk::FilesystemUsage>(const std::string&)> statfs;
};

// The whole page (UTF-8) for `snapshot`, rendered at `now` (ages are relative to it).
// Never throws for odd snapshot contents; only std::bad_alloc.
std::string render_status_page(const state::Snapshot& snapshot, const StatusPageOptions& options,
                               state::Clock::time_point now);

// Text made safe for HTML element content and quoted attribute values: & < > " ' become
// character references; bytes that are not valid UTF-8 and control characters other than
// tab, LF and CR become U+FFFD.
std::string html_escape(std::string_view text);

}  // namespace composewatch::web
