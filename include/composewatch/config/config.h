#pragma once
// Agent configuration: flags (Prometheus-exporter style) and the YAML config file.
// Error policy: every function here throws ConfigError with a one-line reason that names
// the flag, or the file, line and key.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace composewatch::config {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The exit status of `composewatch run` for a ConfigError, whoever threw it (the flags,
// the config file, the web config and the files it names): EX_CONFIG of sysexits.h. The
// unit lists it in RestartPreventExitStatus=: restarting cannot fix what only the
// administrator can, so it stays failed with the reason instead of looping.
inline constexpr int kExitConfigError = 78;

// What the process environment contributes. Read once by main; tests build their own.
struct Environment {
  std::optional<std::string> docker_host;      // $DOCKER_HOST
  std::optional<std::string> state_directory;  // $STATE_DIRECTORY (systemd; ':'-separated)

  // Unset and empty variables both count as absent.
  static Environment from_process();
};

// Values given as flags, verbatim and unvalidated; unset ones fall through to the config
// file, the environment, the default.
struct FlagValues {
  std::optional<std::string> listen_address;  // --web.listen-address
  std::optional<std::string> telemetry_path;  // --web.telemetry-path
  std::optional<std::string> web_config_file;  // --web.config.file
  std::optional<std::string> max_requests;    // --web.max-requests
  std::optional<std::string> max_connections;  // --web.max-connections
  std::optional<std::string> docker_host;     // --docker.host
  std::optional<std::string> config_file;     // --config.file
  std::optional<std::string> stats_source;    // --stats.source
  std::optional<std::string> path_procfs;     // --path.procfs
  std::optional<std::string> state_dir;       // --state.dir
  std::optional<std::string> log_level;       // --log.level
  std::optional<std::string> log_format;      // --log.format
};

inline constexpr const char* kDefaultConfigFile = "/etc/composewatch/config.yml";
inline constexpr const char* kDefaultDockerHost = "unix:///var/run/docker.sock";
inline constexpr const char* kDefaultStateDir = "/var/lib/composewatch";
inline constexpr std::uintmax_t kMaxConfigFileBytes = 1024 * 1024;

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
  bool restart_dependents = false;  // opt-in as well: it restarts containers not themselves opted in
  bool dry_run = false;
  std::vector<AutohealServiceConfig> services;
};

struct AgentConfig {
  // web
  std::string listen_address = "127.0.0.1:9469";
  std::string telemetry_path = "/metrics";
  std::string web_config_file;  // empty: none
  std::size_t max_requests = 40;
  std::size_t max_connections = 256;
  // docker
  std::string docker_host;  // resolved: flag, file, $DOCKER_HOST, else unix:///var/run/docker.sock
  // stats
  std::string stats_source = "auto";  // auto | cgroup | api
  // Where the host's /proc is mounted: containers' /proc/<pid>/net/dev and
  // /proc/<pid>/cgroup are read there (an agent in a container mounts the host's at
  // another path). The agent's own /proc/self stays /proc.
  std::string procfs = "/proc";
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

  // The inputs it was resolved from, so that a reload (SIGHUP) applies the same flags and
  // environment over the new file.
  FlagValues flags;
  Environment environment;
  std::string default_config_file = kDefaultConfigFile;
};

// Parses "90s", "5m", "24h", "1h30m", "500ms", "2d", "1.5h" (units ms, s, m, h, d; "0"
// alone is zero). Rounded down to seconds where a field holds seconds. Throws ConfigError
// ("invalid duration '...'") on anything else, negatives included.
std::chrono::milliseconds parse_duration(const std::string& text);
// Parses "512MB", "5GB", "1GiB", "1024", "512k", "1.5GiB": units B, K, M, G, T, P with an
// optional "B" or "iB", case-insensitive, all powers of 1024; fractions round down.
// Throws ConfigError on anything else, negatives and overflow included.
std::uint64_t parse_size(const std::string& text);
// The other way round, for messages and tables: "512B", "1.5KiB", "300KiB", "64MiB",
// "1.5GiB" (powers of 1024; one decimal below 100 of a unit, none above; never "1024KiB").
std::string format_size(std::int64_t bytes);
// Parses a percentage "20%" or "12.5%" into 20.0 / 12.5, within [0, 100]. The '%' is
// required. Throws ConfigError.
double parse_percent(const std::string& text);

// Loads and validates a config file over `base` (the defaults): what the file sets
// replaces the value in `base`; sets cfg.config_file = path. Relative paths in the file
// (compose files, env files, web.config_file) are taken relative to the file's directory.
// Unknown keys, wrong types, bad values and files over kMaxConfigFileBytes are errors
// "FILE:LINE: key: reason". Reads the file; otherwise pure.
AgentConfig load_config_file(const std::string& path, AgentConfig base = {});
// As load_config_file, from text already read; `path` only names it in errors and anchors
// relative paths.
AgentConfig parse_config_text(const std::string& text, const std::string& path,
                              AgentConfig base = {});

// Resolves each setting as flag > config file > environment > default, and validates every
// value, naming where it came from ("--docker.host: ...", "$DOCKER_HOST: ...",
// "FILE:LINE: docker.host: ..."). The config file is flags.config_file if given (it must
// exist), else `default_config_file` if that exists, else none. Throws ConfigError.
AgentConfig resolve_config(const FlagValues& flags, const Environment& env,
                           const std::string& default_config_file = kDefaultConfigFile);
// For SIGHUP: resolves again from the flags and environment recorded in `current`, reading
// the config file anew. Throws ConfigError and leaves `current` as it was.
AgentConfig reload_config(const AgentConfig& current);

// The settings a reload (SIGHUP) cannot apply to a running agent that differ between
// `running` and `next`, by their config-file names ("disk.interval", "web.listen_address",
// "autoheal", ...): compose.projects and prune.policies are the ones a reload applies.
std::vector<std::string> changes_needing_restart(const AgentConfig& running, const AgentConfig& next);

}  // namespace composewatch::config
