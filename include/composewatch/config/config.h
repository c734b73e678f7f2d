#pragma once
// Agent configuration: flags (Prometheus-exporter style) and the YAML config file.
// Error policy: every function here throws ConfigError with a one-line reason that names
// the flag, or the file, line and key.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace composewatch::config {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ComposeProjectConfig {
  std::string name;
  std::vector<std::string> files;
  std::string env_file;
  std::vector<std::string> profiles;
  bool production = false;
};

struct PrunePolicyConfig {
  std::string name;
  std::string schedule;  // 5-field cron or "every 6h"
  std::string target;    // build_cache | images | containers | networks | volumes
  std::optional<std::uint64_t> keep_storage_bytes;
  std::chrono::seconds older_than{24 * 3600};
  bool dry_run = true;
  std::string images = "dangling";  // dangling | unused
  std::optional<double> disk_free_below_percent;  // when.disk_free_below
  std::vector<std::string> protect_labels;
  std::optional<std::uint64_t> max_objects;
  std::optional<std::uint64_t> max_bytes;
  bool allow_volumes = false;
};

struct AutohealServiceConfig {
  std::string project, service;
};

struct AutohealConfig {
  bool configured = false;  // the section is present
  std::chrono::seconds unhealthy_for{120};
  unsigned max_attempts = 3;
  std::chrono::seconds window{3600};
  std::chrono::seconds backoff{30};
  std::string action = "restart";  // restart | stop
  bool restart_dependents = true;
  bool dry_run = false;
  std::vector<AutohealServiceConfig> services;
};

struct AgentConfig {
  // web
  std::string listen_address = "127.0.0.1:9469";
  std::string telemetry_path = "/metrics";
  std::string web_config_file;  // empty: none
  std::size_t max_requests = 40;
  // docker
  std::string docker_host;  // resolved: flag, file, $DOCKER_HOST, else unix:///var/run/docker.sock
  // stats
  std::string stats_source = "auto";  // auto | cgroup | api
  // state
  std::string state_dir;  // resolved: flag, $STATE_DIRECTORY, else /var/lib/composewatch
  // log
  std::string log_level = "info";    // debug | info | warn | error
  std::string log_format = "logfmt";  // logfmt | json
  // disk
  std::chrono::seconds disk_interval{300};
  std::chrono::seconds disk_timeout{60};
  // sections of the file only
  std::vector<ComposeProjectConfig> compose_projects;
  std::vector<PrunePolicyConfig> prune_policies;
  AutohealConfig autoheal;

  std::string config_file;  // the file loaded, empty when none
};

// Parses "90s", "5m", "24h", "1h30m", "500ms" (rounded down to seconds where used).
std::chrono::milliseconds parse_duration(const std::string& text);
// Parses "512MB", "5GB", "1024", "1.5GiB" as powers of 1024.
std::uint64_t parse_size(const std::string& text);

// Loads and validates a config file over `base` (the defaults). Unknown keys, wrong types
// and bad values are errors "FILE:LINE: key: reason".
AgentConfig load_config_file(const std::string& path, AgentConfig base = {});

}  // namespace composewatch::config
