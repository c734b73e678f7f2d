// The YAML config file: a strict walk over the schema of CONTRACT.md "Config file". Every
// key is checked against the keys its section allows, so a typo is an error with a line
// number rather than a guardrail silently left at its default.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <yaml-cpp/yaml.h>

#include "composewatch/config/config.h"
#include "composewatch/yaml/document.h"
#include "values.h"

namespace composewatch::config {
namespace {

// Aliases let a small file name the same node many times; a budget on nodes visited keeps
// the walk linear in what a sane config could hold.
constexpr std::size_t kMaxNodesVisited = 100'000;

std::string read_bounded(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw ConfigError(path + ": is a directory, not a config file");
  if (!S_ISREG(st.st_mode)) throw ConfigError(path + ": not a regular file");
  if (static_cast<std::uintmax_t>(st.st_size) > kMaxConfigFileBytes) {
    throw ConfigError(path + ": larger than 1 MiB; refusing to parse it");
  }

  std::string text;
  char buffer[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ConfigError(path + ": cannot read: " + std::strerror(errno));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    // The file may have grown since fstat.
    if (text.size() > kMaxConfigFileBytes) {
      throw ConfigError(path + ": larger than 1 MiB; refusing to parse it");
    }
  }
  return text;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      std::string s = node.Scalar();
      if (s.size() > 40) s = s.substr(0, 37) + "...";
      return "'" + s + "'";
    }
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

bool valid_project_name(const std::string& name) {
  // As Compose requires of project names.
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_'))) return false;
  }
  return true;
}

// One key: value pair of a mapping, with the dotted path used in errors.
struct Entry {
  std::string key;
  std::string path;  // "prune.policies[0].dry_run"
  YAML::Node key_node;
  YAML::Node value;

  // Where the value is; a missing value ("key:") has no place of its own, so the key's.
  YAML::Mark mark() const {
    const YAML::Mark m = value.Mark();
    return m.is_null() || value.IsNull() ? key_node.Mark() : m;
  }
};

class FileLoader {
 public:
  FileLoader(std::string path, AgentConfig& cfg)
      : path_(std::move(path)), dir_(std::filesystem::path(path_).parent_path()), cfg_(cfg) {}

  void load(const std::string& text) {
    YAML::Node root;
    try {
      root = yaml::load_one_document(text);  // never YAML::LoadAll: see document.h
    } catch (const YAML::Exception& e) {
      fail(e.mark, "", e.msg);
    }
    if (root.IsNull()) return;  // an empty file: all defaults
    if (!root.IsMap()) {
      fail(root.Mark(), "", "expected a mapping of sections (web, docker, stats, disk, compose, "
                            "prune, autoheal), got " + describe(root));
    }
    try {
      for (const Entry& e : entries(root, "", {"web", "docker", "stats", "disk", "compose", "prune",
                                               "autoheal"})) {
        if (e.key == "web") web(e);
        else if (e.key == "docker") docker(e);
        else if (e.key == "stats") stats(e);
        else if (e.key == "disk") disk(e);
        else if (e.key == "compose") compose(e);
        else if (e.key == "prune") prune(e);
        else if (e.key == "autoheal") autoheal(e);
      }
    } catch (const YAML::Exception& e) {
      // Not expected from a walk that checks types first; still, name the place.
      fail(e.mark, "", e.msg);
    }
  }

 private:
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& key,
                         const std::string& reason) const {
    std::string where = path_;
    if (!mark.is_null()) where += ":" + std::to_string(mark.line + 1);
    throw ConfigError(where + ": " + (key.empty() ? "" : key + ": ") + reason);
  }

  // Reruns `parse` on the entry's value; a ConfigError becomes "FILE:LINE: key: reason".
  template <typename F>
  decltype(auto) at(const Entry& e, F&& parse) const {
    try {
      return parse();
    } catch (const ConfigError& err) {
      fail(e.mark(), e.path, err.what());
    }
  }

  void count_nodes(std::size_t n, const YAML::Mark& mark) {
    nodes_visited_ += n;
    if (nodes_visited_ > kMaxNodesVisited) {
      fail(mark, "", "too many entries (more than " + std::to_string(kMaxNodesVisited) + ")");
    }
  }

