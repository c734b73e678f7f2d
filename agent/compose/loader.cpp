// Compose files → the normalised model. The order of work follows Compose: each file is
// parsed and interpolated on its own, its short forms are normalised and its `extends`
// and `include` resolved, then the files are merged in -f order, then profiles decide
// which services are active, then the model is built with every value checked.

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>  // access(2): whether the agent may read an env file
#include <memory>
#include <set>
#include <stdexcept>
#include <tuple>

#include "composewatch/compose/lint.h"
#include "composewatch/compose/loader.h"
#include "composewatch/compose/mask.h"
#include "loader_merge.h"
#include "yaml_tree.h"

namespace composewatch::compose {
namespace {

namespace fs = std::filesystem;
using detail::Node;

constexpr int kMaxExtendsChain = 32;
constexpr int kMaxIncludeDepth = 16;

[[noreturn]] void fail(const SourceLocation& where, const std::string& reason) {
  throw LoadError(where, reason);
}

std::string absolute_path(const fs::path& p) { return fs::absolute(p).lexically_normal().string(); }

// Whether the file `ref` (at `path`) exists. A path the system refuses to look up (too
// long, a component not a directory) is an error at `where`, not a std::filesystem one.
bool file_exists(const std::string& path, const SourceLocation& where, const std::string& what,
                 const std::string& ref) {
  std::error_code ec;
  const bool found = fs::exists(path, ec);
  if (ec) fail(where, what + ": cannot look up '" + (ref.size() > 80 ? ref.substr(0, 77) + "..." : ref) +
                          "': " + ec.message());
  return found;
}

// The name to show for `ref`, written in the file shown as `from_display`.
std::string display_relative(const std::string& from_display, const std::string& ref) {
  if (fs::path(ref).is_absolute()) return fs::path(ref).lexically_normal().string();
  const fs::path dir = fs::path(from_display).parent_path();
  return (dir / ref).lexically_normal().string();
}

// ---- interpolation -------------------------------------------------------------------

// The variables `text` refers to ($NAME, ${NAME…}; "$$" is no reference): their values
// become secrets of the project (mask.h), found before interpolating so that an error
// quoting one is masked too.
void note_referenced_values(std::string_view text, const std::map<std::string, std::string>& vars,
                            SecretMask& secrets) {
  auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '$') continue;
    if (text[i + 1] == '$') {
      ++i;
      continue;
    }
    const std::size_t begin = i + (text[i + 1] == '{' ? 2 : 1);
    std::size_t end = begin;
    while (end < text.size() && name_char(text[end])) ++end;
    if (end == begin) continue;
    if (auto it = vars.find(std::string(text.substr(begin, end - begin))); it != vars.end()) secrets.add(it->second);
  }
}

void interpolate_tree(Node& n, const std::map<std::string, std::string>& vars, bool missing_required_fails,
                      std::vector<std::string>& warnings, SecretMask& secrets) {
  switch (n.kind) {
    case Node::Kind::scalar: {
      if (n.scalar.find('$') == std::string::npos) return;
      note_referenced_values(n.scalar, vars, secrets);
      Interpolated r;
      try {
        r = interpolate(n.scalar, vars, missing_required_fails);
      } catch (const std::invalid_argument& e) {
        fail(n.location, e.what());
      }
      for (const std::string& name : r.unset) {
        warnings.push_back(n.location.str() + ": variable " + name +
                           " is not set, using an empty string");
      }
      n.scalar = std::move(r.value);
      n.substituted = r.substituted;
      n.unset = std::move(r.unset);
      n.first_unknown = r.first_unknown;
      return;
    }
    case Node::Kind::sequence:
      for (Node& item : n.items) interpolate_tree(item, vars, missing_required_fails, warnings, secrets);
      return;
    case Node::Kind::mapping:
      for (auto& [key, value] : n.entries) interpolate_tree(value, vars, missing_required_fails, warnings, secrets);
      return;
    case Node::Kind::null:
      return;
  }
}

// ---- normalising short forms, before merging -----------------------------------------

std::string expect_string(const Node& n, const std::string& what) {
  if (!n.is_scalar()) fail(n.location, what + " must be a string, got " + n.kind_name());
  return n.scalar;
}

Node scalar_node(std::string value, const SourceLocation& where, bool substituted = false,
                 std::vector<std::string> unset = {}) {
  Node n;
  n.kind = Node::Kind::scalar;
  n.scalar = std::move(value);
  n.location = where;
  n.substituted = substituted;
  n.unset = std::move(unset);
  return n;
}

// ["K=V", "K"] → {K: V, K: null}; a mapping stays as it is.
void list_to_mapping(Node& field, const std::string& what, bool bare_key_is_empty_string) {
  if (field.is_mapping() || field.is_null()) return;
  if (!field.is_sequence()) fail(field.location, what + " must be a list or a mapping, got " + field.kind_name());
  Node map;
  map.kind = Node::Kind::mapping;
  map.location = field.location;
  map.key_line = field.key_line;
  for (const Node& item : field.items) {
    const std::string text = expect_string(item, what + " entries");
    const auto eq = text.find('=');
    Node value;
    if (eq != std::string::npos) {
      value = scalar_node(text.substr(eq + 1), item.location, item.substituted, item.unset);
    } else if (bare_key_is_empty_string) {
      value = scalar_node("", item.location);
    } else {
      value.location = item.location;  // null: "K" alone takes the value from the environment
    }
    value.key_line = item.location.line;
    map.set(text.substr(0, eq), std::move(value));
  }
  field = std::move(map);
}

bool is_host_path(const std::string& source) {
  return source.starts_with("/") || source.starts_with(".") || source.starts_with("~");
}

std::string resolve_host_path(const std::string& source, const std::string& base_dir,
                              const std::map<std::string, std::string>& vars) {
  if (source.starts_with("~")) {
    const auto home = vars.find("HOME");
    const std::string h = home != vars.end() ? home->second : "";
    return absolute_path(fs::path(h) / source.substr(source.size() > 1 && source[1] == '/' ? 2 : 1));
  }
  if (source.starts_with("/")) return fs::path(source).lexically_normal().string();
  return (fs::path(base_dir) / source).lexically_normal().string();
}

// A build context Compose fetches instead of reading from the host.
bool is_remote_context(const std::string& context) {
  return context.find("://") != std::string::npos || context.starts_with("git@") ||
         context.starts_with("github.com/");
}

