#include "composewatch/compose/lint.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <stdexcept>
#include <tuple>

namespace composewatch::compose {

const std::vector<LintCheck>& lint_checks() {
  static const std::vector<LintCheck> checks = {
      {check_id::obsolete_version,
       "the top-level version: key is obsolete; Compose ignores it and it suggests a file format that no longer exists",
       "delete the version: line"},
      {check_id::stateful_without_healthcheck,
       "a database or broker without a healthcheck reports 'running' while it cannot serve, and dependents start too early",
       "add a healthcheck: (e.g. pg_isready, mysqladmin ping, redis-cli ping) and make dependents wait with condition: service_healthy"},
      {check_id::no_memory_limit,
       "without a memory limit one leaking container can exhaust the host and the kernel OOM-kills whatever it picks",
       "set mem_limit: (or deploy.resources.limits.memory) to what the service needs plus headroom"},
      {check_id::depends_on_not_healthy,
       "depends_on without condition: service_healthy only waits for the dependency's container to start, not to be ready",
       "use depends_on: {SERVICE: {condition: service_healthy}} towards services that have a healthcheck"},
      {check_id::bind_mount_in_production,
       "bind mounts tie a production service to the host's directory layout and file ownership, and bypass volume backups",
       "use a named volume, or mark the mount read_only: true if it is configuration"},
      {check_id::unused_volume,
       "a declared volume that no service mounts is dead configuration, often a typo in a service's volume name",
       "mount it in the service that should use it, or delete it from volumes:"},
      {check_id::no_restart_policy,
       "a long-running service without restart: stays down after a crash or a host reboot",
       "add restart: unless-stopped (or always / on-failure)"},
      {check_id::literal_secret,
       "a secret written into the compose file ends up in version control, in docker inspect and in every backup of the file",
       "move the value to an env_file or a variable (${NAME}) kept out of the repository, or use secrets:"},
  };
  return checks;
}

const LintCheck& lint_check(std::string_view id) {
  for (const auto& c : lint_checks())
    if (c.id == id) return c;
  throw std::out_of_range("unknown lint check " + std::string(id));
}

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

bool has_active_healthcheck(const Service& s) {
  return s.healthcheck && !s.healthcheck->disabled &&
         !(!s.healthcheck->test.empty() && s.healthcheck->test.front() == "NONE");
}

// The repository's last path component, without tag or digest: "bitnami/postgresql:16" → "postgresql".
std::string repository_name(std::string_view image) {
  if (auto at = image.find('@'); at != std::string_view::npos) image = image.substr(0, at);
  auto slash = image.rfind('/');
  if (slash != std::string_view::npos) image = image.substr(slash + 1);
  if (auto colon = image.find(':'); colon != std::string_view::npos) image = image.substr(0, colon);
  std::string out(image);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

bool is_stateful_image(std::string_view image) {
  static constexpr std::array<std::string_view, 22> kStateful = {
      "postgres",  "postgis",  "timescaledb", "mysql",       "mariadb",    "percona",   "redis",    "valkey",
      "keydb",     "mongo",    "rabbitmq",    "elasticsearch", "opensearch", "cassandra", "scylla",
      "influxdb",  "clickhouse", "couchdb",   "zookeeper",   "kafka",      "etcd",      "neo4j"};
  const std::string repo = repository_name(image);
  return std::any_of(kStateful.begin(), kStateful.end(), [&](std::string_view s) { return repo.starts_with(s); });
}

bool is_secret_key(std::string_view key) {
  const std::string k = upper(key);
  if (k.ends_with("_FILE")) return false;
  for (std::string_view word : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY"})
    if (k.find(word) != std::string::npos) return true;
  return false;
}

std::vector<LintFinding> lint_project(const Project& project, const LintOptions& options) {
  std::vector<LintFinding> out;
  auto add = [&](std::string_view check, std::string service, SourceLocation where, std::string message) {
    out.push_back({std::string(check), std::move(service), std::move(where), std::move(message)});
  };

  std::vector<const Service*> all;
  for (const auto& [_, s] : project.services) all.push_back(&s);
  for (const auto& [_, s] : project.inactive_services) all.push_back(&s);
  auto find = [&](const std::string& name) -> const Service* {
    for (const Service* s : all)
      if (s->name == name) return s;
    return nullptr;
  };

  if (project.has_version_key)
    add(check_id::obsolete_version, "",
        project.version_location.file.empty() && !project.files.empty() ? SourceLocation{project.files.front(), 0}
                                                                         : project.version_location,
        "the file sets the obsolete top-level version: key");

  // Services that others wait on to finish are jobs, not long-running services.
  std::set<std::string> jobs;
  for (const Service* s : all)
    for (const auto& [dep, d] : s->depends_on)
      if (d.condition == "service_completed_successfully") jobs.insert(dep);

  std::set<std::string> mounted;
  for (const Service* s : all) {
    bool named_volume = false;
    for (const auto& v : s->volumes) {
      if (v.type == "volume" && !v.source.empty()) {
        mounted.insert(v.source);
        if (project.volumes.count(v.source)) named_volume = true;
      }
    }

    if (!has_active_healthcheck(*s)) {
      if (is_stateful_image(s->image))
        add(check_id::stateful_without_healthcheck, s->name, s->location,
            "service " + s->name + " runs " + s->image + " without a healthcheck");
      else if (named_volume)
        add(check_id::stateful_without_healthcheck, s->name, s->location,
            "service " + s->name + " keeps data in a named volume but has no healthcheck");
    }

    if (!s->memory_limit_bytes)
      add(check_id::no_memory_limit, s->name, s->location, "service " + s->name + " has no memory limit");

    for (const auto& [dep, d] : s->depends_on) {
      const Service* target = find(dep);
      if (!target || !has_active_healthcheck(*target)) continue;
      if (d.condition == "service_healthy" || d.condition == "service_completed_successfully") continue;
      add(check_id::depends_on_not_healthy, s->name, s->location,
          "service " + s->name + " depends on " + dep + " (condition " + d.condition + "), which has a healthcheck");
    }

    if (options.production) {
      for (const auto& v : s->volumes)
        if (v.type == "bind")
          add(check_id::bind_mount_in_production, s->name, s->location,
              "service " + s->name + " bind-mounts " + v.source + " at " + v.target);
    }

    if (s->restart.empty() && !s->deploy_restart_condition && !jobs.count(s->name))
      add(check_id::no_restart_policy, s->name, s->location, "service " + s->name + " has no restart policy");

    for (const auto& [key, e] : s->environment) {
      if (e.has_value && e.literal && !e.value.empty() && is_secret_key(key))
        add(check_id::literal_secret, s->name, s->location,
            "service " + s->name + " sets " + key + " to a literal value in the file");
    }
  }

  for (const auto& [name, v] : project.volumes) {
    if (v.external || mounted.count(name)) continue;
    add(check_id::unused_volume, "", v.location, "volume " + name + " is declared but no service mounts it");
  }

  auto order = [](std::string_view id) {
    const auto& checks = lint_checks();
    for (std::size_t i = 0; i < checks.size(); ++i)
      if (checks[i].id == id) return i;
    return checks.size();
  };
  std::stable_sort(out.begin(), out.end(), [&](const LintFinding& a, const LintFinding& b) {
    return std::make_tuple(order(a.check), a.service, a.message) < std::make_tuple(order(b.check), b.service, b.message);
  });
  return out;
}

}  // namespace composewatch::compose
