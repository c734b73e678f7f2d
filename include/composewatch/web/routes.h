#pragma once
// The agent's HTTP routes: the metrics (--web.telemetry-path), /healthz, /readyz and the
// status page at `/`. They read published snapshots and the health function only, never
// the engine. Thread-safety: operator() is called on the HTTP server's handler threads,
// concurrently; the health function and the cgroup reader must allow that.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "composewatch/config/config.h"
#include "composewatch/http/server.h"
#include "composewatch/metrics/shared_read.h"
#include "composewatch/state/model.h"

namespace composewatch::cgroup {
class Reader;
}

namespace composewatch::web {

// Why the agent is not healthy now, one line each ("event loop stalled for 20s", "job
// crash-looping: disk: …"); empty when it is. /healthz answers 503 with these lines.
using Health = std::function<std::vector<std::string>()>;

class Routes {
 public:
  // `cgroups` null: --stats.source=api (the snapshot carries the figures); `helper` runs
  // part of a large cgroup read on another handler thread.
  Routes(const config::AgentConfig& cfg, const state::StateModel& model, Health health,
         std::shared_ptr<const cgroup::Reader> cgroups, metrics::SharedRead::Post helper);
  ~Routes();
  Routes(const Routes&) = delete;
  Routes& operator=(const Routes&) = delete;

  http::Response operator()(const http::Request& req) const;

 private:
  struct Impl;
  std::unique_ptr<const Impl> impl_;
};

}  // namespace composewatch::web