void normalise_service(Node& svc, const std::string& name, const std::string& base_dir,
                       const std::map<std::string, std::string>& vars) {
  if (svc.is_null()) {  // "svc:" with nothing: an empty service, reported later if it stays so
    svc.kind = Node::Kind::mapping;
  }
  if (!svc.is_mapping()) fail(svc.location, "service '" + name + "' must be a mapping, got " + svc.kind_name());
  std::erase_if(svc.entries, [](const auto& e) { return e.first.starts_with("x-"); });
  if (Node* env = svc.find("environment")) list_to_mapping(*env, "environment", false);
  if (Node* labels = svc.find("labels")) list_to_mapping(*labels, "labels", true);
  if (Node* deps = svc.find("depends_on"); deps && deps->is_sequence()) {
    Node map;
    map.kind = Node::Kind::mapping;
    map.location = deps->location;
    map.key_line = deps->key_line;
    for (const Node& item : deps->items) {
      Node cond;
      cond.kind = Node::Kind::mapping;
      cond.location = item.location;
      cond.key_line = item.location.line;
      cond.set("condition", scalar_node("service_started", item.location));
      map.set(expect_string(item, "depends_on entries"), std::move(cond));
    }
    *deps = std::move(map);
  }
  if (Node* ext = svc.find("extends"); ext && ext->is_scalar()) {
    Node map;
    map.kind = Node::Kind::mapping;
    map.location = ext->location;
    map.key_line = ext->key_line;
    map.set("service", *ext);
    *ext = std::move(map);
  }
  if (Node* build = svc.find("build"); build && !build->is_null()) {
    // `build: DIR` is `build: {context: DIR}`; a context on the host resolves against this
    // file's directory, as volumes do; a remote one (git, https) stays as written.
    if (build->is_scalar()) {
      Node map;
      map.kind = Node::Kind::mapping;
      map.location = build->location;
      map.key_line = build->key_line;
      map.set("context", *build);
      *build = std::move(map);
    }
    if (!build->is_mapping()) fail(build->location, "build must be a string or a mapping, got " + build->kind_name());
    if (Node* args = build->find("args")) list_to_mapping(*args, "build.args", false);
    Node* context = build->find("context");
    if (!context) {
      build->set("context", scalar_node(".", build->location));
      context = build->find("context");
    }
    if (context->is_scalar() && !is_remote_context(context->scalar)) {
      context->scalar = resolve_host_path(context->scalar.empty() ? "." : context->scalar, base_dir, vars);
      if (context->scalar.size() > 1 && context->scalar.ends_with("/")) context->scalar.pop_back();
    }
  }
  if (Node* vols = svc.find("volumes"); vols && vols->is_sequence()) {
    for (Node& v : vols->items) {
      if (v.is_scalar()) {
        const auto colon = v.scalar.find(':');
        if (colon != std::string::npos && is_host_path(v.scalar.substr(0, colon))) {
          v.scalar = resolve_host_path(v.scalar.substr(0, colon), base_dir, vars) + v.scalar.substr(colon);
        }
      } else if (v.is_mapping()) {
        const Node* type = v.find("type");
        Node* source = v.find("source");
        if (type && type->is_scalar() && type->scalar == "bind" && source && source->is_scalar() &&
            !source->scalar.empty()) {
          source->scalar = resolve_host_path(source->scalar, base_dir, vars);
        }
      }
    }
  }
  if (Node* env_file = svc.find("env_file")) {
    // A string is a list of one; paths are made absolute here, where the base is known
    // (the extended file's directory for a service taken through extends).
    if (env_file->is_scalar()) {
      Node list;
      list.kind = Node::Kind::sequence;
      list.location = env_file->location;
      list.key_line = env_file->key_line;
      list.items.push_back(*env_file);
      *env_file = std::move(list);
    }
    if (env_file->is_sequence()) {
      for (Node& entry : env_file->items) {
        Node* path = entry.is_mapping() ? entry.find("path") : &entry;
        if (path && path->is_scalar() && !path->scalar.empty()) {
          path->scalar = absolute_path(resolve_host_path(path->scalar, base_dir, vars));
        }
      }
    }
  }
}

// ---- files, extends, include ---------------------------------------------------------

struct ComposeFile {
  std::string path;     // absolute
  std::string display;  // as the user would recognise it
  std::string base_dir;  // relative host paths resolve against this
  Node root;             // interpolated, services normalised, extends not yet resolved
};

class ProjectReader {
 public:
  ProjectReader(std::map<std::string, std::string> process_env, bool missing_required_fails, SecretMask& secrets)
      : process_env_(std::move(process_env)), missing_required_fails_(missing_required_fails), secrets_(secrets) {}

  std::vector<std::string> warnings;
  std::vector<std::string> env_files_read;  // by include entries

  // Loads one file: parse, interpolate with `vars`, normalise its services.
  std::shared_ptr<ComposeFile> read(const std::string& path, const std::string& display,
                                    const std::string& base_dir,
                                    const std::map<std::string, std::string>& vars) {
    const std::string key = path + "\n" + base_dir;
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    if (cache_.size() > 256) fail({display, 0}, "too many compose files referenced (more than 256)");
    auto file = std::make_shared<ComposeFile>();
    file->path = path;
    file->display = display;
    file->base_dir = base_dir;
    file->root = detail::load_yaml_file(path, display);
    if (file->root.is_null()) {
      file->root.kind = Node::Kind::mapping;
      file->root.location = {display, 0};
    }
    if (!file->root.is_mapping()) {
      fail(file->root.location, "the top level must be a mapping, got " + file->root.kind_name());
    }
    std::erase_if(file->root.entries, [](const auto& e) { return e.first.starts_with("x-"); });
    for (const auto& [k, v] : vars)
      if (is_secret_key(k)) secrets_.add(v);
    interpolate_tree(file->root, vars, missing_required_fails_, warnings, secrets_);
    if (Node* services = file->root.find("services")) {
      if (services->is_null()) {
        services->kind = Node::Kind::mapping;
      }
      if (!services->is_mapping()) {
        fail(services->location, "services must be a mapping, got " + services->kind_name());
      }
      std::erase_if(services->entries, [](const auto& e) { return e.first.starts_with("x-"); });
      for (auto& [name, svc] : services->entries) normalise_service(svc, name, base_dir, vars);
    }
    cache_[key] = file;
    return file;
  }

  // One file with its extends and includes resolved: what gets merged with the next -f.
  Node resolve_file(const std::shared_ptr<ComposeFile>& file, const std::map<std::string, std::string>& vars,
                    std::vector<std::string>& include_stack) {
    Node root = file->root;
    if (Node* services = root.find("services")) {
      for (auto& [name, svc] : services->entries) {
        std::vector<std::string> chain;
        svc = resolve_service(file, name, vars, chain);
      }
    }
    if (const Node* include = file->root.find("include")) {
      include_all(*include, *file, root, include_stack);
      root.erase("include");
    }
    return root;
  }

  // Loads and merges `files` as one project with their own variables: -f files, and
  // each `include` entry.
  Node load_files(const std::vector<std::string>& paths, const std::vector<std::string>& displays,
                  const std::string& base_dir, const std::map<std::string, std::string>& vars,
                  std::vector<std::string>& include_stack) {
    Node merged;
    merged.kind = Node::Kind::mapping;
    for (std::size_t i = 0; i < paths.size(); ++i) {
      auto file = read(paths[i], displays[i], base_dir, vars);
      Node resolved = resolve_file(file, vars, include_stack);
      if (i == 0) {
        merged = std::move(resolved);
      } else {
        detail::merge_top_level(merged, resolved);
      }
    }
    detail::drop_merge_tags(merged);
    return merged;
  }

  const std::map<std::string, std::string>& process_env() const { return process_env_; }

  // Every file read, absolute.
  std::vector<std::string> files_read() const {
    std::set<std::string> out;
    for (const auto& [key, file] : cache_) out.insert(file->path);
    out.insert(env_files_read.begin(), env_files_read.end());
    return {out.begin(), out.end()};
  }

