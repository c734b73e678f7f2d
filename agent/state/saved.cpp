#include "composewatch/state/saved.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <stdexcept>

namespace composewatch::state {

namespace json = boost::json;

std::string_view to_string(ExitReason r) {
  switch (r) {
    case ExitReason::completed: return "completed";
    case ExitReason::stopped: return "stopped";
    case ExitReason::oom: return "oom";
    case ExitReason::error: return "error";
  }
  return "error";
}

std::optional<ExitReason> exit_reason_from(std::string_view text) {
  for (ExitReason r : {ExitReason::completed, ExitReason::stopped, ExitReason::oom, ExitReason::error})
    if (to_string(r) == text) return r;
  return std::nullopt;
}

ExitReason exit_reason_of_code(int exit_code, bool oom_killed) {
  if (oom_killed) return ExitReason::oom;
  if (exit_code == 0) return ExitReason::completed;
  if (exit_code == 128 + 2 || exit_code == 128 + 9 || exit_code == 128 + 15) return ExitReason::stopped;
  return ExitReason::error;
}

std::map<int, std::uint64_t> Counters::exits_by_code() const {
  std::map<int, std::uint64_t> out;
  for (const auto& [key, n] : exits) out[key.code] += n;
  return out;
}


namespace {
// The file's times: seconds since the epoch.
double seconds(AutohealHistory::Clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
AutohealHistory::Clock::time_point time_at(double s) {
  using Clock = AutohealHistory::Clock;
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)));
}
}  // namespace

std::string encode_saved_state(const SavedState& s) {
  json::object root;
  root["format"] = kSavedStateFormat;
  root["version"] = kSavedStateVersion;
  root["saved_at"] = s.saved_at;
  json::object stream;
  stream["live_until_nano"] = s.stream.live_until_nano;
  json::array recent;
  for (const auto& k : s.stream.recent)
    recent.push_back(json::array{k.time_nano, json::string(k.type), json::string(k.action), json::string(k.actor_id)});
  stream["recent"] = std::move(recent);
  stream["reconnects"] = s.stream_reconnects;
  root["stream"] = std::move(stream);

  json::array events;
  for (const auto& e : s.events)
    events.push_back(json::object{{"type", e.type}, {"action", e.action}, {"count", e.count}});
  root["events"] = std::move(events);

  json::array containers;
  for (const auto& c : s.containers) {
    json::object o;
    o["name"] = c.name;
    o["id"] = c.id;
    o["project"] = c.project;
    o["service"] = c.service;
    o["image"] = c.image;
    o["state"] = c.state;
    o["present"] = c.present;
    if (c.removed_at) o["removed_at"] = *c.removed_at;
    o["oom_kills"] = c.counters.oom_kills;
    o["restarts"] = c.counters.restarts;
    json::object exits;
    for (const auto& [code, n] : c.counters.exits_by_code()) exits[std::to_string(code)] = n;
    o["exits"] = std::move(exits);
    json::object by_reason;
    for (const auto& [key, n] : c.counters.exits) {
      json::value& slot = by_reason[to_string(key.reason)];
      if (!slot.is_object()) slot = json::object();
      slot.get_object()[std::to_string(key.code)] = n;
    }
    o["exits_by_reason"] = std::move(by_reason);
    if (c.last_exit)
      o["last_exit"] = json::object{{"id", c.last_exit->id},
                                    {"code", c.last_exit->code},
                                    {"reason", to_string(c.last_exit->reason)},
                                    {"at", c.last_exit->at}};
    if (c.last_oom_kill_at) o["last_oom_kill_at"] = *c.last_oom_kill_at;
    if (c.stop_requested_at_ooms) o["stop_requested"] = *c.stop_requested_at_ooms;
    o["died_since_start"] = c.died_since_start;
    const OomInstance& i = c.oom_instance;
    o["oom_instance"] = json::object{{"pid", i.pid}, {"events", i.events}, {"counted", i.counted}};
    containers.push_back(std::move(o));
  }
  root["containers"] = std::move(containers);
  if (!s.autoheal.empty()) {
    json::array heal;
    for (const auto& a : s.autoheal) {
      json::object o;
      o["name"] = a.name;
      o["id"] = a.id;
      o["project"] = a.project;
      o["service"] = a.service;
      const AutohealHistory& h = a.history;
      if (h.unhealthy_since) o["unhealthy_since"] = seconds(*h.unhealthy_since);
      json::array attempts;
      for (auto t : h.attempts) attempts.push_back(seconds(t));
      o["attempts"] = std::move(attempts);
      if (h.last_attempt) o["last_attempt"] = seconds(*h.last_attempt);
      o["episode_attempts"] = h.episode_attempts;
      o["given_up"] = h.given_up;
      o["backoff_reported"] = h.backoff_reported;
      o["paused_reported"] = h.paused_reported;
      json::object actions, suppressed;
      for (const auto& [k, n] : a.actions) actions[k] = n;
      for (const auto& [k, n] : a.suppressed) suppressed[k] = n;
      o["actions"] = std::move(actions);
      o["suppressed"] = std::move(suppressed);
      heal.push_back(std::move(o));
    }
    root["autoheal"] = std::move(heal);
  }
  if (!s.images_seen.empty()) {
    json::object seen;
    for (const auto& [key, t] : s.images_seen) seen[key] = t;
    root["images_seen"] = std::move(seen);
  }
  return json::serialize(root) + "\n";
}

