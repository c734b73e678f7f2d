#include "composewatch/compose/lint.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <tuple>

namespace composewatch::compose {

const CheckCatalogue& lint_checks() {
  static const CheckCatalogue checks("lint", {
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
      {check_id::published_datastore_port,
       "a database or broker port published on all interfaces is open to the internet: Docker's published ports bypass "
       "ufw and firewalld (the DOCKER chain comes first)",
       "publish it on 127.0.0.1 only (\"127.0.0.1:5432:5432\"), or do not publish it and reach it over the compose network"},
      {check_id::secret_in_url,
       "a password inside a URL written into the compose file ends up in version control, in docker inspect and in every "
       "backup of the file",
       "build the URL from a variable kept out of the repository (postgres://app:${DB_PASSWORD}@db/app), or use an env_file"},
      {check_id::build_in_production,
       "building on the server needs the toolchain and the source there, and gives a different image on each host; "
       "production runs images built once and pulled by tag or digest",
       "build and push the image in CI, then reference it with image: REGISTRY/NAME:VERSION and drop build:"},
      {check_id::restart_policy,
       "only always and unless-stopped bring a production service back after a host reboot or a clean exit",
       "set restart: unless-stopped (or always; deploy.restart_policy.condition: any)"},
      {check_id::floating_tag,
       "an image without a tag or tagged latest changes under you at the next pull: two hosts or two deploys run "
       "different code, and a rollback has nothing to go back to",
       "pin a version tag (postgres:16.3) or a digest (image@sha256:...)"},
      {check_id::dev_mount,
       "the source code bind-mounted over the image's code runs whatever is on the host's disk, not what the image was "
       "built and tested with",
       "remove the mount and ship the code in the image (COPY in the Dockerfile); keep such mounts in a development "
       "override file"},
  });
  return checks;
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

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::string without_trailing_slash(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// Whether `path` is `dir` or lies under it; both absolute and normalised.
bool within(const std::string& path, const std::string& dir) {
  const std::string p = without_trailing_slash(path), d = without_trailing_slash(dir);
  return p == d || (p.starts_with(d) && (d == "/" || p[d.size()] == '/'));
}

// Where images keep their application code: WORKDIRs of the common base images.
bool is_code_path(const std::string& target) {
  static constexpr std::array<std::string_view, 11> kCodePaths = {
      "/app", "/code", "/src", "/usr/src", "/var/www", "/usr/share/nginx/html", "/srv", "/opt", "/workspace",
      "/application", "/project"};
  if (std::any_of(kCodePaths.begin(), kCodePaths.end(), [&](std::string_view p) { return within(target, std::string(p)); }))
    return true;
  // /home/USER/app (node's images use /home/node/app)
  if (!target.starts_with("/home/")) return false;
  const auto user_end = target.find('/', 6);
  return user_end != std::string::npos && within(target, target.substr(0, user_end) + "/app");
}

// First path components that hold data or configuration rather than code.
bool is_data_or_config_name(std::string name) {
  if (name.starts_with(".")) return true;  // .env, .htpasswd: configuration
  name = lower(name);
  if (auto dot = name.find('.', 1); dot != std::string::npos) name = name.substr(0, dot);
  static constexpr std::array<std::string_view, 20> kNames = {
      "data",   "db",      "database", "storage", "uploads", "media", "logs",  "log",    "backups", "backup",
      "cache",  "tmp",     "certs",    "ssl",     "secrets", "config", "conf", "etc",    "var",     "volumes"};
  return std::any_of(kNames.begin(), kNames.end(), [&](std::string_view n) { return name == n; });
}

// A bind mount of the source code over the image's: the project directory or the build
// context itself, or something inside one (not a data or config directory) mounted onto
// an application code path.
bool is_dev_mount(const VolumeMount& m, const std::vector<std::string>& code_roots) {
  if (m.type != "bind" || m.source.empty()) return false;
  for (const std::string& root : code_roots) {
    if (root.empty() || !within(m.source, root)) continue;
    // The path below the root, without its leading '/': "src/app" for /srv/shop/src/app.
    const std::string below = without_trailing_slash(m.source).substr(without_trailing_slash(root).size());
    if (below.empty()) return true;
    const std::string first = below.substr(1, below.find('/', 1) - 1);  // npos - 1 still means "to the end"
    if (is_code_path(m.target) && !is_data_or_config_name(first)) return true;
  }
  return false;
}

// restart:, else deploy.restart_policy.condition (any = always); empty when neither is declared.
std::string declared_restart(const Service& s) {
  if (!s.restart.empty()) return s.restart;
  if (!s.deploy_restart_condition) return "";
  if (*s.deploy_restart_condition == "any") return "always";
  if (*s.deploy_restart_condition == "none") return "no";
  return *s.deploy_restart_condition;
}

bool on_all_interfaces(const PortMapping& p) {
  return p.host_ip.empty() || p.host_ip == "0.0.0.0" || p.host_ip == "::";
}

std::string port_text(int first, int last) {
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace

std::string production_reason(const Project& project, bool configured) {
  if (configured) return "production: true in the config file";
  for (const auto& f : project.files) {
    const std::string name = std::filesystem::path(f).filename().string();
    if (lower(name).find("prod") != std::string::npos)
      return "its compose file " + name + " is named like *prod*";
  }
  return "";
}

bool is_datastore_port(int port) {
  static constexpr std::array<int, 25> kPorts = {
      5432, 5433, 3306, 33060, 6379, 6380, 27017, 27018, 27019, 5672, 9200, 9300, 11211,
      9042, 2181, 9092, 8086,  1433, 1521, 5984, 8123,  2379,  7687,  26257, 28015};
  return std::find(kPorts.begin(), kPorts.end(), port) != kPorts.end();
}

bool url_has_password(std::string_view value) {
  auto scheme_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'; };
  for (auto pos = value.find("://"); pos != std::string_view::npos; pos = value.find("://", pos + 3)) {
    std::size_t begin = pos;
    while (begin > 0 && scheme_char(value[begin - 1])) --begin;
    if (begin == pos || !std::isalpha(static_cast<unsigned char>(value[begin]))) continue;
    std::string_view authority = value.substr(pos + 3);
    authority = authority.substr(0, authority.find_first_of("/?# \t"));
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos) continue;
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    if (colon != std::string_view::npos && colon + 1 < userinfo.size()) return true;
  }
  return false;
}

bool is_floating_image(std::string_view image) {
  if (image.empty() || image.find('@') != std::string_view::npos) return false;
  const auto slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) return true;
  const std::string_view tag = image.substr(colon + 1);
  return tag.empty() || tag == "latest";
}

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

namespace {
// The build context on the host; empty without build: or when Compose fetches it (git, URL).
std::string local_context(const Service& s) { return s.build && !s.build->remote ? s.build->context : std::string(); }
}  // namespace

std::vector<LintFinding> lint_project(const Project& project, const LintOptions& options) {
  std::vector<LintFinding> out;
  const bool production = !production_reason(project, options.production).empty();
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
    // A field whose value depends on a variable the agent lacks (Service::unknown) is not
    // judged: its empty or partial value is not what the deployer ran.
    auto known = [s](const char* field) { return !s->unknown.contains(field); };
    bool named_volume = false;
    for (const auto& v : s->volumes) {
      if (v.type == "volume" && !v.source.empty()) {
        mounted.insert(v.source);
        if (project.volumes.count(v.source)) named_volume = true;
      }
    }

    if (known("healthcheck") && !has_active_healthcheck(*s)) {
      if (is_stateful_image(s->image))
        add(check_id::stateful_without_healthcheck, s->name, s->location,
            "service " + s->name + " runs " + s->image + " without a healthcheck");
      else if (named_volume)
        add(check_id::stateful_without_healthcheck, s->name, s->location,
            "service " + s->name + " keeps data in a named volume but has no healthcheck");
    }

    if (!s->memory_limit_bytes && known("memory_limit"))
      add(check_id::no_memory_limit, s->name, s->location, "service " + s->name + " has no memory limit");

    for (const auto& [dep, d] : s->depends_on) {
      const Service* target = find(dep);
      if (!target || !has_active_healthcheck(*target)) continue;
      if (d.condition == "service_healthy" || d.condition == "service_completed_successfully") continue;
      add(check_id::depends_on_not_healthy, s->name, s->location,
          "service " + s->name + " depends on " + dep + " (condition " + d.condition + "), which has a healthcheck");
    }

    if (production) {
      const std::vector<std::string> code_roots = {project.working_dir, local_context(*s)};
      for (const auto& v : s->volumes) {
        if (is_dev_mount(v, code_roots))
          add(check_id::dev_mount, s->name, s->location,
              "service " + s->name + " bind-mounts the source code " + v.source + " over " + v.target);
        else if (v.type == "bind")
          add(check_id::bind_mount_in_production, s->name, s->location,
              "service " + s->name + " bind-mounts " + v.source + " at " + v.target);
      }
      if (s->has_build)
        add(check_id::build_in_production, s->name, s->location,
            "service " + s->name + " builds its image on the host" +
                (local_context(*s).empty() ? std::string() : " from " + local_context(*s)));
      else if (known("image") && is_floating_image(s->image))
        add(check_id::floating_tag, s->name, s->location,
            "service " + s->name + " runs " + s->image +
                (s->image.ends_with(":latest") ? ", a floating tag" : ", which has no tag (latest)"));
      const std::string restart = declared_restart(*s);
      if (known("restart_policy") && !restart.empty() && restart != "always" && restart != "unless-stopped" && !jobs.count(s->name))
        add(check_id::restart_policy, s->name, s->location,
            "service " + s->name + " has restart policy " + restart + ", not always or unless-stopped");
    }

    if (known("restart_policy") && s->restart.empty() && !s->deploy_restart_condition && !jobs.count(s->name))
      add(check_id::no_restart_policy, s->name, s->location, "service " + s->name + " has no restart policy");

    if (s->network_mode != "host") {
      for (const auto& p : s->ports) {
        if (!on_all_interfaces(p)) continue;
        bool datastore = is_stateful_image(s->image);
        for (int port = p.target; !datastore && port <= p.target_end; ++port) datastore = is_datastore_port(port);
        if (!datastore) continue;
        add(check_id::published_datastore_port, s->name, p.location.file.empty() ? s->location : p.location,
            "service " + s->name + " publishes container port " + port_text(p.target, p.target_end) + "/" +
                p.protocol + " on all interfaces (" +
                (p.published.empty() ? std::string("an ephemeral host port") : "host port " + p.published) + ")");
      }
    }

    for (const auto& [key, e] : s->environment) {
      if (!e.has_value || !e.literal || e.value.empty()) continue;
      if (url_has_password(e.value))
        add(check_id::secret_in_url, s->name, s->location,
            "service " + s->name + " sets " + key + " to a URL with a password written in the file");
      else if (is_secret_key(key))
        add(check_id::literal_secret, s->name, s->location,
            "service " + s->name + " sets " + key + " to a literal value in the file");
    }
  }

  for (const auto& [name, v] : project.volumes) {
    if (v.external || mounted.count(name)) continue;
    add(check_id::unused_volume, "", v.location, "volume " + name + " is declared but no service mounts it");
  }

  auto order = [](std::string_view id) { return lint_checks().position(id); };
  std::stable_sort(out.begin(), out.end(), [&](const LintFinding& a, const LintFinding& b) {
    return std::make_tuple(order(a.check), a.service, a.message) < std::make_tuple(order(b.check), b.service, b.message);
  });
  return out;
}

}  // namespace composewatch::compose