 private:
  Node resolve_service(const std::shared_ptr<ComposeFile>& file, const std::string& name,
                       const std::map<std::string, std::string>& vars, std::vector<std::string>& chain) {
    const Node* services = file->root.find("services");
    const Node* svc = services ? services->find(name) : nullptr;
    if (!svc) fail({file->display, 0}, "no service '" + name + "' to extend");
    const Node* ext = svc->find("extends");
    if (!ext) return *svc;
    if (!ext->is_mapping()) fail(ext->location, "extends must be a string or a mapping, got " + ext->kind_name());

    const std::string key = file->path + "#" + name;
    const std::string step = file->display + ":" + name;
    chain.push_back(step);
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
      if (chain[i] == step) {
        std::string cycle;
        for (std::size_t j = i; j < chain.size(); ++j) cycle += (j > i ? " -> " : "") + chain[j];
        fail(ext->key_location(), "circular extends: " + cycle);
      }
    }
    if (static_cast<int>(chain.size()) > kMaxExtendsChain) {
      fail(ext->key_location(), "extends chain longer than " + std::to_string(kMaxExtendsChain));
    }
    const Node* base_name = ext->find("service");
    if (!base_name) fail(ext->location, "extends needs 'service'");
    const std::string base_service = expect_string(*base_name, "extends.service");

    std::shared_ptr<ComposeFile> base_file = file;
    if (const Node* other = ext->find("file")) {
      const std::string ref = expect_string(*other, "extends.file");
      const std::string path =
          absolute_path(fs::path(file->path).parent_path() / ref);
      const std::string display = display_relative(file->display, ref);
      if (!file_exists(path, other->location, "extends", ref)) {
        fail(other->location, "extends: file '" + ref + "' does not exist");
      }
      base_file = read(path, display, fs::path(path).parent_path().string(), vars);
    }
    const Node* base_services = base_file->root.find("services");
    if (!base_services || !base_services->find(base_service)) {
      fail(base_name->location, "extends: no service '" + base_service + "' in " + base_file->display);
    }
    Node base = resolve_service(base_file, base_service, vars, chain);
    chain.pop_back();
    // Compose never shares these through extends: dependencies stay visible where used.
    base.erase("depends_on");
    base.erase("volumes_from");
    base.erase("extends");
    Node own = *svc;
    own.erase("extends");
    detail::merge_service(base, own);
    base.location = svc->location;
    base.key_line = svc->key_line;
    return base;
  }

  void include_all(const Node& include, const ComposeFile& from, Node& root,
                   std::vector<std::string>& include_stack) {
    if (!include.is_sequence()) fail(include.location, "include must be a list, got " + include.kind_name());
    for (const Node& entry : include.items) {
      std::vector<std::string> refs;
      std::string project_dir;
      std::string env_file;
      if (entry.is_scalar()) {
        refs.push_back(entry.scalar);
      } else if (entry.is_mapping()) {
        const Node* path = entry.find("path");
        if (!path) fail(entry.location, "include entry needs 'path'");
        if (path->is_sequence()) {
          for (const Node& p : path->items) refs.push_back(expect_string(p, "include.path"));
        } else {
          refs.push_back(expect_string(*path, "include.path"));
        }
        if (const Node* pd = entry.find("project_directory")) project_dir = expect_string(*pd, "include.project_directory");
        if (const Node* ef = entry.find("env_file")) env_file = expect_string(*ef, "include.env_file");
      } else {
        fail(entry.location, "include entries must be a path or a mapping, got " + entry.kind_name());
      }
      if (refs.empty()) fail(entry.location, "include entry has no path");

      const fs::path from_dir = fs::path(from.path).parent_path();
      std::vector<std::string> paths, displays;
      for (const std::string& ref : refs) {
        const std::string path = absolute_path(from_dir / ref);
        if (std::find(include_stack.begin(), include_stack.end(), path) != include_stack.end()) {
          std::string cycle;
          for (const std::string& p : include_stack) cycle += fs::path(p).filename().string() + " -> ";
          fail(entry.location, "include cycle: " + cycle + fs::path(path).filename().string());
        }
        if (!file_exists(path, entry.location, "include", ref)) {
          fail(entry.location, "include: file '" + ref + "' does not exist");
        }
        paths.push_back(path);
        displays.push_back(display_relative(from.display, ref));
      }
      if (static_cast<int>(include_stack.size()) >= kMaxIncludeDepth) {
        fail(entry.location, "include nested more than " + std::to_string(kMaxIncludeDepth) + " deep");
      }
      const std::string dir = project_dir.empty() ? fs::path(paths.front()).parent_path().string()
                                                  : absolute_path(from_dir / project_dir);
      // An included project is interpolated with its own .env (or env_file); the process
      // environment still wins.
      std::map<std::string, std::string> vars;
      const std::string env_path = env_file.empty() ? (fs::path(dir) / ".env").string()
                                                    : absolute_path(from_dir / env_file);
      if (file_exists(env_path, entry.location, "include.env_file", env_path)) {
        vars = read_env_file(env_path);
        env_files_read.push_back(env_path);
      }
      for (const auto& [k, v] : process_env_) vars[k] = v;

      include_stack.insert(include_stack.end(), paths.begin(), paths.end());
      Node included = load_files(paths, displays, dir, vars, include_stack);
      include_stack.resize(include_stack.size() - paths.size());

      for (const char* section : {"services", "volumes", "networks", "secrets", "configs"}) {
        const Node* theirs = included.find(section);
        if (!theirs || !theirs->is_mapping()) continue;
        Node* ours = root.find(section);
        if (!ours) {
          Node empty;
          empty.kind = Node::Kind::mapping;
          empty.location = entry.location;
          root.set(section, empty);
          ours = root.find(section);
        }
        for (const auto& [name, value] : theirs->entries) {
          if (ours->find(name)) {
            if (std::string(section) == "services") {
              fail(entry.location, "include: service '" + name + "' from " + displays.front() +
                                       " conflicts with a service of " + from.display);
            }
            continue;  // the same volume or network declared twice: the including file's wins
          }
          ours->entries.emplace_back(name, value);
        }
      }
    }
  }

  std::map<std::string, std::string> process_env_;
  bool missing_required_fails_;
  SecretMask& secrets_;
  std::map<std::string, std::shared_ptr<ComposeFile>> cache_;
};

// ---- building the model --------------------------------------------------------------

std::int64_t memory_value(const Node& n, const std::string& field, bool allow_minus_one = false) {
  if (!n.is_scalar()) fail(n.location, field + " must be a string or a number, got " + n.kind_name());
  if (allow_minus_one && n.scalar == "-1") return -1;
  try {
    return parse_memory_bytes(n.scalar);
  } catch (const std::invalid_argument& e) {
    fail(n.location, field + ": " + e.what());
  }
}

std::optional<std::int64_t> optional_memory(const Node* n, const std::string& field,
                                            bool allow_minus_one = false) {
  if (!n || n->is_null() || (n->is_scalar() && n->scalar.empty())) return std::nullopt;
  return memory_value(*n, field, allow_minus_one);
}

double duration_value(const Node& n, const std::string& field) {
  if (!n.is_scalar()) fail(n.location, field + " must be a duration string, got " + n.kind_name());
  try {
    return parse_duration_seconds(n.scalar);
  } catch (const std::invalid_argument& e) {
    fail(n.location, field + ": " + e.what());
  }
}

