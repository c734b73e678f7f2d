// diagnose, the pure part: which containers are troubled, which images are largest, the
// report's sections from the gathered facts, and the next steps they call for.

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "composewatch/commands/diagnose/report.h"
#include "composewatch/compose/drift.h"
#include "composewatch/prune/plan.h"

namespace composewatch::commands {

std::string_view trouble_name(Trouble t) {
  switch (t) {
    case Trouble::oom_killed:
      return "oom_killed";
    case Trouble::restart_loop:
      return "restart_loop";
    case Trouble::immediate_exit:
      return "immediate_exit";
  }
  return "unknown";
}

std::vector<Trouble> troubles(const docker::ContainerInfo& c, std::optional<std::uint64_t> cgroup_oom_kills,
                              const DiagnoseRules& rules) {
  std::vector<Trouble> out;
  if (c.oom_killed || cgroup_oom_kills.value_or(0) > 0) out.push_back(Trouble::oom_killed);
  if (c.state == "restarting" || c.restart_count >= rules.restart_loop_count) out.push_back(Trouble::restart_loop);
  // Not running: FinishedAt and StartedAt are of the same run. A process that exits at
  // once may be recorded as finished a little before the engine noted its start, so the
  // difference can be slightly negative.
  const bool finished = c.state != "running" && c.state != "paused";
  const bool quick = c.started_at && c.finished_at && *c.finished_at - *c.started_at <= rules.immediate_exit_seconds;
  if (c.exit_code != 0 && ((finished && quick) || !c.error.empty())) out.push_back(Trouble::immediate_exit);
  return out;
}

std::vector<const docker::ImageSummary*> largest_images(const docker::SystemDf& df, std::size_t n) {
  std::vector<const docker::ImageSummary*> v;
  v.reserve(df.images.size());
  for (const auto& img : df.images) v.push_back(&img);
  std::sort(v.begin(), v.end(),
            [](const auto* a, const auto* b) { return a->size != b->size ? a->size > b->size : a->id < b->id; });
  if (v.size() > n) v.resize(n);
  return v;
}

std::string short_created_by(std::string_view created_by, std::size_t columns) {
  std::string s;
  for (char ch : created_by) {
    const bool space = std::isspace(static_cast<unsigned char>(ch)) || static_cast<unsigned char>(ch) < 0x20;
    if (space) {
      if (!s.empty() && s.back() != ' ') s += ' ';
    } else {
      s += ch;
    }
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  auto drop_prefix = [&](std::string_view p) {
    if (s.starts_with(p)) s.erase(0, p.size());
  };
  // Legacy builder: "/bin/sh -c #(nop) CMD [...]" is an instruction, "/bin/sh -c cmd" a RUN.
  if (s.starts_with("/bin/sh -c #(nop) ")) {
    drop_prefix("/bin/sh -c #(nop) ");
  } else if (s.starts_with("/bin/sh -c ")) {
    s = "RUN " + s.substr(11);
  }
  // BuildKit: "RUN /bin/sh -c cmd # buildkit".
  if (s.starts_with("RUN /bin/sh -c ")) s = "RUN " + s.substr(15);
  if (s.ends_with(" # buildkit")) s.erase(s.size() - 11);
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  if (s.empty()) return "(no command recorded)";
  // Cut on a UTF-8 boundary, by bytes (near enough to columns for commands).
  if (columns > 1 && s.size() > columns) {
    std::size_t cut = columns - 1;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "\xE2\x80\xA6";  // …
  }
  return s;
}

std::vector<docker::ImageLayer> largest_layers(const std::vector<docker::ImageLayer>& history, std::size_t n) {
  std::vector<docker::ImageLayer> v;
  for (const auto& l : history)
    if (l.size > 0) v.push_back(l);
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.size > b.size; });
  if (v.size() > n) v.resize(n);
  return v;
}

std::string ImageRow::display_name() const {
  if (tags.empty()) {
    return "<none> " + docker::short_id(id);
  }
  std::string s;
  for (const auto& t : tags) s += (s.empty() ? "" : ", ") + t;
  return s;
}

