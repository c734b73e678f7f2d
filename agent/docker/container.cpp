#include "composewatch/docker/container.h"

#include <charconv>
#include <ctime>

#include "composewatch/docker/json.h"

namespace composewatch::docker {
namespace json = boost::json;

std::string ContainerSpec::label(std::string_view key) const {
  auto it = labels.find(std::string(key));
  return it == labels.end() ? std::string() : it->second;
}

ComposeLabels ComposeLabels::from(const std::map<std::string, std::string>& labels) {
  auto get = [&](std::string_view key) {
    auto it = labels.find(std::string(key));
    return it == labels.end() ? std::string() : it->second;
  };
  return ComposeLabels{.project = get(kLabelProject),
                       .service = get(kLabelService),
                       .oneoff = get(kLabelOneoff) == "True",
                       .working_dir = get(kLabelWorkingDir),
                       .config_files = get(kLabelConfigFiles)};
}

namespace {

using lenient::bool_at;
using lenient::object_at;
using lenient::string_at;

std::int64_t int_at(const json::object* o, std::string_view key) {
  if (!o) return 0;
  auto it = o->find(key);
  if (it == o->end()) return 0;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().get_uint64());
  return 0;
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::optional<double> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = to_int(s.substr(0, 4)) - 1900;
  tm.tm_mon = to_int(s.substr(5, 2)) - 1;
  tm.tm_mday = to_int(s.substr(8, 2));
  tm.tm_hour = to_int(s.substr(11, 2));
  tm.tm_min = to_int(s.substr(14, 2));
  tm.tm_sec = to_int(s.substr(17, 2));
  if (tm.tm_year + 1900 <= 1) return std::nullopt;  // Go's zero time: never happened
  double frac = 0;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    double scale = 0.1;
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  long offset = 0;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-') && pos + 5 < s.size()) {
    int sign = s[pos] == '-' ? -1 : 1;
    offset = sign * (to_int(s.substr(pos + 1, 2)) * 3600L + to_int(s.substr(pos + 4, 2)) * 60L);
  }
  std::time_t t = timegm(&tm);
  return static_cast<double>(t - offset) + frac;
}

ContainerInfo parse_inspect(std::string_view text) {
  json::value v = parse_bounded(text, "container inspect");
  if (!v.is_object()) throw ParseError("container inspect: not a JSON object");
  const auto& o = v.get_object();
  ContainerInfo c;
  c.id = string_at(&o, "Id");
  if (c.id.empty()) throw ParseError("container inspect: missing Id");
  c.name = string_at(&o, "Name");
  if (!c.name.empty() && c.name.front() == '/') c.name.erase(0, 1);
  c.image_id = string_at(&o, "Image");
  c.restart_count = static_cast<int>(int_at(&o, "RestartCount"));

  ContainerSpec& spec = c.spec;
  const json::object* config = object_at(&o, "Config");
  spec.image = string_at(config, "Image");
  c.tty = bool_at(config, "Tty");
  c.user = string_at(config, "User");
  if (config) {
    if (const auto* hc = object_at(config, "Healthcheck")) {
      HealthcheckConfig h;
      if (auto it = hc->find("Test"); it != hc->end() && it->value().is_array()) {
        for (const auto& t : it->value().get_array())
          if (t.is_string()) h.test.emplace_back(t.get_string());
      }
      h.interval_ns = int_at(hc, "Interval");
      h.timeout_ns = int_at(hc, "Timeout");
      h.start_period_ns = int_at(hc, "StartPeriod");
      h.retries = static_cast<int>(int_at(hc, "Retries"));
      if (hc->contains("StartInterval")) h.start_interval_ns = int_at(hc, "StartInterval");  // API 1.44+
      spec.healthcheck = std::move(h);
    }
    if (auto it = config->find("StopTimeout"); it != config->end() && (it->value().is_int64() || it->value().is_uint64()))
      spec.stop_timeout = int_at(config, "StopTimeout");
    if (const auto* labels = object_at(config, "Labels")) {
      for (const auto& kv : *labels)
        if (kv.value().is_string()) spec.labels.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
    }
  }

  const json::object* st = object_at(&o, "State");
  if (!st) throw ParseError("container inspect: missing State");
  c.state = string_at(st, "Status");
  c.exit_code = static_cast<int>(int_at(st, "ExitCode"));
  c.oom_killed = bool_at(st, "OOMKilled");
  c.pid = static_cast<int>(int_at(st, "Pid"));
  c.error = string_at(st, "Error");
  c.started_at = parse_rfc3339(string_at(st, "StartedAt"));
  c.finished_at = parse_rfc3339(string_at(st, "FinishedAt"));
  c.health = "none";
  if (const auto* health = object_at(st, "Health")) {
    std::string status = string_at(health, "Status");
    if (!status.empty()) c.health = status;
    c.failing_streak = static_cast<int>(int_at(health, "FailingStreak"));
  }

  const json::object* host = object_at(&o, "HostConfig");
  spec.memory_limit = int_at(host, "Memory");
  spec.memory_reservation = int_at(host, "MemoryReservation");
  spec.nano_cpus = int_at(host, "NanoCpus");
  spec.cpu_quota = int_at(host, "CpuQuota");
  if (host) {
    if (const auto* rp = object_at(host, "RestartPolicy")) {
      spec.restart_policy.name = string_at(rp, "Name");
      spec.restart_policy.maximum_retry_count = static_cast<int>(int_at(rp, "MaximumRetryCount"));
    }
  }
  spec.cgroup_parent = string_at(host, "CgroupParent");
  spec.network_mode = string_at(host, "NetworkMode");
  spec.compose = ComposeLabels::from(spec.labels);
  return c;
}

std::vector<std::string> parse_container_ids(std::string_view text) {
  json::value v = parse_bounded(text, "container list");
  if (!v.is_array()) throw ParseError("container list: not a JSON array");
  std::vector<std::string> ids;
  for (const auto& item : v.get_array()) {
    if (!item.is_object()) throw ParseError("container list: entry is not an object");
    std::string id = string_at(&item.get_object(), "Id");
    if (id.empty()) throw ParseError("container list: entry without Id");
    ids.push_back(std::move(id));
  }
  return ids;
}

}  // namespace composewatch::docker