long long integer_value(const Node& n, const std::string& field, long long min, long long max) {
  if (!n.is_scalar() || n.scalar.empty()) {
    fail(n.location, field + " must be an integer, got " + (n.is_scalar() ? "an empty string" : n.kind_name()));
  }
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(n.scalar, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != n.scalar.size()) fail(n.location, field + " must be an integer, got '" + n.scalar + "'");
  if (v < min || v > max) {
    fail(n.location, field + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                         ", got " + n.scalar);
  }
  return v;
}

bool bool_value(const Node& n, const std::string& field) {
  if (n.is_scalar()) {
    const std::string& s = n.scalar;
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes") return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "no") return false;
  }
  fail(n.location, field + " must be true or false");
}

const Node* mapping_field(const Node& parent, const std::string& key, const std::string& what) {
  const Node* n = parent.find(key);
  if (n && !n->is_mapping() && !n->is_null()) fail(n->location, what + " must be a mapping, got " + n->kind_name());
  return n && n->is_mapping() ? n : nullptr;
}

Healthcheck healthcheck_value(const Node& hc) {
  Healthcheck out;
  if (const Node* test = hc.find("test")) {
    if (test->is_scalar()) {
      if (!test->scalar.empty()) out.test = {"CMD-SHELL", test->scalar};
    } else if (test->is_sequence()) {
      for (const Node& item : test->items) out.test.push_back(expect_string(item, "healthcheck.test entries"));
      if (!out.test.empty() && out.test[0] != "NONE" && out.test[0] != "CMD" && out.test[0] != "CMD-SHELL") {
        fail(test->location, "healthcheck.test must start with NONE, CMD or CMD-SHELL, got '" + out.test[0] + "'");
      }
      if (!out.test.empty() && out.test[0] != "NONE" && out.test.size() < 2) {
        fail(test->location, "healthcheck.test " + out.test[0] + " needs a command");
      }
    } else if (!test->is_null()) {
      fail(test->location, "healthcheck.test must be a string or a list, got " + test->kind_name());
    }
  }
  if (const Node* n = hc.find("interval"); n && !n->is_null()) out.interval_seconds = duration_value(*n, "healthcheck.interval");
  if (const Node* n = hc.find("timeout"); n && !n->is_null()) out.timeout_seconds = duration_value(*n, "healthcheck.timeout");
  if (const Node* n = hc.find("start_period"); n && !n->is_null()) {
    out.start_period_seconds = duration_value(*n, "healthcheck.start_period");
  }
  if (const Node* n = hc.find("start_interval"); n && !n->is_null()) {
    out.start_interval_seconds = duration_value(*n, "healthcheck.start_interval");
  }
  if (const Node* n = hc.find("retries"); n && !n->is_null()) {
    out.retries = static_cast<int>(integer_value(*n, "healthcheck.retries", 0, 1'000'000));
  }
  if (const Node* n = hc.find("disable"); n && !n->is_null() && bool_value(*n, "healthcheck.disable")) {
    out.disabled = true;
    if (out.test.empty()) out.test = {"NONE"};
  }
  if (!out.test.empty() && out.test[0] == "NONE") out.disabled = true;
  return out;
}