namespace {

const std::string kNotAnswered = "the engine did not answer";

std::string or_reason(const std::string& reason) { return reason.empty() ? kNotAnswered : reason; }

EngineSection engine_section(const HostFacts& f) {
  EngineSection e;
  e.reachable = f.engine_problem == EngineProblem::none && f.engine_error.empty();
  e.problem = f.engine_problem;
  e.error = f.engine_error;
  e.version = f.version;
  e.api_version = f.api_version;
  e.root_dir = f.docker_root_dir;
  e.info_error = f.info_error;
  return e;
}

DiskSection disk_section(const HostFacts& f) {
  DiskSection d;
  if (!f.df) {
    d.error = or_reason(f.df_error);
    return d;
  }
  d.summary = docker::summarize(*f.df);
  const auto& s = *d.summary;
  d.reclaimable_bytes = s.images.reclaimable_bytes + s.containers.reclaimable_bytes + s.volumes.reclaimable_bytes +
                        s.build_cache.reclaimable_bytes;
  return d;
}

FilesystemSection filesystem_section(const HostFacts& f, const DiagnoseRules& rules) {
  FilesystemSection fs;
  fs.path = f.filesystem_path;
  fs.path_assumed = !fs.path.empty() && f.docker_root_dir.empty();
  fs.usage = f.filesystem;
  if (!fs.usage) fs.error = f.filesystem_error.empty() ? "not read" : f.filesystem_error;
  fs.low = fs.usage && fs.usage->size_bytes > 0 && fs.usage->free_percent() < rules.low_free_percent;
  return fs;
}

ImagesSection images_section(const HostFacts& f, const DiagnoseRules& rules) {
  ImagesSection s;
  if (!f.df) {
    s.error = or_reason(f.df_error);
    return s;
  }
  s.total = f.df->images.size();
  for (const auto* img : largest_images(*f.df, rules.largest_images)) {
    ImageRow row;
    row.id = img->id;
    row.tags = img->repo_tags;
    row.size_bytes = img->size;
    row.unique_size_bytes = img->shared_size >= 0 ? img->size - img->shared_size : -1;
    row.containers = img->containers;
    if (auto h = f.history.find(img->id); h != f.history.end()) {
      for (const auto& l : largest_layers(h->second, rules.layers_per_image))
        row.layers.push_back({l.id, l.size, short_created_by(l.created_by, rules.created_by_columns)});
    } else if (auto e = f.history_error.find(img->id); e != f.history_error.end()) {
      row.layers_error = e->second;
    } else {
      row.layers_error = "not read";
    }
    s.largest.push_back(std::move(row));
  }
  return s;
}

VolumesSection volumes_section(const HostFacts& f, const DiagnoseRules& rules) {
  VolumesSection v;
  if (!f.df) {
    v.error = or_reason(f.df_error);
    return v;
  }
  // A volume is "dead" only after a running container has mounted it for a while: the start
  // times come from inspect; without them no volume counts as dead.
  std::map<std::string, double> started;
  if (f.containers)
    for (const auto& c : *f.containers)
      if (c.state == "running" && c.started_at) started[c.id] = *c.started_at;
  static const std::vector<compose::ProjectState> none;
  v.findings = disk::volume_findings(*f.df, started, f.projects ? *f.projects : none, f.now);

  for (const auto& vol : f.df->volumes) {
    if (vol.ref_count != 0) continue;
    ++v.unreferenced;
    if (vol.size > 0) v.unreferenced_bytes += vol.size;
    auto project = vol.labels.find(std::string(docker::kLabelProject));
    v.largest_unreferenced.push_back(
        {vol.name, project == vol.labels.end() ? std::string() : project->second, vol.size, vol.anonymous()});
  }
  std::sort(v.largest_unreferenced.begin(), v.largest_unreferenced.end(), [](const VolumeRow& a, const VolumeRow& b) {
    return a.size_bytes != b.size_bytes ? a.size_bytes > b.size_bytes : a.name < b.name;
  });
  if (v.largest_unreferenced.size() > rules.largest_volumes) v.largest_unreferenced.resize(rules.largest_volumes);
  return v;
}

const compose::ProjectState* project_named(const HostFacts& f, const std::string& name) {
  if (!f.projects || name.empty()) return nullptr;
  for (const auto& p : *f.projects)
    if (p.name == name) return &p;
  return nullptr;
}

ContainersSection containers_section(const HostFacts& f, const DiagnoseRules& rules) {
  ContainersSection s;
  s.cgroup_error = f.cgroup_error;
  if (!f.containers) {
    s.error = or_reason(f.containers_error);
    return s;
  }
  s.inspected = f.containers->size();
  for (const auto& c : *f.containers) {
    std::optional<std::uint64_t> oom;
    if (auto it = f.cgroup_oom_kills.find(c.id); it != f.cgroup_oom_kills.end()) oom = it->second;
    auto reasons = troubles(c, oom, rules);
    if (reasons.empty()) continue;
    TroubledContainer t;
    t.container = c;
    t.reasons = std::move(reasons);
    t.cgroup_oom_kills = oom;
    if (const auto* p = project_named(f, t.container.project()); p && p->model) {
      t.compose_files = p->model->files;
      if (auto svc = p->model->services.find(t.container.service()); svc != p->model->services.end())
        t.compose_location = svc->second.location.str();
    }
    if (auto it = f.logs.find(c.id); it != f.logs.end()) t.logs = it->second;
    if (auto it = f.logs_error.find(c.id); it != f.logs_error.end()) t.logs_error = it->second;
    s.troubled.push_back(std::move(t));
  }
  std::sort(s.troubled.begin(), s.troubled.end(), [](const TroubledContainer& a, const TroubledContainer& b) {
    return std::make_tuple(a.rule(), a.container.project(), a.container.service(), a.container.name) <
           std::make_tuple(b.rule(), b.container.project(), b.container.service(), b.container.name);
  });
  return s;
}

ComposeSection compose_section(const HostFacts& f) {
  ComposeSection s;
  if (!f.projects) {
    s.error = f.projects_error.empty() ? "not read" : f.projects_error;
    return s;
  }
  std::vector<docker::LiveContainer> live;
  if (f.containers)
    for (const auto& c : *f.containers) live.push_back(docker::live_container(c));
  for (const auto& p : *f.projects) {
    ProjectRow row;
    row.name = p.name;
    row.files = p.source.files;
    row.from_config = p.source.configured;
    row.valid = p.valid;
    row.skipped = !p.source.configured && !p.source.problem.empty();
    row.error = p.error;
    row.lint = p.findings.size();
    // Without the containers every service would look missing: not compared then.
    if (p.valid && p.model && f.containers) {
      const auto d = compose::compare_project(*p.model, live, {.profiles_known = p.source.configured});
      std::size_t n = 0;
      for (const auto& svc : d.services) n += svc.details.size();
      row.drift = n;
      row.orphans = d.orphans.size();
    }
    s.projects.push_back(std::move(row));
  }
  return s;
}

std::string quote_sh(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/' || c == ':' ||
           c == '@' || c == '=' || c == ',';
  });
  if (plain) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A docker-style memory value for `docker update --memory`: whole MiB, rounded up.