namespace {

// Field readers: a missing or mistyped field throws with its path, caught in decode.
struct Bad : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const json::value& field(const json::object& o, std::string_view key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end()) throw Bad(where + std::string(key) + ": missing");
  return it->value();
}
const json::object& object(const json::value& v, const std::string& what) {
  if (!v.is_object()) throw Bad(what + ": not an object");
  return v.get_object();
}
const json::array& array(const json::value& v, const std::string& what) {
  if (!v.is_array()) throw Bad(what + ": not an array");
  return v.get_array();
}
std::string text(const json::object& o, std::string_view key, const std::string& where) {
  const auto& v = field(o, key, where);
  if (!v.is_string()) throw Bad(where + std::string(key) + ": not a string");
  return std::string(v.get_string());
}
std::uint64_t count(const json::value& v, const std::string& what) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return std::uint64_t(v.get_int64());
  throw Bad(what + ": not a count");
}
std::uint64_t count(const json::object& o, std::string_view key, const std::string& where) {
  return count(field(o, key, where), where + std::string(key));
}
std::int64_t integer(const json::value& v, const std::string& what) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= std::uint64_t(INT64_MAX)) return std::int64_t(v.get_uint64());
  throw Bad(what + ": not an integer");
}
double number(const json::value& v, const std::string& what) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return double(v.get_int64());
  if (v.is_uint64()) return double(v.get_uint64());
  throw Bad(what + ": not a number");
}
bool boolean(const json::object& o, std::string_view key, const std::string& where) {
  const auto& v = field(o, key, where);
  if (!v.is_bool()) throw Bad(where + std::string(key) + ": not true or false");
  return v.get_bool();
}

