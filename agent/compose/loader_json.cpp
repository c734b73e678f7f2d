// The `composewatch compose` JSON of the contract.

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "composewatch/compose/loader.h"

namespace composewatch::compose {
namespace {

namespace json = boost::json;

// The engine's defaults when a healthcheck leaves a field unset.
constexpr double kDefaultIntervalSeconds = 30;
constexpr double kDefaultTimeoutSeconds = 30;
constexpr int kDefaultRetries = 3;
constexpr double kDefaultStartPeriodSeconds = 0;
constexpr double kDefaultStartIntervalSeconds = 5;

json::value seconds(double s) {
  // Whole seconds print as integers ("30", not "30.0" or "3E1").
  if (std::floor(s) == s && std::fabs(s) < 1e15) return json::value(static_cast<std::int64_t>(s));
  return json::value(s);
}

// The effective restart policy: `restart`, else deploy.restart_policy, else the engine's "no".
std::string effective_restart(const Service& s) {
  if (!s.restart.empty()) return s.restart;
  if (s.deploy_restart_condition) {
    if (*s.deploy_restart_condition == "any") return "always";
    if (*s.deploy_restart_condition == "on-failure") {
      return s.deploy_restart_max_attempts ? "on-failure:" + std::to_string(*s.deploy_restart_max_attempts)
                                           : "on-failure";
    }
    return "no";
  }
  return "no";
}

json::value optional_int(const std::optional<std::int64_t>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object service_json(const Service& s) {
  json::object o;
  o["image"] = s.image;
  o["replicas"] = s.replicas;
  o["restart"] = effective_restart(s);
  o["memory_limit_bytes"] = optional_int(s.memory_limit_bytes);
  o["memory_reservation_bytes"] = optional_int(s.memory_reservation_bytes);
  o["pids_limit"] = optional_int(s.pids_limit);
  if (s.healthcheck) {
    const Healthcheck& h = *s.healthcheck;
    json::object hc;
    json::array test;
    for (const std::string& t : h.test) test.emplace_back(t);
    hc["test"] = std::move(test);
    hc["interval_seconds"] = seconds(h.interval_seconds.value_or(kDefaultIntervalSeconds));
    hc["timeout_seconds"] = seconds(h.timeout_seconds.value_or(kDefaultTimeoutSeconds));
    hc["retries"] = h.retries.value_or(kDefaultRetries);
    hc["start_period_seconds"] = seconds(h.start_period_seconds.value_or(kDefaultStartPeriodSeconds));
    hc["disabled"] = h.disabled;
    hc["start_interval_seconds"] = seconds(h.start_interval_seconds.value_or(kDefaultStartIntervalSeconds));
    o["healthcheck"] = std::move(hc);
  } else {
    o["healthcheck"] = nullptr;
  }
  json::object deps;
  for (const auto& [name, d] : s.depends_on)
    deps[name] = json::object{{"condition", d.condition}, {"required", d.required}, {"restart", d.restart}};
  o["depends_on"] = std::move(deps);
  json::array volumes;
  for (const VolumeMount& m : s.volumes) {
    volumes.push_back(json::object{{"type", m.type}, {"source", m.source}, {"target", m.target}});
  }
  o["volumes"] = std::move(volumes);
  // Names only: a value may be a secret.
  json::array env;
  for (const auto& [key, e] : s.environment) env.emplace_back(key);
  o["environment_keys"] = std::move(env);
  json::object unknown;
  for (const auto& [field, vars] : s.unknown) {
    json::array names;
    for (const std::string& v : vars) names.emplace_back(v);
    unknown[field] = std::move(names);
  }
  o["unknown_fields"] = std::move(unknown);
  json::array profiles;
  for (const std::string& p : s.profiles) profiles.emplace_back(p);
  o["profiles"] = std::move(profiles);
  json::array ports;  // not in the contract's example: added after it, read by the checklist
  for (const PortMapping& p : s.ports) {
    ports.push_back(json::object{{"host_ip", p.host_ip},
                                 {"published", p.published},
                                 {"target", p.target},
                                 {"target_end", p.target_end},
                                 {"protocol", p.protocol}});
  }
  o["ports"] = std::move(ports);
  return o;
}

void print(std::string& out, const json::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      // Small objects of scalars stay on one line: {"condition": "service_healthy"}.
      const bool flat = o.size() <= 3 && std::all_of(o.begin(), o.end(), [](const auto& kv) {
                          return !kv.value().is_object() && !kv.value().is_array();
                        });
      if (o.empty() || flat) {
        out += "{";
        bool first_flat = true;
        for (const auto& kv : o) {
          if (!first_flat) out += ", ";
          first_flat = false;
          out += json::serialize(json::value(kv.key())) + ": ";
          print(out, kv.value(), indent + 1);
        }
        out += "}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (const auto& kv : o) {
        if (!first) out += ",\n";
        first = false;
        out += pad + "  " + json::serialize(json::value(kv.key())) + ": ";
        print(out, kv.value(), indent + 1);
      }
      out += "\n" + pad + "}";
      return;
    }
    case json::kind::array: {
      const auto& a = v.get_array();
      // Short lists of scalars stay on one line: ["CMD", "curl", "-f", "..."].
      const bool flat = std::all_of(a.begin(), a.end(), [](const json::value& e) {
        return !e.is_object() && !e.is_array();
      });
      if (a.empty() || flat) {
        out += "[";
        for (std::size_t i = 0; i < a.size(); ++i) {
          if (i) out += ", ";
          print(out, a[i], indent + 1);
        }
        out += "]";
        return;
      }
      out += "[\n";
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i) out += ",\n";
        out += pad + "  ";
        print(out, a[i], indent + 1);
      }
      out += "\n" + pad + "]";
      return;
    }
    case json::kind::double_: {
      char buf[64];
      const auto r = std::to_chars(buf, buf + sizeof buf, v.get_double());
      out.append(buf, r.ptr);
      return;
    }
    default:
      out += json::serialize(v);
  }
}

}  // namespace

std::string to_json(const Project& project) {
  json::object root;
  root["project"] = project.name;
  json::object services;
  for (const auto& [name, s] : project.services) services[name] = service_json(s);
  root["services"] = std::move(services);
  json::object volumes;
  for (const auto& [name, v] : project.volumes) volumes[name] = json::object{};
  root["volumes"] = std::move(volumes);
  std::string out;
  print(out, root, 0);
  out += "\n";
  return out;
}

}  // namespace composewatch::compose
