// Where each setting comes from: flag > config file > environment > default.

#include "composewatch/config/config.h"

#include <tuple>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <system_error>

#include "values.h"

namespace composewatch::config {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// The default file is optional, but one that exists and cannot be read is an error, never
// silently skipped: it may hold guardrails.
std::string choose_config_file(const FlagValues& flags, const std::string& default_file) {
  if (flags.config_file) {
    detail::located("--config.file", [&] { detail::check_not_empty(*flags.config_file); });
    return *flags.config_file;
  }
  std::error_code ec;
  if (default_file.empty() || !std::filesystem::exists(default_file, ec)) {
    if (ec && ec != std::errc::no_such_file_or_directory) {
      throw ConfigError(default_file + ": " + ec.message());
    }
    return {};
  }
  return default_file;
}

}  // namespace

Environment Environment::from_process() {
  return Environment{.docker_host = variable("DOCKER_HOST"),
                     .state_directory = variable("STATE_DIRECTORY")};
}

AgentConfig resolve_config(const FlagValues& flags, const Environment& env,
                           const std::string& default_config_file) {
  AgentConfig cfg;
  cfg.flags = flags;
  cfg.environment = env;
  cfg.default_config_file = default_config_file;

  // Environment over defaults.
  cfg.docker_host = kDefaultDockerHost;
  if (env.docker_host) cfg.docker_host = *env.docker_host;  // checked below, if it is used
  cfg.state_dir = kDefaultStateDir;
  if (env.state_directory) {
    // systemd lists one path per StateDirectory= entry; ours is the first.
    const std::string first = env.state_directory->substr(0, env.state_directory->find(':'));
    detail::located("$STATE_DIRECTORY", [&] { detail::check_not_empty(first); });
    cfg.state_dir = first;
  }

  // The file over the environment; it validates its own values, naming file and line.
  if (const std::string file = choose_config_file(flags, default_config_file); !file.empty()) {
    cfg = load_config_file(file, std::move(cfg));
  }

  // Flags over everything.
  const auto apply = [](const std::optional<std::string>& flag, const char* name,
                        std::string& field, auto check) {
    if (!flag) return;
    detail::located(name, [&] { check(*flag); });
    field = *flag;
  };
  apply(flags.listen_address, "--web.listen-address", cfg.listen_address,
        detail::check_listen_address);
  apply(flags.telemetry_path, "--web.telemetry-path", cfg.telemetry_path,
        detail::check_telemetry_path);
  apply(flags.web_config_file, "--web.config.file", cfg.web_config_file, detail::check_not_empty);
  apply(flags.docker_host, "--docker.host", cfg.docker_host, detail::check_docker_host);
  apply(flags.stats_source, "--stats.source", cfg.stats_source, [](std::string_view v) {
    detail::check_one_of(v, {"auto", "cgroup", "api"});
  });
  apply(flags.state_dir, "--state.dir", cfg.state_dir, detail::check_not_empty);
  apply(flags.path_procfs, "--path.procfs", cfg.procfs, detail::check_absolute_path);
  apply(flags.log_level, "--log.level", cfg.log_level, [](std::string_view v) {
    detail::check_one_of(v, {"debug", "info", "warn", "error"});
  });
  apply(flags.log_format, "--log.format", cfg.log_format, [](std::string_view v) {
    detail::check_one_of(v, {"logfmt", "json"});
  });
  // $DOCKER_HOST may be meant for the docker CLI (ssh://...); only an error if we use it.
  if (env.docker_host && !flags.docker_host && cfg.docker_host == *env.docker_host) {
    detail::located("$DOCKER_HOST", [&] { detail::check_docker_host(*env.docker_host); });
  }
  if (flags.max_requests) {
    cfg.max_requests = detail::located("--web.max-requests", [&] {
      return detail::parse_count(*flags.max_requests, 1, std::numeric_limits<std::size_t>::max());
    });
  }
  if (flags.max_connections) {
    cfg.max_connections = detail::located("--web.max-connections", [&] {
      return detail::parse_count(*flags.max_connections, 1, std::numeric_limits<std::size_t>::max());
    });
  }
  return cfg;
}

AgentConfig reload_config(const AgentConfig& current) {
  return resolve_config(current.flags, current.environment, current.default_config_file);
}

std::vector<std::string> changes_needing_restart(const AgentConfig& a, const AgentConfig& b) {
  std::vector<std::string> out;
  auto note = [&](const char* name, bool differs) {
    if (differs) out.emplace_back(name);
  };
  note("web.listen_address", a.listen_address != b.listen_address);
  note("web.telemetry_path", a.telemetry_path != b.telemetry_path);
  note("web.config_file", a.web_config_file != b.web_config_file);
  note("web.max_requests", a.max_requests != b.max_requests);
  note("web.max_connections", a.max_connections != b.max_connections);
  note("docker.host", a.docker_host != b.docker_host);
  note("stats.source", a.stats_source != b.stats_source);
  note("--path.procfs", a.procfs != b.procfs);
  note("state.dir", a.state_dir != b.state_dir);
  note("log.level", a.log_level != b.log_level);
  note("log.format", a.log_format != b.log_format);
  note("disk.interval", a.disk_interval != b.disk_interval);
  note("disk.timeout", a.disk_timeout != b.disk_timeout);
  // The healer reads its settings once, at start: any edit of the section waits for it.
  const auto heal = [](const AutohealConfig& h) {
    std::vector<std::pair<std::string, std::string>> services;
    for (const auto& s : h.services) services.emplace_back(s.project, s.service);
    return std::tuple(h.configured, h.unhealthy_for, h.max_attempts, h.window, h.backoff, h.action,
                      h.restart_dependents, h.dry_run, services);
  };
  note("autoheal", heal(a.autoheal) != heal(b.autoheal));
  return out;
}

}  // namespace composewatch::config