std::string restart_value(const Node& n) {
  const std::string s = expect_string(n, "restart");
  if (s == "no" || s == "always" || s == "unless-stopped" || s == "on-failure") return s;
  if (s.starts_with("on-failure:")) {
    const std::string count = s.substr(11);
    if (!count.empty() && std::all_of(count.begin(), count.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        count.size() < 10) {
      return s;
    }
  }
  if (s == "false") return "no";  // `restart: no` read as a YAML 1.1 boolean by some tools
  fail(n.location, "invalid restart policy '" + s + "' (expected \"no\", always, on-failure[:N] or unless-stopped)");
}

VolumeMount volume_value(const Node& v) {
  VolumeMount m;
  if (v.is_scalar()) {
    // source:target[:mode] or target alone. Windows drive letters are not handled.
    std::vector<std::string> parts;
    std::string rest = v.scalar;
    std::size_t pos = 0;
    while ((pos = rest.find(':')) != std::string::npos) {
      parts.push_back(rest.substr(0, pos));
      rest = rest.substr(pos + 1);
    }
    parts.push_back(rest);
    if (parts.size() > 3 || parts.back().empty()) fail(v.location, "invalid volume '" + v.scalar + "'");
    if (parts.size() == 1) {
      m.type = "volume";
      m.target = parts[0];
    } else {
      m.source = parts[0];
      m.target = parts[1];
      m.type = is_host_path(m.source) ? "bind" : "volume";
      if (parts.size() == 3) {
        std::string mode = "," + parts[2] + ",";
        m.read_only = mode.find(",ro,") != std::string::npos;
      }
    }
  } else if (v.is_mapping()) {
    const Node* type = v.find("type");
    m.type = type ? expect_string(*type, "volumes.type") : "volume";
    if (m.type != "volume" && m.type != "bind" && m.type != "tmpfs" && m.type != "npipe" && m.type != "cluster") {
      fail(type->location, "volumes.type must be volume, bind, tmpfs or npipe, got '" + m.type + "'");
    }
    if (const Node* s = v.find("source"); s && !s->is_null()) m.source = expect_string(*s, "volumes.source");
    const Node* t = v.find("target");
    if (!t) fail(v.location, "volume needs a target");
    m.target = expect_string(*t, "volumes.target");
    if (const Node* ro = v.find("read_only"); ro && !ro->is_null()) m.read_only = bool_value(*ro, "volumes.read_only");
    if (m.type == "bind" && m.source.empty()) fail(v.location, "a bind mount needs a source");
  } else {
    fail(v.location, "volumes entries must be a string or a mapping, got " + v.kind_name());
  }
  if (m.target.empty()) fail(v.location, "volume has an empty target");
  return m;
}

// ---- ports ----

// "5432" or "5432-5440" (1..65535), as [first, last]; nullopt when it is not one.
std::optional<std::pair<int, int>> port_range(const std::string& s) {
  auto number = [](const std::string& t) -> std::optional<int> {
    if (t.empty() || t.size() > 5 || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    const int v = std::stoi(t);
    if (v < 1 || v > 65535) return std::nullopt;
    return v;
  };
  const auto dash = s.find('-');
  const auto first = number(s.substr(0, dash));
  const auto last = dash == std::string::npos ? first : number(s.substr(dash + 1));
  if (!first || !last || *last < *first) return std::nullopt;
  return std::pair{*first, *last};
}

bool is_ip_address(const std::string& ip) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, ip.c_str(), buf) == 1 || ::inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

void check_protocol(const PortMapping& p, const SourceLocation& where, const std::string& what) {
  if (p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "sctp")
    fail(where, what + ": protocol must be tcp, udp or sctp, got '" + p.protocol + "'");
}

// Short syntax, as the engine reads it: [[IP:]HOST:]CONTAINER[/PROTOCOL], where the IP may
// be IPv6 in brackets ("[::1]:5432:5432") and HOST and CONTAINER may be ranges.
PortMapping short_port(const Node& n) {
  const std::string& text = n.scalar;
  const std::string what = "ports entry '" + (text.size() > 60 ? text.substr(0, 57) + "..." : text) + "'";
  PortMapping p;
  p.location = n.location;
  std::string spec = text;
  if (const auto slash = spec.rfind('/'); slash != std::string::npos) {
    p.protocol = spec.substr(slash + 1);
    for (char& c : p.protocol) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // as the engine reads it
    spec = spec.substr(0, slash);
  }
  check_protocol(p, n.location, what);
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const auto colon = spec.find(':', start);
    parts.push_back(spec.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  const std::size_t k = parts.size();
  const std::string container = parts[k - 1];
  if (k >= 2) p.published = parts[k - 2];
  if (k >= 3) {
    for (std::size_t i = 0; i + 2 < k; ++i) p.host_ip += (i ? ":" : "") + parts[i];
    if (p.host_ip.size() >= 2 && p.host_ip.front() == '[' && p.host_ip.back() == ']')
      p.host_ip = p.host_ip.substr(1, p.host_ip.size() - 2);
    if (!p.host_ip.empty() && !is_ip_address(p.host_ip))
      fail(n.location, what + ": '" + p.host_ip + "' is not an IP address");
  }
  const auto target = port_range(container);
  if (!target) fail(n.location, what + ": the container port must be a port (1-65535) or a range, got '" + container + "'");
  std::tie(p.target, p.target_end) = *target;
  if (!p.published.empty() && !port_range(p.published))
    fail(n.location, what + ": the published port must be a port (1-65535) or a range, got '" + p.published + "'");
  return p;
}

// Long syntax: {target, published, host_ip, protocol, mode, name, app_protocol}.
PortMapping long_port(const Node& n) {
  PortMapping p;
  p.location = n.location;
  const Node* target = n.find("target");
  if (!target || target->is_null()) fail(n.location, "ports entry needs a target");
  p.target = p.target_end = static_cast<int>(integer_value(*target, "ports.target", 1, 65535));
  if (const Node* pub = n.find("published"); pub && !pub->is_null()) {
    p.published = expect_string(*pub, "ports.published");
    if (!p.published.empty() && !port_range(p.published))
      fail(pub->location, "ports.published must be a port (1-65535) or a range, got '" + p.published + "'");
  }
  if (const Node* ip = n.find("host_ip"); ip && !ip->is_null()) {
    p.host_ip = expect_string(*ip, "ports.host_ip");
    if (!p.host_ip.empty() && !is_ip_address(p.host_ip))
      fail(ip->location, "ports.host_ip: '" + p.host_ip + "' is not an IP address");
  }
  if (const Node* proto = n.find("protocol"); proto && !proto->is_null()) {
    p.protocol = expect_string(*proto, "ports.protocol");
    check_protocol(p, proto->location, "ports.protocol");
  }
  return p;
}

// Every published port, later entries replacing earlier ones that publish the same thing.
// The merge of -f files compares entries as written; the Compose specification's unique
// key for ports is {ip, target, published, protocol}, by meaning: "5432:5432" and
// "0.0.0.0:5432:5432/tcp" are one port (docker-compose v1 keeps both).
std::vector<PortMapping> ports_value(const Node& ports) {
  if (!ports.is_sequence()) fail(ports.location, "ports must be a list, got " + ports.kind_name());
  std::vector<PortMapping> out;
  auto key = [](const PortMapping& p) {
    const std::string ip = p.host_ip.empty() ? "0.0.0.0" : p.host_ip;
    return std::make_tuple(ip, p.published, p.target, p.target_end, p.protocol);
  };
  for (const Node& item : ports.items) {
    PortMapping p;
    if (item.is_scalar()) {
      p = short_port(item);
    } else if (item.is_mapping()) {
      p = long_port(item);
    } else {
      fail(item.location, "ports entries must be a string, a number or a mapping, got " + item.kind_name());
    }
    auto same = std::find_if(out.begin(), out.end(), [&](const PortMapping& o) { return key(o) == key(p); });
    if (same != out.end()) {
      *same = std::move(p);
    } else {
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::vector<std::string> string_list(const Node& n, const std::string& what) {
  std::vector<std::string> out;
  if (n.is_null()) return out;
  if (!n.is_sequence()) fail(n.location, what + " must be a list, got " + n.kind_name());
  for (const Node& item : n.items) out.push_back(expect_string(item, what + " entries"));
  return out;
}

// `build:` after normalise_service: a mapping whose context is resolved.
Service::Build build_value(const Node& n) {
  Service::Build b;
  b.location = n.location;
  if (const Node* c = n.find("context"); c && !c->is_null()) b.context = expect_string(*c, "build.context");
  b.remote = is_remote_context(b.context);
  if (const Node* d = n.find("dockerfile"); d && !d->is_null()) b.dockerfile = expect_string(*d, "build.dockerfile");
  if (const Node* d = n.find("dockerfile_inline"); d && !d->is_null())
    b.dockerfile_inline = expect_string(*d, "build.dockerfile_inline");
  if (const Node* t = n.find("target"); t && !t->is_null()) b.target = expect_string(*t, "build.target");
  if (const Node* args = n.find("args"); args && !args->is_null()) {
    if (!args->is_mapping()) fail(args->location, "build.args must be a list or a mapping, got " + args->kind_name());
    for (const auto& [k, v] : args->entries)
      if (!v.is_null()) b.args[k] = expect_string(v, "build.args." + k);
  }
  return b;
}

void restart_policy_value(const Node& svc, const Node* deploy, Service& s) {
  if (const Node* n = svc.find("restart"); n && !n->is_null()) s.restart = restart_value(*n);
  if (const Node* policy = deploy ? mapping_field(*deploy, "restart_policy", "deploy.restart_policy") : nullptr) {
    if (const Node* c = policy->find("condition"); c && !c->is_null()) {
      const std::string cond = expect_string(*c, "deploy.restart_policy.condition");
      if (cond != "none" && cond != "on-failure" && cond != "any") {
        fail(c->location, "deploy.restart_policy.condition must be none, on-failure or any, got '" + cond + "'");
      }
      s.deploy_restart_condition = cond;
    }
    if (const Node* m = policy->find("max_attempts"); m && !m->is_null()) {
      s.deploy_restart_max_attempts =
          static_cast<int>(integer_value(*m, "deploy.restart_policy.max_attempts", 0, 1'000'000));
    }
  }
}

// The variables without a value that `n` and everything under it used.
void collect_unset(const Node* n, std::set<std::string>& out) {
  if (!n) return;
  out.insert(n->unset.begin(), n->unset.end());
  for (const Node& item : n->items) collect_unset(&item, out);
  for (const auto& [key, value] : n->entries) collect_unset(&value, out);
}

// Which of the fields drift compares depend on a variable without a value, and on which.
std::map<std::string, std::vector<std::string>> unknown_fields(const Node& svc) {
  const Node* deploy = svc.find("deploy");
  auto at = [](const Node* n, std::initializer_list<const char*> path) {
    for (const char* key : path) n = n ? n->find(key) : nullptr;
    return n;
  };
  const std::map<std::string, std::vector<const Node*>> sources = {
      {"image", {svc.find("image")}},
      {"memory_limit", {svc.find("mem_limit"), at(deploy, {"resources", "limits", "memory"})}},
      {"memory_reservation", {svc.find("mem_reservation"), at(deploy, {"resources", "reservations", "memory"})}},
      {"healthcheck", {svc.find("healthcheck")}},
      {"restart_policy", {svc.find("restart"), at(deploy, {"restart_policy"})}},
      {"replicas", {svc.find("scale"), at(deploy, {"replicas"})}},
  };
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [field, nodes] : sources) {
    std::set<std::string> vars;
    for (const Node* n : nodes) collect_unset(n, vars);
    if (!vars.empty()) out[field] = {vars.begin(), vars.end()};
  }
  return out;
}

// Service fields read from `svc`. With `tolerate_unknown` (Environment::agent), a field
// that depends on a variable without a value is not checked: the value the deployer's
// shell gave it is unknown, and an empty string in its place is no fault of the file.
Service service_value(const std::string& name, const Node& svc, bool tolerate_unknown) {
  Service s;
  s.name = name;
  s.location = svc.key_location();
  s.unknown = unknown_fields(svc);
  // Runs `read`; a LoadError in a field that is unknown is dropped when tolerated.
  auto field = [&](const char* which, auto read) {
    if (!tolerate_unknown || !s.unknown.contains(which)) return read();
    try {
      read();
    } catch (const LoadError&) {
    }
  };
  if (const Node* n = svc.find("image"); n && !n->is_null()) {
    s.image = expect_string(*n, "image");
    if (n->first_unknown) s.image_known_prefix = s.image.substr(0, std::min(*n->first_unknown, s.image.size()));
  }
  if (const Node* n = svc.find("build"); n && !n->is_null()) {
    s.has_build = true;
    s.build = build_value(*n);
  }
  if (s.image.empty() && !s.has_build && !(tolerate_unknown && s.unknown.contains("image"))) {
    fail(s.location, "service '" + name + "' has neither an image nor a build context");
  }
  if (const Node* n = svc.find("container_name"); n && !n->is_null()) {
    s.container_name = expect_string(*n, "container_name");
  }

  const Node* deploy = mapping_field(svc, "deploy", "deploy");
  const Node* resources = deploy ? mapping_field(*deploy, "resources", "deploy.resources") : nullptr;
  const Node* limits = resources ? mapping_field(*resources, "limits", "deploy.resources.limits") : nullptr;
  const Node* reservations =
      resources ? mapping_field(*resources, "reservations", "deploy.resources.reservations") : nullptr;

  field("replicas", [&] {
    std::optional<int> scale, deploy_replicas;
    if (const Node* n = svc.find("scale"); n && !n->is_null()) {
      scale = static_cast<int>(integer_value(*n, "scale", 0, 100'000));
    }
    if (const Node* n = deploy ? deploy->find("replicas") : nullptr; n && !n->is_null()) {
      deploy_replicas = static_cast<int>(integer_value(*n, "deploy.replicas", 0, 100'000));
    }
    if (scale && deploy_replicas && *scale != *deploy_replicas) {
      fail(svc.find("scale")->location, "scale (" + std::to_string(*scale) + ") and deploy.replicas (" +
                                            std::to_string(*deploy_replicas) + ") disagree");
    }
    s.replicas = deploy_replicas.value_or(scale.value_or(1));
  });

  field("memory_limit", [&] {
    s.memory_limit_bytes = optional_memory(svc.find("mem_limit"), "mem_limit");
    const auto deploy_limit = optional_memory(limits ? limits->find("memory") : nullptr,
                                              "deploy.resources.limits.memory");
    // Compose v2 refuses the two when they differ (v1 let deploy win): composewatch follows v2.
    if (deploy_limit && *deploy_limit != 0 && s.memory_limit_bytes && *s.memory_limit_bytes != *deploy_limit)
      fail(svc.find("mem_limit")->location, "mem_limit (" + std::to_string(*s.memory_limit_bytes) +
                                                ") and deploy.resources.limits.memory (" + std::to_string(*deploy_limit) +
                                                ") disagree");
    if (deploy_limit && *deploy_limit != 0) s.memory_limit_bytes = deploy_limit;
  });
  field("memory_reservation", [&] {
    s.memory_reservation_bytes = optional_memory(svc.find("mem_reservation"), "mem_reservation");
    const auto deploy_reservation = optional_memory(reservations ? reservations->find("memory") : nullptr,
                                                    "deploy.resources.reservations.memory");
    if (deploy_reservation && *deploy_reservation != 0 && s.memory_reservation_bytes &&
        *s.memory_reservation_bytes != *deploy_reservation)
      fail(svc.find("mem_reservation")->location,
           "mem_reservation (" + std::to_string(*s.memory_reservation_bytes) +
               ") and deploy.resources.reservations.memory (" + std::to_string(*deploy_reservation) + ") disagree");
    if (deploy_reservation && *deploy_reservation != 0) s.memory_reservation_bytes = deploy_reservation;
  });
  s.memswap_limit_bytes = optional_memory(svc.find("memswap_limit"), "memswap_limit", true);
  // Compose v2 refuses the two when both are set and differ; v1 knows neither in deploy.
  {
    std::optional<std::int64_t> legacy, deploy_pids;
    const Node* legacy_node = svc.find("pids_limit");
    if (legacy_node && !legacy_node->is_null()) legacy = integer_value(*legacy_node, "pids_limit", -1, 1LL << 40);
    if (const Node* n = limits ? limits->find("pids") : nullptr; n && !n->is_null())
      deploy_pids = integer_value(*n, "deploy.resources.limits.pids", -1, 1LL << 40);
    if (legacy && deploy_pids && *legacy != *deploy_pids)
      fail(legacy_node->location, "pids_limit (" + std::to_string(*legacy) + ") and deploy.resources.limits.pids (" +
                                      std::to_string(*deploy_pids) + ") disagree");
    s.pids_limit = deploy_pids ? deploy_pids : legacy;
  }

  if (const Node* hc = svc.find("healthcheck"); hc && !hc->is_null()) {
    if (!hc->is_mapping()) fail(hc->location, "healthcheck must be a mapping, got " + hc->kind_name());
    field("healthcheck", [&] { s.healthcheck = healthcheck_value(*hc); });
  }

  field("restart_policy", [&] { restart_policy_value(svc, deploy, s); });

  if (const Node* deps = svc.find("depends_on"); deps && !deps->is_null()) {
    if (!deps->is_mapping()) fail(deps->location, "depends_on must be a list or a mapping, got " + deps->kind_name());
    for (const auto& [dep, spec] : deps->entries) {
      DependsOn d;
      if (spec.is_mapping()) {
        if (const Node* c = spec.find("condition"); c && !c->is_null()) {
          d.condition = expect_string(*c, "depends_on.condition");
          if (d.condition != "service_started" && d.condition != "service_healthy" &&
              d.condition != "service_completed_successfully") {
            fail(c->location, "depends_on." + dep + ".condition must be service_started, service_healthy or "
                                                   "service_completed_successfully, got '" + d.condition + "'");
          }
        }
        if (const Node* r = spec.find("required"); r && !r->is_null()) d.required = bool_value(*r, "depends_on.required");
        if (const Node* r = spec.find("restart"); r && !r->is_null()) d.restart = bool_value(*r, "depends_on.restart");
      } else if (!spec.is_null()) {
        fail(spec.location, "depends_on." + dep + " must be a mapping, got " + spec.kind_name());
      }
      s.depends_on[dep] = d;
    }
  }

  if (const Node* vols = svc.find("volumes"); vols && !vols->is_null()) {
    if (!vols->is_sequence()) fail(vols->location, "volumes must be a list, got " + vols->kind_name());
    for (const Node& v : vols->items) s.volumes.push_back(volume_value(v));
  }
  if (const Node* ports = svc.find("ports"); ports && !ports->is_null()) s.ports = ports_value(*ports);
  if (const Node* n = svc.find("profiles")) s.profiles = string_list(*n, "profiles");
  if (const Node* n = svc.find("network_mode"); n && !n->is_null()) s.network_mode = expect_string(*n, "network_mode");
  if (const Node* labels = svc.find("labels"); labels && !labels->is_null()) {
    for (const auto& [k, v] : labels->entries) {
      s.labels[k] = v.is_null() ? "" : expect_string(v, "labels." + k);
    }
  }
  if (const Node* env = svc.find("environment"); env && !env->is_null()) {
    for (const auto& [k, v] : env->entries) {
      EnvironmentEntry e;
      if (!v.is_null()) {
        e.has_value = true;
        e.value = expect_string(v, "environment." + k);
        e.literal = !v.substituted;
      }
      s.environment[k] = e;
    }
  }
  return s;
}

// Whether the process may read `path` (an existing file it may not read is common for the
// agent: env files are often root's, mode 0600).
bool readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

// The service's env_file entries (made absolute by normalise_service), read in order: a
// later file wins over an earlier one and `environment:` over all, as in Compose. What a
// file sets is literal there, whatever the compose file says. For the agent
// (`tolerate_unreadable`), a file that exists but that it may not read is a warning.
void apply_env_files(const Node& svc, Service& s, bool tolerate_unreadable, std::vector<std::string>& warnings) {
  const Node* list = svc.find("env_file");
  if (!list || list->is_null()) return;
  if (!list->is_sequence()) fail(list->location, "env_file must be a string or a list, got " + list->kind_name());
  std::map<std::string, EnvironmentEntry> from_files;
  for (const Node& entry : list->items) {
    std::string path;
    bool required = true;
    EnvFileFormat format = EnvFileFormat::dotenv;
    if (entry.is_mapping()) {  // {path, required} (Compose 2.24+), format (2.30+)
      const Node* p = entry.find("path");
      if (!p) fail(entry.location, "env_file entry needs 'path'");
      path = expect_string(*p, "env_file.path");
      if (const Node* r = entry.find("required"); r && !r->is_null()) required = bool_value(*r, "env_file.required");
      if (const Node* f = entry.find("format"); f && !f->is_null()) {
        const std::string name = expect_string(*f, "env_file.format");
        if (name == "raw") {
          format = EnvFileFormat::raw;
        } else if (!name.empty()) {
          fail(f->location, "env_file.format must be raw (or absent for the dotenv format), got '" + name + "'");
        }
      }
    } else {
      path = expect_string(entry, "env_file entries");
    }
    if (tolerate_unreadable) {
      std::set<std::string> unset;
      collect_unset(&entry, unset);
      if (!unset.empty()) {  // e.g. ${ENV_DIR}/app.env: which file Compose read is unknown
        warnings.push_back(entry.location.str() + ": env file of service " + s.name + " depends on " + *unset.begin() +
                           ", which is not set; what it sets is not known");
        continue;
      }
    }
    if (path.empty()) fail(entry.location, "env_file has an empty path");
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      if (!required) continue;
      fail(entry.location, "env file " + path + " not found");
    }
    if (tolerate_unreadable && !readable(path)) {
      warnings.push_back(entry.location.str() + ": env file " + path +
                         " cannot be read by the agent; what it sets in service " + s.name + " is not known");
      continue;
    }
    s.env_files.push_back(path);
    for (auto& [key, value] : read_env_file(path, format)) {
      from_files[key] = EnvironmentEntry{.has_value = true, .literal = true, .value = std::move(value), .env_file = path};
    }
  }
  for (auto& [key, e] : from_files) s.environment.try_emplace(key, std::move(e));
}

VolumeDecl volume_decl(const std::string& name, const Node& n) {
  VolumeDecl d;
  d.location = n.key_location();
  if (n.is_null()) return d;
  if (!n.is_mapping()) fail(n.location, "volume '" + name + "' must be a mapping, got " + n.kind_name());
  if (const Node* e = n.find("external"); e && !e->is_null()) {
    if (e->is_mapping()) {  // the old `external: {name: x}` form
      d.external = true;
      if (const Node* en = e->find("name")) d.name = expect_string(*en, "volumes." + name + ".external.name");
    } else {
      d.external = bool_value(*e, "volumes." + name + ".external");
    }
  }
  if (const Node* nm = n.find("name"); nm && !nm->is_null()) d.name = expect_string(*nm, "volumes." + name + ".name");
  return d;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml in `dir`, with the
// matching override file when there is one; as `dir/name` ("name" for the cwd).
std::vector<std::string> default_files(const std::string& dir) {
  auto in_dir = [&](const std::string& name) { return dir.empty() ? name : (fs::path(dir) / name).string(); };
  for (const char* base : {"compose", "docker-compose"}) {
    for (const char* ext : {".yaml", ".yml"}) {
      if (fs::exists(in_dir(std::string(base) + ext))) {
        std::vector<std::string> files = {in_dir(std::string(base) + ext)};
        for (const char* oext : {".yaml", ".yml"}) {
          const std::string override_file = in_dir(std::string(base) + ".override" + oext);
          if (fs::exists(override_file)) {
            files.push_back(override_file);
            break;
          }
        }
        return files;
      }
    }
  }
  throw LoadError({}, "no compose file given (-f) and none found in " +
                          (dir.empty() ? std::string("the current directory") : dir) +
                          " (compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml)");
}

// The variables for interpolation: the env files (or `dir`/.env when none is given),
// then the process environment over them. `read` collects the files read. For the agent,
// a .env it may not read is a warning: the variables it sets are unknown.
std::map<std::string, std::string> project_variables(const LoadOptions& options, const std::string& dir,
                                                     std::vector<std::string>& read,
                                                     std::vector<std::string>& warnings) {
  std::map<std::string, std::string> vars;
  std::vector<std::string> files;
  if (!options.env_file.empty()) files.push_back(options.env_file);
  files.insert(files.end(), options.env_files.begin(), options.env_files.end());
  for (const std::string& f : files) {
    std::error_code ec;
    if (!fs::is_regular_file(f, ec)) throw LoadError({f, 0}, "env file not found");
    for (auto& [k, v] : read_env_file(f)) vars[k] = std::move(v);
    read.push_back(absolute_path(f));
  }
  const fs::path dot_env = fs::path(dir) / ".env";
  std::error_code ec_dot_env;  // no .env readable: none
  if (files.empty() && options.dot_env && fs::is_regular_file(dot_env, ec_dot_env)) {
    if (options.interpolation == Environment::agent && !readable(dot_env.string())) {
      warnings.push_back(dot_env.string() + ": cannot be read by the agent; the variables it sets are unknown");
    } else {
      vars = read_env_file(dot_env.string());
    }
    read.push_back(absolute_path(dot_env));
  }
  for (const auto& [k, v] : options.environment) vars[k] = v;
  return vars;
}

// COMPOSE_FILE split by COMPOSE_PATH_SEPARATOR (default ':'), relative to `dir`.
std::vector<std::string> compose_file_variable(const std::map<std::string, std::string>& vars,
                                               const std::string& dir) {
  const auto it = vars.find("COMPOSE_FILE");
  if (it == vars.end() || it->second.empty()) return {};
  std::string separator = ":";
  if (auto sep = vars.find("COMPOSE_PATH_SEPARATOR"); sep != vars.end() && !sep->second.empty()) {
    separator = sep->second;
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto end = it->second.find(separator, start);
    const std::string item = it->second.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) {
      out.push_back(fs::path(item).is_absolute() || dir.empty() ? item : (fs::path(dir) / item).string());
    }
    if (end == std::string::npos) break;
    start = end + separator.size();
  }
  return out;
}

// load_project, filling `secrets` as it goes (for the error message, should one come).
Project load_project_collecting(const LoadOptions& options, SecretMask& secrets) {
  const bool agent = options.interpolation == Environment::agent;
  const std::string project_dir =
      options.project_directory.empty() ? "" : absolute_path(options.project_directory);
  std::vector<std::string> given = options.files;
  std::vector<std::string> env_files_read;
  if (given.empty()) {
    // Without -f, the project directory (or the cwd) is known first: its .env may name
    // the files through COMPOSE_FILE.
    const std::string dir = project_dir.empty() ? absolute_path(fs::current_path()) : project_dir;
    std::vector<std::string> ignored, ignored_warnings;
    given = compose_file_variable(project_variables(options, dir, ignored, ignored_warnings), project_dir);
    if (given.empty()) given = default_files(project_dir);
  }
  std::vector<std::string> paths;
  for (const std::string& f : given) {
    if (f.empty()) throw LoadError({}, "empty compose file name");
    const std::string path = absolute_path(f);
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) throw LoadError({f, 0}, "cannot read: " + detail::read_failure(ec));
    if (!fs::is_regular_file(st)) throw LoadError({f, 0}, fs::exists(st) ? "not a regular file" : "no such file");
    paths.push_back(path);
  }

  Project project;
  project.files = paths;
  project.working_dir = project_dir.empty() ? fs::path(paths.front()).parent_path().string() : project_dir;

  // Variables: the env file, then the process environment over it.
  std::vector<std::string> variable_warnings;
  const std::map<std::string, std::string> vars =
      project_variables(options, project.working_dir, env_files_read, variable_warnings);

  ProjectReader reader(options.environment, /*missing_required_fails=*/!agent, secrets);
  std::vector<std::string> include_stack = paths;
  Node root = reader.load_files(paths, given, project.working_dir, vars, include_stack);
  project.warnings = std::move(variable_warnings);
  project.warnings.insert(project.warnings.end(), reader.warnings.begin(), reader.warnings.end());

  // `version:` is obsolete; remember where it was for lint.
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto file = reader.read(paths[i], given[i], project.working_dir, vars);
    if (const Node* v = file->root.find("version")) {
      project.has_version_key = true;
      project.version_location = v->key_location();
      break;
    }
  }

  // Project name: -p, COMPOSE_PROJECT_NAME, `name:`, the first file's directory.
  std::string raw_name = options.project_name;
  SourceLocation name_location;
  if (raw_name.empty()) {
    if (auto it = vars.find("COMPOSE_PROJECT_NAME"); it != vars.end()) raw_name = it->second;
  }
  if (raw_name.empty()) {
    if (const Node* n = root.find("name"); n && !n->is_null()) {
      raw_name = expect_string(*n, "name");
      name_location = n->location;
    }
  }
  if (raw_name.empty()) raw_name = fs::path(project.working_dir).filename().string();
  project.name = normalize_project_name(raw_name);
  if (project.name.empty()) {
    throw LoadError(name_location, "project name '" + raw_name +
                                       "' has no letters or digits once normalised (use -p NAME)");
  }

  std::set<std::string> profiles(options.profiles.begin(), options.profiles.end());
  if (auto it = vars.find("COMPOSE_PROFILES"); it != vars.end()) {
    for (const std::string& p : split_commas(it->second)) profiles.insert(p);
  }

  if (const Node* volumes = root.find("volumes"); volumes && !volumes->is_null()) {
    if (!volumes->is_mapping()) fail(volumes->location, "volumes must be a mapping, got " + volumes->kind_name());
    for (const auto& [name, decl] : volumes->entries) project.volumes[name] = volume_decl(name, decl);
  }

  const Node* services = root.find("services");
  if (!services || services->entries.empty()) {
    throw LoadError({given.front(), 0}, "no services defined");
  }
  for (const auto& [name, node] : services->entries) {
    Service s = service_value(name, node, agent);
    apply_env_files(node, s, agent, project.warnings);
    for (const auto& [key, e] : s.environment)
      if (e.has_value && is_secret_key(key)) secrets.add(e.value);
    env_files_read.insert(env_files_read.end(), s.env_files.begin(), s.env_files.end());
    for (const VolumeMount& m : s.volumes) {
      if (m.type == "volume" && !m.source.empty() && !project.volumes.contains(m.source)) {
        throw LoadError(s.location, "service '" + name + "' uses volume '" + m.source +
                                        "', which is not declared under the top-level volumes");
      }
    }
    const bool active = s.profiles.empty() || profiles.contains("*") ||
                        std::any_of(s.profiles.begin(), s.profiles.end(),
                                    [&](const std::string& p) { return profiles.contains(p); });
    (active ? project.services : project.inactive_services).emplace(name, std::move(s));
  }
  for (const auto& [name, s] : project.services) {
    for (const auto& [dep, d] : s.depends_on) {
      if (project.services.contains(dep)) continue;
      const Node* deps = services->find(name)->find("depends_on");
      const SourceLocation where = deps ? deps->key_location() : s.location;
      if (project.inactive_services.contains(dep)) {
        if (d.required) {
          throw LoadError(where, "service '" + name + "' depends on '" + dep +
                                     "', which is disabled by its profiles (enable one with --profile)");
        }
        continue;
      }
      throw LoadError(where, "service '" + name + "' depends on undefined service '" + dep + "'");
    }
  }
  std::set<std::string> dependencies(env_files_read.begin(), env_files_read.end());
  for (const std::string& f : reader.files_read()) dependencies.insert(f);
  for (const std::string& f : paths) dependencies.erase(f);
  project.dependencies.assign(dependencies.begin(), dependencies.end());
  for (auto* services : {&project.services, &project.inactive_services})
    for (auto& [name, s] : *services)
      if (s.healthcheck) s.healthcheck->mask = secrets;
  return project;
}

}  // namespace

Project load_project(const LoadOptions& options) {
  SecretMask secrets;
  try {
    return load_project_collecting(options, secrets);
  } catch (const LoadError& e) {
    // The message may quote a value that came from the environment ("invalid memory
    // size 'hunter2'"); the status page, the log and `check` show it.
    const std::string what = e.what();
    const std::string where = e.location.str();
    const std::string reason = where.empty() ? what : what.substr(where.size() + 2);
    throw LoadError(e.location, secrets.apply(reason));
  }
}

}  // namespace composewatch::compose
