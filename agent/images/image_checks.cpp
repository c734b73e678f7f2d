#include "composewatch/images/image_checks.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>

#include "composewatch/compose/lint.h"
#include "composewatch/docker/container.h"
#include "composewatch/images/build_checks.h"

namespace composewatch::images {

namespace json = boost::json;

namespace {

[[noreturn]] void bad(std::string_view where, std::string_view what) {
  throw docker::ParseError(std::string(where) + ": " + std::string(what));
}

const json::object& object_of(std::string_view text, std::string_view where, json::value& holder) {
  json::error_code ec;
  holder = json::parse(text, ec);
  if (ec) bad(where, "invalid JSON: " + ec.message());
  if (!holder.is_object()) bad(where, "expected an object");
  return holder.as_object();
}

std::string string_field(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!v->is_string()) bad(where, std::string(key) + " is not a string");
  return std::string(v->as_string());
}

const json::object* config_of(const json::object& o, std::string_view where) {
  const json::value* c = o.if_contains("Config");
  if (!c || c->is_null()) return nullptr;
  if (!c->is_object()) bad(where, "Config is not an object");
  return &c->as_object();
}

}  // namespace

ImageConfig parse_image_config(std::string_view text) {
  constexpr std::string_view where = "image inspect";
  json::value holder;
  const json::object& o = object_of(text, where, holder);
  ImageConfig img;
  img.id = string_field(o, "Id", where);
  if (img.id.empty()) bad(where, "Id is missing");
  if (const json::value* s = o.if_contains("Size"); s && !s->is_null()) {
    if (s->is_int64())
      img.size = s->as_int64();
    else if (s->is_uint64())
      img.size = static_cast<std::int64_t>(std::min<std::uint64_t>(s->as_uint64(), INT64_MAX));
    else
      bad(where, "Size is not a number");
  }
  if (const json::object* c = config_of(o, where)) {
    img.user = string_field(*c, "User", where);
    if (const json::value* env = c->if_contains("Env"); env && !env->is_null()) {
      if (!env->is_array()) bad(where, "Config.Env is not a list");
      for (const auto& e : env->as_array()) {
        if (!e.is_string()) bad(where, "Config.Env holds a non-string");
        const std::string_view kv = e.as_string();
        img.env_keys.emplace_back(kv.substr(0, kv.find('=')));  // the value is never kept
      }
    }
  }
  return img;
}

ContainerImageRef parse_container_image_ref(std::string_view text) {
  constexpr std::string_view where = "container inspect";
  json::value holder;
  const json::object& o = object_of(text, where, holder);
  ContainerImageRef r;
  r.image_id = string_field(o, "Image", where);
  if (const json::object* c = config_of(o, where)) r.user = string_field(*c, "User", where);
  return r;
}

bool is_root_user(std::string_view user) {
  const std::string_view name = user.substr(0, user.find(':'));
  return name.empty() || name == "0" || name == "root";
}

std::vector<Finding> check_image(const ServiceImage& img, const GrowthRule& rule) {
  std::vector<Finding> out;
  const std::string where = img.image.empty() ? img.config.id : img.image;
  const std::string user = img.has_container_user ? img.container_user : img.config.user;
  if (is_root_user(user))
    out.push_back({std::string(check_id::image_root), where,
                   (img.container.empty() ? "the image" : "container " + img.container) + " runs as " +
                       (user.empty() ? std::string("root (no user set)") : "user " + user)});
  std::vector<std::string> secrets;
  for (const auto& k : img.config.env_keys)
    if (compose::is_secret_key(k)) secrets.push_back(k);
  if (!secrets.empty()) {
    std::string list;
    for (const auto& k : secrets) list += (list.empty() ? "" : ", ") + k;
    out.push_back({std::string(check_id::image_secret_env), where, "the image's environment sets " + list});
  }
  if (img.previous && img.previous->id != img.config.id && img.previous->size > 0) {
    const std::int64_t grew = img.config.size - img.previous->size;
    if (grew >= rule.min_bytes && double(grew) >= rule.min_ratio * double(img.previous->size))
      out.push_back({std::string(check_id::image_grew), where,
                     "the image grew by " + human_bytes(std::uint64_t(grew)) + " (" +
                         human_bytes(std::uint64_t(img.previous->size)) + " → " +
                         human_bytes(std::uint64_t(img.config.size)) + ") from " +
                         docker::short_id(img.previous->id.starts_with("sha256:") ? img.previous->id.substr(7)
                                                                                   : img.previous->id)});
  }
  return out;
}

std::vector<docker::ImageLayer> largest_layers(std::vector<docker::ImageLayer> history, std::size_t n,
                                               std::size_t columns) {
  std::erase_if(history, [](const docker::ImageLayer& l) { return l.size <= 0; });
  std::stable_sort(history.begin(), history.end(),
                   [](const auto& a, const auto& b) { return a.size > b.size; });
  if (history.size() > n) history.resize(n);
  for (auto& l : history) {
    std::string s;
    for (char ch : l.created_by) {
      if (std::isspace(static_cast<unsigned char>(ch)) || static_cast<unsigned char>(ch) < 0x20) {
        if (!s.empty() && s.back() != ' ') s += ' ';
      } else {
        s += ch;
      }
    }
    for (std::string_view prefix : {"/bin/sh -c #(nop) ", "RUN /bin/sh -c ", "/bin/sh -c "})
      if (s.starts_with(prefix)) {
        s = (prefix == "/bin/sh -c #(nop) " ? "" : "RUN ") + s.substr(prefix.size());
        break;
      }
    if (s.ends_with(" # buildkit")) s.resize(s.size() - 11);
    if (columns > 1 && s.size() > columns) {
      std::size_t cut = columns - 1;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
      s = s.substr(0, cut) + "\xE2\x80\xA6";
    }
    l.created_by = s.empty() ? "(no command recorded)" : s;
  }
  return history;
}

}  // namespace composewatch::images