SavedContainer container(const json::object& o, const std::string& where) {
  SavedContainer c;
  c.name = text(o, "name", where);
  if (c.name.empty()) throw Bad(where + "name: empty");
  c.id = text(o, "id", where);
  c.project = text(o, "project", where);
  c.service = text(o, "service", where);
  c.image = text(o, "image", where);
  c.state = text(o, "state", where);
  c.present = boolean(o, "present", where);
  if (auto it = o.find("removed_at"); it != o.end()) c.removed_at = number(it->value(), where + "removed_at");
  c.counters.oom_kills = count(o, "oom_kills", where);
  c.counters.restarts = count(o, "restarts", where);
  const auto exit_code = [&](std::string_view k, const std::string& what) {
    int code = 0;
    if (std::from_chars(k.data(), k.data() + k.size(), code).ptr != k.data() + k.size() || k.empty())
      throw Bad(what + ": " + std::string(k) + " is not an exit code");
    return code;
  };
  std::map<int, std::uint64_t> by_code;
  for (const auto& kv : object(field(o, "exits", where), where + "exits"))
    by_code[exit_code(kv.key(), where + "exits")] = count(kv.value(), where + "exits." + std::string(kv.key()));
  if (auto it = o.find("exits_by_reason"); it != o.end()) {
    for (const auto& r : object(it->value(), where + "exits_by_reason")) {
      const std::string what = where + "exits_by_reason." + std::string(r.key());
      const auto reason = exit_reason_from(r.key());
      if (!reason) throw Bad(what + ": not completed, stopped, oom or error");
      for (const auto& kv : object(r.value(), what))
        c.counters.exits[{exit_code(kv.key(), what), *reason}] = count(kv.value(), what + "." + std::string(kv.key()));
    }
  } else {
    // An agent before exit classes: its exits by code are classified as a death found
    // afterwards would be.
    for (const auto& [code, n] : by_code) c.counters.exits[{code, exit_reason_of_code(code)}] = n;
  }
  if (auto it = o.find("last_exit"); it != o.end()) {
    const std::string w = where + "last_exit.";
    const auto& le = object(it->value(), where + "last_exit");
    LastExit e;
    e.id = text(le, "id", w);
    const std::int64_t code = integer(field(le, "code", w), w + "code");
    if (code < INT32_MIN || code > INT32_MAX) throw Bad(w + "code: out of range");
    e.code = int(code);
    const auto reason = exit_reason_from(text(le, "reason", w));
    if (!reason) throw Bad(w + "reason: not completed, stopped, oom or error");
    e.reason = *reason;
    e.at = number(field(le, "at", w), w + "at");
    c.last_exit = std::move(e);
  }
  if (auto it = o.find("last_oom_kill_at"); it != o.end())
    c.last_oom_kill_at = number(it->value(), where + "last_oom_kill_at");
  if (auto it = o.find("stop_requested"); it != o.end())
    c.stop_requested_at_ooms = count(it->value(), where + "stop_requested");
  c.died_since_start = boolean(o, "died_since_start", where);
  const auto& oom = object(field(o, "oom_instance", where), where + "oom_instance");
  const std::int64_t pid = integer(field(oom, "pid", where + "oom_instance."), where + "oom_instance.pid");
  if (pid < 0 || pid > INT32_MAX) throw Bad(where + "oom_instance.pid: out of range");
  c.oom_instance.pid = int(pid);
  c.oom_instance.events = count(oom, "events", where + "oom_instance.");
  c.oom_instance.counted = count(oom, "counted", where + "oom_instance.");
  return c;
}

AutohealRecord autoheal_record(const json::object& o, const std::string& where) {
  AutohealRecord a;
  a.name = text(o, "name", where);
  if (a.name.empty()) throw Bad(where + "name: empty");
  a.id = text(o, "id", where);
  a.project = text(o, "project", where);
  a.service = text(o, "service", where);
  AutohealHistory& h = a.history;
  if (auto it = o.find("unhealthy_since"); it != o.end())
    h.unhealthy_since = time_at(number(it->value(), where + "unhealthy_since"));
  for (const auto& t : array(field(o, "attempts", where), where + "attempts"))
    h.attempts.push_back(time_at(number(t, where + "attempts[]")));
  if (auto it = o.find("last_attempt"); it != o.end())
    h.last_attempt = time_at(number(it->value(), where + "last_attempt"));
  const std::uint64_t episode = count(o, "episode_attempts", where);
  if (episode > 1'000'000) throw Bad(where + "episode_attempts: out of range");
  h.episode_attempts = unsigned(episode);
  h.given_up = boolean(o, "given_up", where);
  h.backoff_reported = boolean(o, "backoff_reported", where);
  h.paused_reported = boolean(o, "paused_reported", where);
  for (const auto& kv : object(field(o, "actions", where), where + "actions"))
    a.actions[std::string(kv.key())] = count(kv.value(), where + "actions." + std::string(kv.key()));
  for (const auto& kv : object(field(o, "suppressed", where), where + "suppressed"))
    a.suppressed[std::string(kv.key())] = count(kv.value(), where + "suppressed." + std::string(kv.key()));
  return a;
}

}  // namespace