  // The entries of a mapping in file order. A null value (a section written "web:") is an
  // empty mapping. Rejects other types, duplicate keys and keys outside `allowed`.
  std::vector<Entry> entries(const YAML::Node& map, const std::string& path,
                             std::initializer_list<std::string_view> allowed,
                             const YAML::Mark& fallback = YAML::Mark::null_mark()) {
    std::vector<Entry> out;
    if (map.IsNull()) return out;
    const YAML::Mark map_mark = map.Mark().is_null() ? fallback : map.Mark();
    if (!map.IsMap()) fail(map_mark, path, "expected a mapping, got " + describe(map));
    count_nodes(map.size(), map_mark);
    std::set<std::string> seen;
    for (const auto& kv : map) {
      const YAML::Node& key = kv.first;
      if (!key.IsScalar()) fail(key.Mark(), path, "keys must be plain names, got " + describe(key));
      const std::string name = key.Scalar();
      bool known = false;
      for (std::string_view a : allowed) known = known || a == name;
      if (!known) {
        std::string reason = "unknown key '" + name + "'";
        if (const std::string hint = detail::closest(name, allowed); !hint.empty()) {
          reason += " (did you mean '" + hint + "'?)";
        }
        fail(key.Mark(), path, reason);
      }
      if (!seen.insert(name).second) fail(key.Mark(), path, "duplicate key '" + name + "'");
      out.push_back(Entry{name, path.empty() ? name : path + "." + name, key, kv.second});
    }
    return out;
  }

  std::vector<YAML::Node> items(const Entry& e) {
    if (e.value.IsNull()) return {};
    if (!e.value.IsSequence()) fail(e.mark(), e.path, "expected a list, got " + describe(e.value));
    count_nodes(e.value.size(), e.mark());
    return {e.value.begin(), e.value.end()};
  }

  std::string text(const Entry& e) const {
    if (!e.value.IsScalar()) fail(e.mark(), e.path, "expected a string, got " + describe(e.value));
    return e.value.Scalar();
  }

  std::string non_empty_text(const Entry& e) const {
    std::string s = text(e);
    if (s.empty()) fail(e.mark(), e.path, "must not be empty");
    return s;
  }

  // A path in the file is relative to the file's directory, as Prometheus does.
  std::string file_path(const Entry& e) const {
    const std::filesystem::path p = non_empty_text(e);
    if (p.is_absolute() || dir_.empty()) return p.string();
    return (dir_ / p).lexically_normal().string();
  }

  std::string one_of(const Entry& e, std::initializer_list<std::string_view> allowed) const {
    std::string s = text(e);
    at(e, [&] { detail::check_one_of(s, allowed); });
    return s;
  }

  bool boolean(const Entry& e) const {
    if (e.value.IsScalar()) {
      try {
        return e.value.as<bool>();
      } catch (const YAML::BadConversion&) {
      }
    }
    fail(e.mark(), e.path, "expected true or false, got " + describe(e.value));
  }

  std::uint64_t count(const Entry& e, std::uint64_t min,
                      std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) const {
    if (!e.value.IsScalar()) fail(e.mark(), e.path, "expected a number, got " + describe(e.value));
    return at(e, [&] { return detail::parse_count(e.value.Scalar(), min, max); });
  }

  std::chrono::seconds seconds(const Entry& e, std::chrono::seconds min) const {
    const std::string s = text(e);
    const auto ms = at(e, [&] { return parse_duration(s); });
    if (ms < min) {
      fail(e.mark(), e.path, "'" + s + "' is too short (at least " + std::to_string(min.count()) + "s)");
    }
    return std::chrono::duration_cast<std::chrono::seconds>(ms);
  }

  std::uint64_t size(const Entry& e) const {
    const std::string s = text(e);
    return at(e, [&] { return parse_size(s); });
  }

  std::vector<std::string> text_list(const Entry& e) {
    std::vector<std::string> out;
    std::size_t i = 0;
    for (const YAML::Node& item : items(e)) {
      out.push_back(non_empty_text(Entry{e.key, e.path + "[" + std::to_string(i++) + "]", e.key_node, item}));
    }
    return out;
  }

  void web(const Entry& section) {
    for (const Entry& e : entries(section.value, "web",
                                  {"listen_address", "telemetry_path", "config_file", "max_requests",
                                   "max_connections"},
                                  section.mark())) {
      if (e.key == "listen_address") {
        cfg_.listen_address = text(e);
        at(e, [&] { detail::check_listen_address(cfg_.listen_address); });
      } else if (e.key == "telemetry_path") {
        cfg_.telemetry_path = text(e);
        at(e, [&] { detail::check_telemetry_path(cfg_.telemetry_path); });
      } else if (e.key == "config_file") {
        cfg_.web_config_file = file_path(e);
      } else if (e.key == "max_requests") {
        cfg_.max_requests = count(e, 1, std::numeric_limits<std::size_t>::max());
      } else if (e.key == "max_connections") {
        cfg_.max_connections = count(e, 1, std::numeric_limits<std::size_t>::max());
      }
    }
  }

