// diagnose, the I/O: asks the engine section by section, reads cgroup OOM counters, the
// Docker filesystem and the compose files, then builds and renders the report.

#include "composewatch/commands/diagnose/command.h"
#include "composewatch/commands/diagnose/render.h"

#include <algorithm>

#include <boost/asio/this_coro.hpp>
#include <charconv>
#include <chrono>
#include <ostream>

#include "composewatch/cgroup/source.h"
#include "composewatch/commands/host.h"
#include "composewatch/commands/image_report.h"
#include "composewatch/engine/client.h"
#include "../oneshot.h"

namespace composewatch::commands {

namespace asio = boost::asio;

DiagnoseOptions diagnose_options(const config::CommandLine& cl) {
  DiagnoseOptions o;
  o.format = cl.option("format", "text");
  // A copy: option() returns a reference to the fallback when the flag is absent, and the
  // fallback here is a temporary that dies with this statement.
  const std::string logs = cl.option("logs", "20");
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(logs.data(), logs.data() + logs.size(), n);
  if (ec != std::errc() || end != logs.data() + logs.size() || n > kMaxDiagnoseLogLines)
    throw config::UsageError("--logs: invalid value '" + logs + "' (expected a number of lines from 0 to " +
                             std::to_string(kMaxDiagnoseLogLines) + "); see 'composewatch diagnose --help'");
  o.log_lines = n;
  return o;
}

namespace {

// /system/df walks every layer and volume: minutes on a big, busy host.
constexpr std::chrono::seconds kSystemDfTimeout{120};
// Where dockerd keeps its data unless told otherwise: read when the engine cannot say.
constexpr const char* kDefaultDockerRoot = "/var/lib/docker";

double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

EngineProblem problem_of(const engine::EngineError& e) {
  switch (e.kind) {
    case engine::EngineError::Kind::unreachable: return EngineProblem::unreachable;
    case engine::EngineError::Kind::permission_denied: return EngineProblem::permission_denied;
    case engine::EngineError::Kind::timeout: return EngineProblem::timeout;
    default: return EngineProblem::other;
  }
}

// The engine's calls, one section at a time. After a call runs out of time the engine is
// taken to be stuck and the remaining calls are skipped, so that a hung daemon costs one
// deadline, not one per section.
class Gatherer {
 public:
  Gatherer(asio::any_io_executor ex, const engine::Endpoint& ep, const config::AgentConfig& cfg,
           const DiagnoseOptions& options, const DiagnoseRules& rules, HostFacts& facts)
      : client_(ex, ep, detail::oneshot_client_options()),
        df_client_(ex, ep,
                   engine::ClientOptions{.connect_timeout = detail::kOneShotConnectTimeout,
                                         .request_timeout = kSystemDfTimeout}),
        cfg_(cfg),
        options_(options),
        rules_(rules),
        f_(facts) {}

  asio::awaitable<void> run() {
    try {
      co_await client_.negotiate();
      const auto v = co_await client_.version();
      f_.version = v.version;
      f_.api_version = client_.api_version();
    } catch (const engine::EngineError& e) {
      f_.engine_problem = problem_of(e);
      f_.engine_error = e.what();
      co_return;
    } catch (const std::exception& e) {  // an answer to /_ping or /version we cannot read
      f_.engine_problem = EngineProblem::other;
      f_.engine_error = e.what();
      co_return;
    }
    std::optional<docker::EngineCgroupInfo> cgroup_info;
    co_await section(f_.info_error, [&]() -> asio::awaitable<void> {
      const docker::EngineInfo info = docker::parse_info(co_await client_.get("/info"));
      cgroup_info = info.cgroup;
      if (info.docker_root_dir.empty()) throw docker::ParseError("info: missing DockerRootDir");
      f_.docker_root_dir = info.docker_root_dir;
    });
    co_await section(f_.containers_error, [&]() -> asio::awaitable<void> {
      f_.containers = co_await client_.inspect_all();
    });
    co_await section(f_.df_error, [&]() -> asio::awaitable<void> {
      f_.df = docker::parse_system_df(co_await df_client_.get("/system/df"));
    });
    read_oom_kills(cgroup_info);
    co_await read_logs();
    co_await read_histories();
  }

 private:
  // Runs one section; its failure is recorded in `error` and the next section goes on.
  template <class Body>
  asio::awaitable<void> section(std::string& error, Body body) {
    if (stuck_) {
      error = "skipped: an earlier call to the engine ran out of time";
      co_return;
    }
    try {
      co_await body();
    } catch (const engine::EngineError& e) {
      error = e.what();
      if (e.kind == engine::EngineError::Kind::timeout) stuck_ = true;
    } catch (const std::exception& e) {  // ParseError: the engine sent what we cannot read
      error = e.what();
    }
  }

