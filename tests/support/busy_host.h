#pragma once
// A busy host as the status page sees it: `projects` Compose projects of five services with
// two replicas each (200 containers at the default 20), the last service of each project
// exited, one service drifting in memory, healthchecks, restarts and exits, memory figures
// for every container and a disk report. The status page's unit test checks that the page
// lists every container of it; bench/status_page measures what rendering it costs.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "composewatch/web/status_page.h"
#include "composewatch/compose/discovery.h"
#include "composewatch/disk/report.h"
#include "composewatch/state/model.h"

namespace composewatch::test_support {

struct BusyHost {
  state::Snapshot snapshot;
  web::StatusPageOptions options;  // memory from a fixed table, a half-full Docker filesystem
  state::Clock::time_point now;    // when the page is rendered
};

inline BusyHost busy_host(int projects = 20) {
  constexpr std::int64_t MiB = 1024 * 1024;
  constexpr const char* kImage = "composewatch-test/busybox:1";
  BusyHost h;
  const auto taken = state::Clock::time_point(std::chrono::seconds(1'790'000'000));
  h.now = taken + std::chrono::seconds(5);

  state::Snapshot& s = h.snapshot;
  s.engine.up = true;
  s.engine.ready = true;
  s.engine.version = "20.10.24";
  s.engine.api_version = "1.41";
  s.taken_at = taken;

  auto memory = std::make_shared<std::map<std::string, docker::ResourceStats>>();
  auto cs = std::make_shared<compose::ComposeState>();
  for (int p = 0; p < projects; ++p) {
    const std::string project = "project" + std::to_string(p);
    auto model = std::make_shared<compose::Project>();
    model->name = project;
    model->files = {"/srv/" + project + "/docker-compose.yml"};
    for (int v = 0; v < 5; ++v) {
      const std::string svc = "service" + std::to_string(v);
      compose::Service service;
      service.name = svc;
      service.image = kImage;
      service.memory_limit_bytes = 64 * MiB;
      service.replicas = 2;
      service.restart = "unless-stopped";
      service.location = {model->files.front(), 3 + 6 * v};
      model->services[svc] = service;
      for (int n = 1; n <= 2; ++n) {
        state::ContainerRecord r;
        r.name = project + "_" + svc + "_" + std::to_string(n);
        r.id = std::string(64, 'a');
        r.id.replace(0, std::min<std::size_t>(r.name.size(), 12), r.name.substr(0, 12));
        r.spec.image = kImage;
        r.spec.compose.project = project;
        r.spec.compose.service = svc;
        r.spec.restart_policy = {"unless-stopped", 0};
        r.state = v == 4 ? "exited" : "running";
        r.pid = v == 4 ? 0 : 100;
        r.spec.memory_limit = v == 3 ? 128 * MiB : 64 * MiB;  // one service drifts
        r.health = v == 0 ? "healthy" : "none";
        r.counters.restarts = std::uint64_t(n);
        r.counters.exits = {{{0, state::ExitReason::completed}, 1}, {{137, state::ExitReason::stopped}, std::uint64_t(v)}};
        r.started_at = 1'789'990'000;
        s.containers.push_back(r);
        const std::uint64_t used = std::uint64_t(20 + v) * MiB;
        docker::ResourceStats m;
        m.memory_usage_bytes = used + 1 * MiB;
        m.memory_working_set_bytes = used;
        m.memory_limit_bytes = std::uint64_t(r.spec.memory_limit);
        (*memory)[r.name] = m;
      }
    }
    compose::ProjectState ps;
    ps.name = project;
    ps.source.name = project;
    ps.source.files = model->files;
    ps.source.configured = true;
    ps.model = model;
    ps.valid = true;
    ps.findings = compose::lint_project(*model);
    cs->projects.push_back(std::move(ps));
  }
  std::sort(s.containers.begin(), s.containers.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::sort(cs->projects.begin(), cs->projects.end(), [](auto& a, auto& b) { return a.name < b.name; });
  s.compose = cs;

  auto d = std::make_shared<disk::DiskReport>();
  d->docker_root_dir = "/var/lib/docker";
  d->df = std::make_shared<const docker::SystemDf>();
  d->summary.images = {3 * 1024 * MiB, 1024 * MiB, 12, 5};
  d->summary.containers = {20 * MiB, 5 * MiB, 7, 6};
  d->summary.volumes = {512 * MiB, 0, 4, 4};
  d->summary.build_cache = {0, 0, 0, 0};
  d->df_taken_at = std::chrono::duration<double>(taken.time_since_epoch()).count() - 60;
  d->last_ok = true;
  s.disk = d;

  h.options.resources = [memory](const state::ContainerRecord& r) -> std::optional<docker::ResourceStats> {
    const auto it = memory->find(r.name);
    if (it == memory->end()) return std::nullopt;
    return it->second;
  };
  h.options.statfs = [](const std::string&) {
    return disk::FilesystemUsage{40ull * 1024 * MiB, 20ull * 1024 * MiB};
  };
  return h;
}

}  // namespace composewatch::test_support