std::string docker_memory(std::int64_t bytes) {
  const std::int64_t mib = (bytes + (1 << 20) - 1) >> 20;
  return std::to_string(std::max<std::int64_t>(mib, 6)) + "m";
}

std::string where(const TroubledContainer& t) {
  const docker::ContainerInfo& c = t.container;
  if (c.project().empty()) return "container " + c.name;
  return "container " + c.name + " (service " + c.service() + " of project " + c.project() + ")";
}

void container_steps(const TroubledContainer& t, std::vector<NextStep>& steps) {
  const docker::ContainerInfo& c = t.container;
  const std::string name = quote_sh(c.name);
  switch (t.rule()) {
    case Trouble::oom_killed:
      steps.push_back({where(t) +
                           (c.oom_killed ? " was killed for lack of memory"
                                         : " had a process killed for lack of memory and runs on") +
                           ": see what it was doing",
                       "docker logs --tail 100 " + name, ""});
      if (c.spec.memory_limit <= 0) {
        steps.push_back({where(t) + " has no memory limit, so the host itself ran out of memory: see what the "
                                    "kernel killed and what uses the memory",
                         "journalctl -k --since '-1d' | grep -i -e 'out of memory' -e 'killed process'; free -m", ""});
      } else if (!t.compose_location.empty()) {
        std::string files;
        for (const auto& f : t.compose_files) files += " -f " + quote_sh(f);
        steps.push_back({"raise mem_limit (or deploy.resources.limits.memory) of service " + c.service() + " at " +
                             t.compose_location + " above its " + config::format_size(c.spec.memory_limit) +
                             ", then recreate the service",
                         "docker-compose -p " + quote_sh(c.project()) + files + " up -d " + quote_sh(c.service()),
                         "recreates the service's containers: a short outage for " + c.service()});
      } else if (!c.project().empty()) {
        steps.push_back({"raise mem_limit of service " + c.service() + " in project " + c.project() +
                             "'s compose file above its " + config::format_size(c.spec.memory_limit) +
                             ", then 'docker-compose up -d " + c.service() + "'",
                         "", ""});
      } else {
        steps.push_back({"raise the memory limit of " + c.name + " above its " + config::format_size(c.spec.memory_limit) +
                             " (here to twice that); or re-create it with a larger -m",
                         "docker update --memory " + docker_memory(2 * c.spec.memory_limit) + " --memory-swap " +
                             docker_memory(2 * c.spec.memory_limit) + " " + name,
                         "check that the host has that much memory to spare (free -m)"});
      }
      break;
    case Trouble::restart_loop:
      steps.push_back({where(t) + " keeps restarting (" + std::to_string(c.restart_count) +
                           " restarts, last exit code " + std::to_string(c.exit_code) + "): see why it exits",
                       "docker logs --tail 100 " + name, ""});
      steps.push_back({"the engine's account of its restarts and last exit",
                       "docker inspect " + name + " --format '{{.RestartCount}} {{.State.ExitCode}} {{.State.Error}}'",
                       ""});
      break;
    case Trouble::immediate_exit:
      steps.push_back({where(t) + " exited at once with code " + std::to_string(c.exit_code) + ": see what it printed",
                       "docker logs --tail 100 " + name, ""});
      if (!c.error.empty())
        steps.push_back({"the engine could not run it (a missing command or mount, a bad option): its error in full",
                         "docker inspect " + name + " --format '{{.State.Error}}'", ""});
      break;
  }
}

}  // namespace