  void read_oom_kills(const std::optional<docker::EngineCgroupInfo>& info) {
    if (!f_.containers) return;
    std::shared_ptr<const cgroup::Reader> reader;
    try {
      reader = cgroup::choose_stats_source(cfg_.stats_source, f_.engine_is_local, info, cfg_.procfs).reader;
    } catch (const std::exception& e) {
      f_.cgroup_error = e.what();
      return;
    }
    if (!reader) {
      f_.cgroup_error = f_.engine_is_local ? "--stats.source is api, or the engine's cgroups are not readable here"
                                           : "the engine is on another host";
      return;
    }
    for (const auto& c : *f_.containers) {
      if (c.pid <= 0) continue;  // the counter belongs to a running instance
      if (auto n = reader->oom_kills({c.id, c.pid, c.spec.cgroup_parent, c.spec.network_mode}))
        f_.cgroup_oom_kills[c.id] = *n;
    }
  }

  asio::awaitable<void> read_logs() {
    if (!f_.containers || options_.log_lines == 0) co_return;
    for (const auto& c : *f_.containers) {
      std::optional<std::uint64_t> oom;
      if (auto it = f_.cgroup_oom_kills.find(c.id); it != f_.cgroup_oom_kills.end()) oom = it->second;
      if (troubles(c, oom, rules_).empty()) continue;
      co_await section(f_.logs_error[c.id], [&]() -> asio::awaitable<void> {
        const std::string body = co_await client_.get(engine::container_path(
            c.id, "/logs?stdout=1&stderr=1&tail=" + std::to_string(options_.log_lines) + "&timestamps=0"));
        f_.logs[c.id] = docker::demux_logs(body, c.tty);
      });
      if (f_.logs_error[c.id].empty()) f_.logs_error.erase(c.id);
    }
  }

  asio::awaitable<void> read_histories() {
    if (!f_.df) co_return;
    for (const auto* img : largest_images(*f_.df, rules_.largest_images)) {
      co_await section(f_.history_error[img->id], [&]() -> asio::awaitable<void> {
        f_.history[img->id] = docker::parse_image_history(co_await client_.get(engine::image_path(img->id, "/history")));
      });
      if (f_.history_error[img->id].empty()) f_.history_error.erase(img->id);
    }
  }

  engine::Client client_;
  engine::Client df_client_;  // the same engine with /system/df's longer deadline
  const config::AgentConfig& cfg_;
  const DiagnoseOptions& options_;
  const DiagnoseRules& rules_;
  HostFacts& f_;
  bool stuck_ = false;
};

}  // namespace

HostFacts gather_host_facts(const config::AgentConfig& cfg, const DiagnoseOptions& options, const DiagnoseRules& rules) {
  HostFacts f;
  f.now = epoch_now();
  f.docker_host = cfg.docker_host;
  f.prune_policies_configured = !cfg.prune_policies.empty();
  f.image_or_container_policies = std::any_of(cfg.prune_policies.begin(), cfg.prune_policies.end(), [](const auto& p) {
    return p.target == "images" || p.target == "containers";
  });
  try {
    const engine::Endpoint ep = engine::parse_endpoint(cfg.docker_host);
    f.engine_is_local = ep.kind == engine::Endpoint::Kind::unix_socket;
    detail::run_sync([&](asio::any_io_executor ex) -> asio::awaitable<void> {
      Gatherer g(ex, ep, cfg, options, rules, f);
      co_await g.run();
    });
  } catch (const std::exception& e) {
    if (f.engine_error.empty() && !f.containers && !f.df) {
      f.engine_problem = EngineProblem::other;
      f.engine_error = e.what();
    }
  }

  // The Docker root dir's filesystem; when the engine cannot say, the default one, since
  // a full disk is a common reason for a daemon that does not answer.
  if (!f.engine_is_local) {
    f.filesystem_error = "the engine is on another host";
  } else {
    f.filesystem_path = f.docker_root_dir.empty() ? kDefaultDockerRoot : f.docker_root_dir;
    f.filesystem = disk::filesystem_usage(f.filesystem_path);
    if (!f.filesystem) f.filesystem_error = "statvfs failed (not mounted here, or no permission)";
  }

  try {
    static const std::vector<docker::ContainerInfo> none;
    f.projects = known_projects(cfg, live_containers(f.containers ? *f.containers : none));
  } catch (const std::exception& e) {
    f.projects_error = e.what();
  }
  if (f.projects && f.engine_error.empty()) {
    static const std::vector<docker::ContainerInfo> none;
    HostImageReport images = host_image_report(cfg, *f.projects, f.containers ? *f.containers : none);
    f.image_checks = std::move(images.services);
    f.image_checks_error = std::move(images.error);
  } else if (f.projects) {
    f.image_checks = images::check_builds(*f.projects);  // the files can still be read
    f.image_checks_error = "the engine did not answer";
  }
  return f;
}

int run_diagnose(const config::AgentConfig& cfg, const DiagnoseOptions& options, std::ostream& out, std::ostream& err) {
  try {
    const DiagnoseRules rules;
    const HostFacts facts = gather_host_facts(cfg, options, rules);
    const DiagnoseReport report = build_report(facts, rules, options.log_lines);
    if (options.format == "json")
      render_json(report, out);
    else
      render_text(report, out);
  } catch (const std::exception& e) {
    // Not expected (every section records its own failure); still a report, still 0.
    err << "composewatch: diagnose: " << e.what() << "\n";
  }
  out.flush();
  return 0;
}

}  // namespace composewatch::commands
