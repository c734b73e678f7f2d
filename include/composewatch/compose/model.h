#pragma once
// The normalised Compose model: what `composewatch compose` prints and what drift and
// lint read. Plain data; the loader (compose/loader.h) builds it, nothing here does I/O.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "composewatch/compose/mask.h"

namespace composewatch::compose {

// Where a thing was declared, for messages ("docker-compose.yml:12").
struct SourceLocation {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  std::string str() const { return line > 0 ? file + ":" + std::to_string(line) : file; }
};

struct Healthcheck {
  std::vector<std::string> test;  // ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]
  std::optional<double> interval_seconds;  // nullopt: not set (the engine's default applies)
  std::optional<double> timeout_seconds;
  std::optional<int> retries;
  std::optional<double> start_period_seconds;
  bool disabled = false;  // `disable: true` or test ["NONE"]
  std::optional<double> start_interval_seconds;  // checks during the start period (Compose 2.20+, API 1.44+)
  // What must not be shown of this check's test, nor of the container's (drift details):
  // the project's secrets as the loader knows them (mask.h).
  SecretMask mask;
};

struct DependsOn {
  std::string condition = "service_started";  // service_started | service_healthy | service_completed_successfully
  bool required = true;
  bool restart = false;  // `restart: true`: restart this service when the dependency is restarted (Compose spec)
};

// One entry of `ports:`, short ("127.0.0.1:8080:80/tcp", "9000-9010:9000-9010") or long
// syntax. Only what is published on the host is a port here; `expose:` is not.
struct PortMapping {
  std::string host_ip;    // as written, brackets removed; empty: every interface
  std::string published;  // host port or range ("8000-8010"); empty: an ephemeral port
  int target = 0;         // container port, the first of a range
  int target_end = 0;     // the last container port of a range; == target for one port
  std::string protocol = "tcp";
  SourceLocation location;
};

struct VolumeMount {
  std::string type;    // volume | bind | tmpfs | npipe
  std::string source;  // named volume name, host path (absolute after resolution), or empty (anonymous)
  std::string target;
  bool read_only = false;
};

struct EnvironmentEntry {
  bool has_value = false;
  bool literal = false;  // the value was written in the file, not interpolated from a variable
  // The value is kept for drift only; never print it (it may be a secret).
  std::string value;
  std::string env_file;  // the service env_file that set it (literal there), absolute; empty: the compose file
};

struct Service {
  std::string name;
  SourceLocation location;
  std::string image;          // empty when only `build` is given
  // When the image depends on a variable without a value (unknown["image"]): the part
  // written before it ("registry.example.com/app:" of "registry.example.com/app:${TAG}").
  std::optional<std::string> image_known_prefix;
  bool has_build = false;
  std::string container_name;
  int replicas = 1;  // deploy.replicas, else scale, else 1
  std::optional<std::int64_t> memory_limit_bytes;        // deploy.resources.limits.memory (non-zero) wins over mem_limit
  std::optional<std::int64_t> memory_reservation_bytes;  // deploy.resources.reservations.memory wins over mem_reservation
  std::optional<std::int64_t> memswap_limit_bytes;
  // deploy.resources.limits.pids wins over pids_limit (Compose v2); -1: unlimited.
  std::optional<std::int64_t> pids_limit;
  std::optional<Healthcheck> healthcheck;  // nullopt when none is declared
  std::string restart;  // "no", always, on-failure[:N], unless-stopped; empty when not declared
  std::optional<std::string> deploy_restart_condition;  // deploy.restart_policy.condition
  std::optional<int> deploy_restart_max_attempts;
  std::map<std::string, DependsOn> depends_on;
  std::vector<VolumeMount> volumes;
  std::vector<std::string> profiles;
  std::string network_mode;
  std::map<std::string, std::string> labels;
  std::map<std::string, EnvironmentEntry> environment;

  // Published ports, for the checklist (compose/lint.h).
  std::vector<PortMapping> ports;  // merged -f files de-duplicated as Compose does

  // Fields whose value depends on a variable that had no value where the project was
  // loaded: the name drift gives the field (image, memory_limit, memory_reservation,
  // healthcheck, restart_policy, replicas) → those variables. Drift does not compare them.
  std::map<std::string, std::vector<std::string>> unknown;
  std::vector<std::string> env_files;  // env_file entries that were read, absolute, in order

  // `build:` (has_build). A string is the context alone. A context on the host is an
  // absolute path, resolved like volumes against the declaring file's directory; a remote
  // one (git URL, https://…) is kept as written and `remote` is set.
  struct Build {
    std::string context;
    bool remote = false;
    std::string dockerfile;         // as written, relative to the context; empty: Dockerfile
    std::string dockerfile_inline;  // the Dockerfile's text when given inline
    std::string target;             // the stage built; empty: the last
    std::map<std::string, std::string> args;  // build args with a value (values may be secrets: never print them)
    SourceLocation location;
  };
  std::optional<Build> build;  // set when has_build
};

struct VolumeDecl {
  bool external = false;
  std::string name;  // the `name:` field when set
  SourceLocation location;
};

struct Project {
  std::string name;
  std::string working_dir;
  std::vector<std::string> files;  // absolute paths, in merge order
  std::map<std::string, Service> services;  // active services only (profiles applied)
  std::map<std::string, Service> inactive_services;  // declared but disabled by profiles
  std::map<std::string, VolumeDecl> volumes;
  bool has_version_key = false;  // obsolete top-level `version:`
  SourceLocation version_location;
  std::vector<std::string> warnings;  // e.g. "docker-compose.yml:3: variable FOO is not set, using an empty string"
  // Every other file the model was read from (extends and include files, env files),
  // absolute: an edit of one changes the model as an edit of `files` does.
  std::vector<std::string> dependencies;
};

}  // namespace composewatch::compose
