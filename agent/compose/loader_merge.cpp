#include "loader_merge.h"

#include <algorithm>
#include <string>
#include <vector>

namespace composewatch::compose::detail {
namespace {

// `!reset` and `!override` (Compose v2) on the override's value of `key`: the base's
// value is dropped, or replaced whole whatever the key's merge rule. True when handled.
bool apply_tag(Node& base, const std::string& key, const Node& value) {
  if (value.tag == Node::Tag::reset) {
    base.erase(key);
    return true;
  }
  if (value.tag == Node::Tag::override) {
    base.set(key, value);
    base.find(key)->tag = Node::Tag::none;
    return true;
  }
  return false;
}

// Mappings merge key by key, sequences append, anything else is replaced.
void merge_generic(Node& base, const Node& override) {
  if (base.is_mapping() && override.is_mapping()) {
    for (const auto& [key, value] : override.entries) {
      if (apply_tag(base, key, value)) continue;
      if (Node* existing = base.find(key)) {
        merge_generic(*existing, value);
      } else {
        base.entries.emplace_back(key, value);
      }
    }
  } else if (base.is_sequence() && override.is_sequence()) {
    base.items.insert(base.items.end(), override.items.begin(), override.items.end());
  } else {
    base = override;
  }
}

// One level: the override's entries replace the base's entries of the same key.
void merge_by_key(Node& base, const Node& override) {
  if (!base.is_mapping() || !override.is_mapping()) {
    base = override;
    return;
  }
  for (const auto& [key, value] : override.entries) base.set(key, value);
}

void merge_unique(Node& base, const Node& override) {
  if (!base.is_sequence() || !override.is_sequence()) {
    base = override;
    return;
  }
  for (const Node& item : override.items) {
    const bool seen = item.is_scalar() && std::any_of(base.items.begin(), base.items.end(), [&](const Node& b) {
                        return b.is_scalar() && b.scalar == item.scalar;
                      });
    if (!seen) base.items.push_back(item);
  }
}

// The container path of a volume or port entry, for de-duplication.
std::string volume_target(const Node& v) {
  if (v.is_mapping()) {
    const Node* t = v.find("target");
    return t && t->is_scalar() ? t->scalar : "";
  }
  if (!v.is_scalar()) return "";
  const std::string& s = v.scalar;
  const auto first = s.find(':');
  if (first == std::string::npos) return s;
  const auto second = s.find(':', first + 1);
  return s.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
}

// Ports are the same port when target, published side and protocol agree.
std::string port_target(const Node& p) {
  if (p.is_mapping()) {
    std::string key;
    for (const char* field : {"host_ip", "published", "target", "protocol"}) {
      const Node* f = p.find(field);
      key += std::string(field) + "=" + (f && f->is_scalar() ? f->scalar : "") + ";";
    }
    return key;
  }
  return p.is_scalar() ? p.scalar : "";
}

template <typename KeyFn>
void merge_by_target(Node& base, const Node& override, KeyFn key) {
  if (!base.is_sequence() || !override.is_sequence()) {
    base = override;
    return;
  }
  for (const Node& item : override.items) {
    const std::string k = key(item);
    auto it = std::find_if(base.items.begin(), base.items.end(),
                           [&](const Node& b) { return !k.empty() && key(b) == k; });
    if (it != base.items.end()) {
      *it = item;
    } else {
      base.items.push_back(item);
    }
  }
}

void merge_healthcheck(Node& base, const Node& override) {
  if (const Node* disable = override.find("disable");
      disable && disable->is_scalar() && disable->scalar == "true") {
    base = override;
    return;
  }
  merge_by_key(base, override);  // `test` is replaced as a whole
}

}  // namespace

void merge_service(Node& base, const Node& override) {
  if (!base.is_mapping() || !override.is_mapping()) {
    base = override;
    return;
  }
  for (const auto& [key, value] : override.entries) {
    if (apply_tag(base, key, value)) continue;
    Node* existing = base.find(key);
    if (!existing || existing->is_null() || value.is_null()) {
      base.set(key, value);
      continue;
    }
    if (key == "environment" || key == "labels" || key == "depends_on" || key == "extra_hosts" ||
        key == "sysctls" || key == "ulimits" || key == "annotations") {
      merge_by_key(*existing, value);
    } else if (key == "volumes" || key == "devices") {
      merge_by_target(*existing, value, volume_target);
    } else if (key == "ports") {
      merge_by_target(*existing, value, port_target);
    } else if (key == "profiles" || key == "cap_add" || key == "cap_drop" || key == "expose" ||
               key == "external_links" || key == "dns" || key == "dns_search" || key == "tmpfs" ||
               key == "security_opt" || key == "env_file" || key == "volumes_from" || key == "links") {
      merge_unique(*existing, value);
    } else if (key == "command" || key == "entrypoint") {
      *existing = value;
    } else if (key == "healthcheck") {
      merge_healthcheck(*existing, value);
    } else {
      merge_generic(*existing, value);  // deploy, build, logging, networks, ...
    }
  }
}

void merge_top_level(Node& base, const Node& override) {
  if (!override.is_mapping()) return;
  for (const auto& [key, value] : override.entries) {
    if (apply_tag(base, key, value)) continue;
    Node* existing = base.find(key);
    if (!existing || existing->is_null() || value.is_null()) {
      if (!existing || !value.is_null()) base.set(key, value);
      continue;
    }
    if (key == "services" && existing->is_mapping() && value.is_mapping()) {
      for (const auto& [name, svc] : value.entries) {
        if (apply_tag(*existing, name, svc)) continue;
        if (Node* mine = existing->find(name)) {
          merge_service(*mine, svc);
        } else {
          existing->entries.emplace_back(name, svc);
        }
      }
    } else {
      merge_generic(*existing, value);
    }
  }
}

void drop_merge_tags(Node& n) {
  n.tag = Node::Tag::none;
  if (n.is_mapping()) {
    std::erase_if(n.entries, [](const NodeEntry& e) { return e.second.tag == Node::Tag::reset; });
    for (auto& [key, value] : n.entries) drop_merge_tags(value);
  } else if (n.is_sequence()) {
    std::erase_if(n.items, [](const Node& item) { return item.tag == Node::Tag::reset; });
    for (Node& item : n.items) drop_merge_tags(item);
  }
}

}  // namespace composewatch::compose::detail
