#pragma once
// Container inventory from GET /containers/json and GET /containers/{id}/json: pure parsing.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace composewatch::docker {

inline constexpr std::string_view kLabelProject = "com.docker.compose.project";
inline constexpr std::string_view kLabelService = "com.docker.compose.service";
inline constexpr std::string_view kLabelOneoff = "com.docker.compose.oneoff";
inline constexpr std::string_view kLabelWorkingDir = "com.docker.compose.project.working_dir";
inline constexpr std::string_view kLabelConfigFiles = "com.docker.compose.project.config_files";

// Config.Healthcheck as the engine stores it: durations in nanoseconds, 0 = the engine's
// default (30 s interval, 30 s timeout, 3 retries, no start period).
struct HealthcheckConfig {
  std::vector<std::string> test;  // ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]; empty = inherit
  std::int64_t interval_ns = 0;
  std::int64_t timeout_ns = 0;
  std::int64_t start_period_ns = 0;
  int retries = 0;
  std::optional<std::int64_t> start_interval_ns;  // absent where the engine does not report it (API < 1.44)
  bool operator==(const HealthcheckConfig&) const = default;
};

// HostConfig.RestartPolicy. Name "" and "no" both mean no restarts.
struct RestartPolicy {
  std::string name;
  int maximum_retry_count = 0;
  bool operator==(const RestartPolicy&) const = default;
};

// The com.docker.compose.* labels, read once from a container's labels.
struct ComposeLabels {
  std::string project, service;
  bool oneoff = false;       // `docker-compose run`: never a replica, never an orphan
  std::string working_dir;   // .project.working_dir
  std::string config_files;  // .project.config_files, comma-joined
  static ComposeLabels from(const std::map<std::string, std::string>& labels);
  bool operator==(const ComposeLabels&) const = default;
};

// What a container was created with, as the engine reports it (inspect's Config and
// HostConfig): the one description of a container's configuration that the state model,
// Compose discovery, drift and prune all read. Parsed once, by parse_inspect.
struct ContainerSpec {
  std::string image;                    // Config.Image as the user wrote it
  std::int64_t memory_limit = 0;        // HostConfig.Memory, 0 = unlimited
  std::int64_t memory_reservation = 0;  // HostConfig.MemoryReservation, 0 = none
  // A CPU limit: HostConfig.NanoCpus (`--cpus`), or CpuQuota (`--cpu-quota`); 0 = none.
  std::int64_t nano_cpus = 0;
  std::int64_t cpu_quota = 0;
  bool cpu_limited() const { return nano_cpus > 0 || cpu_quota > 0; }
  std::optional<HealthcheckConfig> healthcheck;  // Config.Healthcheck, absent when none
  RestartPolicy restart_policy;                  // HostConfig.RestartPolicy
  std::string cgroup_parent;                     // HostConfig.CgroupParent
  std::string network_mode;                      // HostConfig.NetworkMode
  // Config.StopTimeout in seconds (Compose's stop_grace_period, `docker run --stop-timeout`):
  // how long a stop or restart without `t` waits before SIGKILL. Absent: the engine's
  // default, 10 s; negative: it waits without bound.
  std::optional<std::int64_t> stop_timeout;
  std::map<std::string, std::string> labels;     // Config.Labels
  ComposeLabels compose;                         // from `labels`

  std::string label(std::string_view key) const;
  bool operator==(const ContainerSpec&) const = default;
};

// GET /containers/{id}/json: the container's identity, its runtime state and its spec.
struct ContainerInfo {
  std::string id;     // full 64-hex id
  std::string name;   // without the leading '/'
  std::string image_id;
  std::string state;   // created, running, paused, restarting, removing, exited, dead
  std::string health;  // none, starting, healthy, unhealthy
  int failing_streak = 0;
  std::optional<double> started_at;   // seconds since the epoch, absent when never started
  std::optional<double> finished_at;
  int exit_code = 0;
  bool oom_killed = false;
  int restart_count = 0;
  int pid = 0;
  std::string error;  // State.Error
  bool tty = false;   // Config.Tty: its log is raw text, not stdout/stderr frames
  std::string user;   // Config.User: "" when unset (the image's user applies)
  ContainerSpec spec;

  const std::string& project() const { return spec.compose.project; }
  const std::string& service() const { return spec.compose.service; }
};

// A container as Compose discovery, drift and prune read it: its name, state and spec,
// from an inspect or from the state model's record of it.
struct LiveContainer {
  std::string name;
  std::string state;  // running, exited, ...
  ContainerSpec spec;
  std::string image_id;    // the image it runs (inspect's Image), "sha256:…"
  int exit_code = 0;       // of its last exit (State.ExitCode)
  int restart_count = 0;   // policy restarts since its last manual start

  const std::string& project() const { return spec.compose.project; }
  const std::string& service() const { return spec.compose.service; }
};
inline LiveContainer live_container(const ContainerInfo& info) {
  return LiveContainer{.name = info.name,
                       .state = info.state,
                       .spec = info.spec,
                       .image_id = info.image_id,
                       .exit_code = info.exit_code,
                       .restart_count = info.restart_count};
}

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// GET /containers/{id}/json. Throws ParseError naming the field on malformed input.
ContainerInfo parse_inspect(std::string_view json);

// GET /containers/json?all=1: the ids (the listing's other fields are re-read by inspect).
std::vector<std::string> parse_container_ids(std::string_view json);

// Parses an RFC 3339 timestamp with optional fraction ("2024-01-02T03:04:05.123456789Z").
// The zero time "0001-01-01T00:00:00Z" gives nullopt.
std::optional<double> parse_rfc3339(std::string_view s);

// 12-hex short id, as the docker CLI shows it: an image id's "sha256:" is dropped first.
inline std::string short_id(std::string_view id) {
  if (id.starts_with("sha256:")) id.remove_prefix(7);
  return std::string(id.substr(0, 12));
}

}  // namespace composewatch::docker
