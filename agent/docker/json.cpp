#include "composewatch/docker/json.h"

#include <boost/json/parse.hpp>
#include <limits>

namespace composewatch::docker {
namespace json = boost::json;

std::optional<json::value> try_parse_bounded(std::string_view body, JsonLimits limits, std::string& error) {
  if (body.size() > limits.max_bytes) {
    error = "larger than " + std::to_string(limits.max_bytes) + " bytes (" + std::to_string(body.size()) + ")";
    return std::nullopt;
  }
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = limits.max_depth;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec) {
    error = "invalid JSON: " + ec.message();
    return std::nullopt;
  }
  return v;
}

json::value parse_bounded(std::string_view body, std::string_view what, JsonLimits limits) {
  std::string error;
  std::optional<json::value> v = try_parse_bounded(body, limits, error);
  if (!v) throw ParseError(std::string(what) + ": " + error);
  return std::move(*v);
}

namespace strict {

void fail(std::string_view where, std::string_view what) {
  throw ParseError(std::string(where) + ": " + std::string(what));
}

const json::value* field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

const json::object& as_object(const json::value& v, std::string_view where) {
  if (!v.is_object()) fail(where, "not a JSON object");
  return v.get_object();
}

const json::object* object_at(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = field(o, key);
  if (!v) return nullptr;
  if (!v->is_object()) fail(where, std::string(key) + " is not an object");
  return &v->get_object();
}

const json::array* array_at(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = field(o, key);
  if (!v) return nullptr;
  if (!v->is_array()) fail(where, std::string(key) + " is not an array");
  return &v->get_array();
}

std::string string_at(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = field(o, key);
  if (!v) return {};
  if (!v->is_string()) fail(where, std::string(key) + " is not a string");
  return std::string(v->get_string());
}

std::string required_string(const json::object& o, std::string_view key, std::string_view where) {
  std::string s = string_at(o, key, where);
  if (s.empty()) fail(where, "missing " + std::string(key));
  return s;
}

std::int64_t int_at(const json::object& o, std::string_view key, std::string_view where, std::int64_t fallback) {
  const json::value* v = field(o, key);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return static_cast<std::int64_t>(v->get_uint64());
  fail(where, std::string(key) + " is not an integer");
}

bool bool_at(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = field(o, key);
  if (!v) return false;
  if (!v->is_bool()) fail(where, std::string(key) + " is not a boolean");
  return v->get_bool();
}

std::vector<std::string> strings_at(const json::object& o, std::string_view key, std::string_view where) {
  std::vector<std::string> out;
  if (const json::array* a = array_at(o, key, where)) {
    for (const auto& item : *a) {
      if (!item.is_string()) fail(where, std::string(key) + " holds a non-string");
      out.emplace_back(item.get_string());
    }
  }
  return out;
}

std::map<std::string, std::string> labels_at(const json::object& o, std::string_view key, std::string_view where) {
  std::map<std::string, std::string> out;
  if (const json::object* labels = object_at(o, key, where)) {
    for (const auto& kv : *labels) {
      if (!kv.value().is_string()) fail(where, std::string(key) + "." + std::string(kv.key()) + " is not a string");
      out.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
    }
  }
  return out;
}

}  // namespace strict

namespace lenient {

const json::object* object_at(const json::object* o, std::string_view key) {
  if (!o) return nullptr;
  const json::value* v = o->if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

std::string string_at(const json::object* o, std::string_view key) {
  if (!o) return {};
  const json::value* v = o->if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool bool_at(const json::object* o, std::string_view key) {
  if (!o) return false;
  const json::value* v = o->if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

}  // namespace lenient

}  // namespace composewatch::docker