std::vector<NextStep> next_steps(const DiagnoseReport& r, bool prune_policies_configured, const DiagnoseRules& rules) {
  std::vector<NextStep> steps;
  if (!r.engine.reachable) {
    const bool unix_socket = r.docker_host.starts_with("unix://");
    const std::string socket = unix_socket ? r.docker_host.substr(7) : std::string();
    if (r.engine.problem == EngineProblem::permission_denied && unix_socket)
      steps.push_back(
          {"this user may not use the engine's socket: it needs root or the socket's group (usually "
           "docker)",
           "ls -l " + quote_sh(socket) + "; id", ""});
    steps.push_back({"is the Docker daemon running, and why did it stop?", "systemctl status docker", ""});
    steps.push_back({"the daemon's last messages", "journalctl -u docker --since '-1h' --no-pager | tail -n 50", ""});
    if (unix_socket && r.engine.problem != EngineProblem::permission_denied)
      steps.push_back({"does the socket exist, and may this user open it (root or the socket's group)?",
                       "ls -l " + quote_sh(socket) + "; id", ""});
    if (!unix_socket)
      steps.push_back({"is " + r.docker_host +
                           " the engine's address? (--docker.host, docker.host in the config "
                           "file, $DOCKER_HOST)",
                       "docker -H " + quote_sh(r.docker_host) + " version", ""});
  }

  for (const auto& t : r.containers.troubled) container_steps(t, steps);

  for (const auto& why : r.prune_blocked)
    steps.push_back({"prune policies on images and containers do not run: " + why +
                         " (make the files readable by the agent, or give it the variables: compose.projects[].env_file)",
                     "composewatch check", ""});

  if (r.filesystem.low && r.filesystem.usage)
    steps.push_back({"the Docker filesystem has " + config::format_size(std::int64_t(r.filesystem.usage->avail_bytes)) +
                         " free: see which directories hold the space (container logs live under containers/)",
                     "sudo du -xh --max-depth=1 " + quote_sh(r.filesystem.path) + " | sort -h | tail -n 15", ""});

  if (r.disk.summary) {
    const bool big = r.disk.reclaimable_bytes > rules.reclaim_bytes;
    const bool share =
        r.filesystem.usage && r.filesystem.usage->size_bytes > 0 &&
        100.0 * double(r.disk.reclaimable_bytes) / double(r.filesystem.usage->size_bytes) > rules.reclaim_percent;
    if (big || share) {
      steps.push_back({config::format_size(r.disk.reclaimable_bytes) +
                           " is reclaimable: see what a prune would delete, "
                           "deleting nothing" +
                           std::string(prune_policies_configured
                                           ? ""
                                           : " (no prune policies are configured: add some under prune.policies "
                                             "in the config file first)"),
                       "composewatch prune --dry-run", ""});
      steps.push_back({"what each image, container, volume and cache record holds", "docker system df -v", ""});
    }
  }

  for (const auto& v : r.volumes.findings) {
    if (v.check == "orphan-volume")
      steps.push_back({"volume " + v.volume + " is left over from project " + v.project +
                           " (no longer declared): if its data is no longer needed, remove it",
                       "docker volume rm " + quote_sh(v.volume),
                       "deletes the volume's data for good: back it up first (docker run --rm -v " + v.volume +
                           ":/from:ro -v \"$PWD\":/to IMAGE tar -czf /to/" + v.volume +
                           ".tgz -C /from .) and make sure nothing needs it"});
    else if (v.check == "dead-volume")
      steps.push_back({"volume " + v.volume + " of project " + v.project + " stays empty while mounted: " + v.fix,
                       "docker volume inspect " + quote_sh(v.volume), ""});
  }

  std::vector<std::string> compose_issues;
  for (const auto& p : r.compose.projects) {
    if (p.skipped) continue;
    if (!p.valid) {
      compose_issues.push_back(p.name + " could not be loaded");
      continue;
    }
    std::string s;
    if (p.drift.value_or(0)) s += std::to_string(*p.drift) + " drift";
    if (p.orphans.value_or(0)) s += (s.empty() ? "" : ", ") + std::to_string(*p.orphans) + " orphan(s)";
    if (p.lint) s += (s.empty() ? "" : ", ") + std::to_string(p.lint) + " lint finding(s)";
    if (!s.empty()) compose_issues.push_back(p.name + ": " + s);
  }
  if (!compose_issues.empty()) {
    std::string why = "compose projects differ from their files or have findings (";
    for (std::size_t i = 0; i < compose_issues.size(); ++i) why += (i ? "; " : "") + compose_issues[i];
    steps.push_back({why + "): file:line, why and fix for each", "composewatch check", ""});
  }

  // One step per command: a container listed under two rules, or two orphan volumes of
  // one project, must not repeat a line.
  std::set<std::string> seen;
  std::vector<NextStep> unique;
  for (auto& s : steps)
    if (s.command.empty() || seen.insert(s.command).second) unique.push_back(std::move(s));
  return unique;
}

DiagnoseReport build_report(const HostFacts& facts, const DiagnoseRules& rules, std::size_t log_lines) {
  DiagnoseReport r;
  r.generated_at = facts.now;
  r.docker_host = facts.docker_host;
  r.log_lines = log_lines;
  r.engine = engine_section(facts);
  r.disk = disk_section(facts);
  r.filesystem = filesystem_section(facts, rules);
  r.images = images_section(facts, rules);
  r.volumes = volumes_section(facts, rules);
  r.containers = containers_section(facts, rules);
  r.compose = compose_section(facts);
  r.image_checklist = {facts.image_checks_error, facts.image_checks};
  if (facts.image_or_container_policies && facts.projects)
    r.prune_blocked = prune::ComposeKnowledge::from(*facts.projects).blockers;
  r.next_steps = next_steps(r, facts.prune_policies_configured, rules);
  return r;
}

}  // namespace composewatch::commands
