#include "composewatch/web/routes.h"

#include <unistd.h>

#include "composewatch/cgroup/reader.h"
#include "composewatch/disk/report.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/web/status_page.h"

namespace composewatch::web {

namespace {

using HeaderField = std::pair<std::string, std::string>;
const HeaderField kNoStore{"Cache-Control", "no-store"};
const HeaderField kNoSniff{"X-Content-Type-Options", "nosniff"};

// The status page's view of the host (memory is filled in per request, from the same
// shared cgroup read as /metrics).
StatusPageOptions status_page_options(const config::AgentConfig& cfg) {
  StatusPageOptions o;
  o.telemetry_path = cfg.telemetry_path;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) o.host_name = host;
  o.statfs = disk::filesystem_usage;
  return o;
}

}  // namespace

struct Routes::Impl {
  std::string telemetry_path;
  const state::StateModel& model;
  Health health;
  std::shared_ptr<const metrics::SharedRead> resources;  // null: --stats.source=api
  StatusPageOptions status_page;
  metrics::Exposition exposition;
};

Routes::Routes(const config::AgentConfig& cfg, const state::StateModel& model, Health health,
               std::shared_ptr<const cgroup::Reader> cgroups, metrics::SharedRead::Post helper) {
  std::shared_ptr<const metrics::SharedRead> resources =
      cgroups ? metrics::shared_cgroup_read(std::move(cgroups), {.helper = std::move(helper)}) : nullptr;
  impl_ = std::make_unique<const Impl>(Impl{.telemetry_path = cfg.telemetry_path,
                                            .model = model,
                                            .health = std::move(health),
                                            .resources = resources,
                                            .status_page = status_page_options(cfg),
                                            .exposition = metrics::Exposition(metrics::default_collectors(resources))});
}

Routes::~Routes() = default;

http::Response Routes::operator()(const http::Request& req) const {
  const Impl& d = *impl_;
  http::Response res;
  if (req.path == d.telemetry_path) {
    res.content_type = std::string(metrics::kContentType);
    res.headers = {kNoStore, kNoSniff};
    res.body = d.exposition.render(*d.model.snapshot());
    return res;
  }
  if (req.path == "/healthz") {
    if (const auto problems = d.health(); !problems.empty()) {
      res.status = 503;
      for (const auto& line : problems) res.body += line + "\n";
    } else {
      res.body = "ok\n";
    }
    return res;
  }
  if (req.path == "/readyz") {
    auto snap = d.model.snapshot();
    if (snap->engine.ready) {
      res.body = "ready\n";
    } else {
      res.status = 503;
      res.body = "not ready: waiting for the Docker engine\n";
    }
    return res;
  }
  if (req.path == "/") {
    res.content_type = "text/html; charset=utf-8";
    // The page has no script and no frame of its own; it must not be framed, sniffed or
    // kept in a cache (it names containers and their state).
    res.headers = {kNoStore, kNoSniff, {"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"},
                   {"X-Frame-Options", "DENY"}};
    const auto snap = d.model.snapshot();
    StatusPageOptions o = d.status_page;
    if (d.resources)
      o.resources = [readings = d.resources->get(*snap)](const state::ContainerRecord& r) { return readings->of(r.id); };
    res.body = render_status_page(*snap, o, state::Clock::now());
    return res;
  }
  res.status = 404;
  res.body = "not found\n";
  return res;
}

}  // namespace composewatch::web