  void docker(const Entry& section) {
    for (const Entry& e : entries(section.value, "docker", {"host"}, section.mark())) {
      cfg_.docker_host = text(e);
      at(e, [&] { detail::check_docker_host(cfg_.docker_host); });
    }
  }

  void stats(const Entry& section) {
    for (const Entry& e : entries(section.value, "stats", {"source"}, section.mark())) {
      cfg_.stats_source = one_of(e, {"auto", "cgroup", "api"});
    }
  }

  void disk(const Entry& section) {
    for (const Entry& e : entries(section.value, "disk", {"interval", "timeout"}, section.mark())) {
      if (e.key == "interval") cfg_.disk_interval = seconds(e, std::chrono::seconds{1});
      else if (e.key == "timeout") cfg_.disk_timeout = seconds(e, std::chrono::seconds{1});
    }
  }

  void compose(const Entry& section) {
    for (const Entry& e : entries(section.value, "compose", {"projects"}, section.mark())) {
      std::vector<ComposeProjectConfig> projects;
      std::map<std::string, std::string> seen;  // name → path of the first
      std::size_t i = 0;
      for (const YAML::Node& node : items(e)) {
        const std::string path = "compose.projects[" + std::to_string(i++) + "]";
        if (!node.IsMap()) fail(node.Mark(), path, "expected a mapping, got " + describe(node));
        ComposeProjectConfig project;
        bool has_name = false;
        bool has_files = false;
        for (const Entry& f : entries(node, path, {"name", "files", "env_file", "profiles", "production"})) {
          if (f.key == "name") {
            project.name = text(f);
            has_name = true;
            if (!valid_project_name(project.name)) {
              fail(f.mark(), f.path, "invalid project name '" + project.name +
                                         "' (lowercase letters, digits, '-' and '_', starting "
                                         "with a letter or digit, as Compose requires)");
            }
            if (const auto [it, fresh] = seen.emplace(project.name, path); !fresh) {
              fail(f.mark(), f.path, "duplicate project name '" + project.name + "' (also " + it->second + ")");
            }
          } else if (f.key == "files") {
            std::size_t j = 0;
            for (const YAML::Node& item : items(f)) {
              project.files.push_back(file_path(Entry{f.key, f.path + "[" + std::to_string(j++) + "]", f.key_node, item}));
            }
            if (project.files.empty()) fail(f.mark(), f.path, "needs at least one compose file");
            has_files = true;
          } else if (f.key == "env_file") {
            project.env_file = file_path(f);
          } else if (f.key == "profiles") {
            project.profiles = text_list(f);
          } else if (f.key == "production") {
            project.production = boolean(f);
          }
        }
        if (!has_name) fail(node.Mark(), path, "missing required key 'name'");
        if (!has_files) fail(node.Mark(), path, "missing required key 'files'");
        projects.push_back(std::move(project));
      }
      cfg_.compose_projects = std::move(projects);
    }
  }

  void prune(const Entry& section) {
    for (const Entry& e : entries(section.value, "prune", {"policies"}, section.mark())) {
      std::vector<PrunePolicyConfig> policies;
      std::map<std::string, std::string> seen;  // name → path of the first
      std::size_t i = 0;
      for (const YAML::Node& node : items(e)) {
        const std::string path = "prune.policies[" + std::to_string(i++) + "]";
        policies.push_back(policy(node, path, seen));
      }
      cfg_.prune_policies = std::move(policies);
    }
  }