DecodedState decode_saved_state(std::string_view text_in) {
  DecodedState out;
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 8;
  json::value v = json::parse(text_in, ec, {}, opts);
  if (ec) {
    out.error = "not JSON: " + ec.message();
    return out;
  }
  try {
    const auto& root = object(v, "the file");
    auto fmt = root.find("format");
    if (fmt == root.end() || !fmt->value().is_string() || fmt->value().get_string() != kSavedStateFormat)
      throw Bad("not a composewatch state file (no \"format\": \"composewatch-state\")");
    const std::int64_t version = integer(field(root, "version", ""), "version");
    if (version > kSavedStateVersion)
      throw Bad("written by a newer composewatch (format version " + std::to_string(version) + ", this one reads " +
                std::to_string(kSavedStateVersion) + ")");
    if (version < 1) throw Bad("unknown format version " + std::to_string(version));

    SavedState s;
    s.saved_at = number(field(root, "saved_at", ""), "saved_at");
    const auto& stream = object(field(root, "stream", ""), "stream");
    s.stream.live_until_nano = integer(field(stream, "live_until_nano", "stream."), "stream.live_until_nano");
    if (s.stream.live_until_nano < 0) throw Bad("stream.live_until_nano: negative");
    for (const auto& k : array(field(stream, "recent", "stream."), "stream.recent")) {
      const auto& a = array(k, "stream.recent[]");
      if (a.size() != 4 || !a[1].is_string() || !a[2].is_string() || !a[3].is_string())
        throw Bad("stream.recent[]: not [time_nano, type, action, actor]");
      s.stream.recent.push_back(docker::EventKey{integer(a[0], "stream.recent[].time_nano"),
                                                 std::string(a[1].get_string()), std::string(a[2].get_string()),
                                                 std::string(a[3].get_string())});
    }
    s.stream_reconnects = count(stream, "reconnects", "stream.");
    const auto& events = array(field(root, "events", ""), "events");
    for (std::size_t i = 0; i < events.size(); ++i) {
      const std::string where = "events[" + std::to_string(i) + "].";
      const auto& e = object(events[i], where);
      s.events.push_back({text(e, "type", where), text(e, "action", where), count(e, "count", where)});
    }
    const auto& containers = array(field(root, "containers", ""), "containers");
    for (std::size_t i = 0; i < containers.size(); ++i) {
      const std::string where = "containers[" + std::to_string(i) + "].";
      s.containers.push_back(container(object(containers[i], where), where));
    }
    if (auto it = root.find("autoheal"); it != root.end()) {
      const auto& heal = array(it->value(), "autoheal");
      for (std::size_t i = 0; i < heal.size(); ++i) {
        const std::string where = "autoheal[" + std::to_string(i) + "].";
        s.autoheal.push_back(autoheal_record(object(heal[i], where), where));
      }
    }
    // Optional too: files of agents before prune read image ages from events have none.
    if (auto it = root.find("images_seen"); it != root.end()) {
      for (const auto& kv : object(it->value(), "images_seen")) {
        const std::string where = "images_seen." + std::string(kv.key());
        const double t = number(kv.value(), where);
        if (!(t >= 0)) throw Bad(where + ": not a time");
        if (s.images_seen.size() >= kMaxImagesSeen) throw Bad("images_seen: more than " + std::to_string(kMaxImagesSeen));
        s.images_seen.emplace(std::string(kv.key()), t);
      }
    }
    out.state = std::move(s);
  } catch (const Bad& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace composewatch::state