  PrunePolicyConfig policy(const YAML::Node& node, const std::string& path,
                           std::map<std::string, std::string>& seen) {
    if (!node.IsMap()) fail(node.Mark(), path, "expected a mapping, got " + describe(node));
    PrunePolicyConfig p;
    std::optional<Entry> name, schedule, target, keep_storage, images, allow_volumes;
    for (const Entry& e : entries(node, path,
                                  {"name", "schedule", "target", "keep_storage", "older_than", "dry_run",
                                   "images", "when", "protect_labels", "max_objects", "max_bytes",
                                   "allow_volumes"})) {
      if (e.key == "name") {
        p.name = non_empty_text(e);
        name = e;
      } else if (e.key == "schedule") {
        p.schedule = text(e);
        at(e, [&] { detail::check_schedule(p.schedule); });
        schedule = e;
      } else if (e.key == "target") {
        p.target = one_of(e, {"build_cache", "images", "containers", "networks", "volumes"});
        target = e;
      } else if (e.key == "keep_storage") {
        p.keep_storage_bytes = size(e);
        keep_storage = e;
      } else if (e.key == "older_than") {
        p.older_than = seconds(e, std::chrono::seconds{0});
      } else if (e.key == "dry_run") {
        p.dry_run = boolean(e);
      } else if (e.key == "images") {
        p.images = one_of(e, {"dangling", "unused"});
        images = e;
      } else if (e.key == "when") {
        for (const Entry& w : entries(e.value, e.path, {"disk_free_below"}, e.mark())) {
          const std::string s = text(w);
          p.disk_free_below_percent = at(w, [&] { return parse_percent(s); });
        }
      } else if (e.key == "protect_labels") {
        p.protect_labels = text_list(e);
        for (std::size_t j = 0; j < p.protect_labels.size(); ++j) {
          const std::string& label = p.protect_labels[j];
          if (label.front() == '=' || label.find_first_of(" \t") < label.find('=')) {
            fail(e.value[j].Mark(), e.path + "[" + std::to_string(j) + "]",
                 "invalid label '" + label + "' (expected key or key=value)");
          }
        }
      } else if (e.key == "max_objects") {
        p.max_objects = count(e, 1);
      } else if (e.key == "max_bytes") {
        p.max_bytes = size(e);
        if (*p.max_bytes == 0) fail(e.mark(), e.path, "must be more than 0");
      } else if (e.key == "allow_volumes") {
        p.allow_volumes = boolean(e);
        allow_volumes = e;
      }
    }
    for (const auto& [key, entry] : {std::pair{"name", &name}, std::pair{"schedule", &schedule},
                                     std::pair{"target", &target}}) {
      if (!*entry) fail(node.Mark(), path, std::string("missing required key '") + key + "'");
    }
    if (keep_storage && p.target != "build_cache") {
      fail(keep_storage->mark(), keep_storage->path, "applies to target build_cache only");
    }
    if (images && p.target != "images") {
      fail(images->mark(), images->path, "applies to target images only");
    }
    if (p.target == "volumes" && !p.allow_volumes) {
      fail(target->mark(), target->path,
           "target volumes requires allow_volumes: true in the same policy");
    }
    if (const auto [it, fresh] = seen.emplace(p.name, path); !fresh) {
      fail(name->mark(), name->path, "duplicate policy name '" + p.name + "' (also " + it->second + ")");
    }
    return p;
  }

  void autoheal(const Entry& section) {
    AutohealConfig& a = cfg_.autoheal;
    a.configured = true;
    for (const Entry& e : entries(section.value, "autoheal",
                                  {"unhealthy_for", "max_attempts", "window", "backoff", "action",
                                   "restart_dependents", "dry_run", "services"},
                                  section.mark())) {
      if (e.key == "unhealthy_for") a.unhealthy_for = seconds(e, std::chrono::seconds{0});
      else if (e.key == "max_attempts") a.max_attempts = static_cast<unsigned>(count(e, 1, std::numeric_limits<unsigned>::max()));
      else if (e.key == "window") a.window = seconds(e, std::chrono::seconds{1});
      else if (e.key == "backoff") a.backoff = seconds(e, std::chrono::seconds{0});
      else if (e.key == "action") a.action = one_of(e, {"restart", "stop"});
      else if (e.key == "restart_dependents") a.restart_dependents = boolean(e);
      else if (e.key == "dry_run") a.dry_run = boolean(e);
      else if (e.key == "services") {
        a.services.clear();
        std::size_t i = 0;
        for (const YAML::Node& node : items(e)) {
          const std::string path = e.path + "[" + std::to_string(i++) + "]";
          if (!node.IsMap()) fail(node.Mark(), path, "expected a mapping, got " + describe(node));
          AutohealServiceConfig s;
          bool has_project = false;
          bool has_service = false;
          for (const Entry& f : entries(node, path, {"project", "service"})) {
            if (f.key == "project") {
              s.project = non_empty_text(f);
              has_project = true;
            } else {
              s.service = non_empty_text(f);
              has_service = true;
            }
          }
          if (!has_project) fail(node.Mark(), path, "missing required key 'project'");
          if (!has_service) fail(node.Mark(), path, "missing required key 'service'");
          a.services.push_back(std::move(s));
        }
      }
    }
  }

  std::string path_;
  std::filesystem::path dir_;
  AgentConfig& cfg_;
  std::size_t nodes_visited_ = 0;
};

}  // namespace

AgentConfig parse_config_text(const std::string& text, const std::string& path, AgentConfig base) {
  FileLoader(path, base).load(text);
  base.config_file = path;
  return base;
}

AgentConfig load_config_file(const std::string& path, AgentConfig base) {
  if (path.empty()) throw ConfigError("the config file path is empty");
  return parse_config_text(read_bounded(path), path, std::move(base));
}

}  // namespace composewatch::config
