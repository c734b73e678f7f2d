#include "composewatch/docker/event.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "composewatch/docker/json.h"

namespace composewatch::docker {
namespace json = boost::json;

std::string_view Event::attribute(std::string_view key) const {
  for (const auto& [k, v] : attributes)
    if (k == key) return v;
  return {};
}

bool Event::has_attribute(std::string_view key) const {
  return std::any_of(attributes.begin(), attributes.end(), [&](const auto& kv) { return kv.first == key; });
}

std::pair<std::string_view, std::string_view> split_action(std::string_view raw) {
  auto colon = raw.find(':');
  if (colon == std::string_view::npos) return {raw, {}};
  std::string_view head = raw.substr(0, colon);
  std::string_view tail = raw.substr(colon + 1);
  while (!tail.empty() && tail.front() == ' ') tail.remove_prefix(1);
  while (!head.empty() && head.back() == ' ') head.remove_suffix(1);
  return {head, tail};
}

std::string format_since(std::int64_t time_nano) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(time_nano / 1'000'000'000),
                static_cast<long long>(time_nano % 1'000'000'000));
  return buf;
}

EventKey key_of(const Event& e) {
  // The raw action matters for de-duplication (two exec_starts with different commands in
  // the same nanosecond are two events), but the label form is what is kept; the time and
  // actor make collisions practically impossible.
  return EventKey{e.time_nano, e.type, e.action + (e.action_detail.empty() ? "" : ":" + e.action_detail),
                  e.actor_id};
}

namespace {

const json::string* string_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return nullptr;
  return &it->value().get_string();
}

std::optional<std::int64_t> int_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  const auto& v = it->value();
  if (v.is_int64()) return v.get_int64();
  // Above INT64_MAX: out of range, like a negative time (checked by the caller).
  if (v.is_uint64()) return -1;
  return std::nullopt;
}

// The latest `time` (seconds) whose nanoseconds still fit in timeNano's int64: year 2262.
constexpr std::int64_t kMaxEventSeconds = std::numeric_limits<std::int64_t>::max() / 1'000'000'000;

}  // namespace

EventParseResult parse_event(std::string_view line) {
  EventParseResult result;
  std::string error;
  std::optional<json::value> parsed = try_parse_bounded(line, kEventLimits, error);
  if (!parsed) {
    result.error = std::move(error);
    return result;
  }
  const json::value& v = *parsed;
  if (!v.is_object()) {
    result.error = "not a JSON object";
    return result;
  }
  const auto& o = v.get_object();
  const json::string* type = string_field(o, "Type");
  const json::string* action = string_field(o, "Action");
  if (!type || !action || type->empty() || action->empty()) {
    result.error = "missing Type or Action";
    return result;
  }
  Event e;
  e.type = std::string(*type);
  auto [head, detail] = split_action(*action);
  e.action = std::string(head);
  e.action_detail = std::string(detail);
  if (auto tn = int_field(o, "timeNano")) {
    if (*tn < 0) {
      result.error = "timeNano out of range";
      return result;
    }
    e.time_nano = *tn;
  } else if (auto t = int_field(o, "time")) {
    if (*t < 0 || *t > kMaxEventSeconds) {
      result.error = "time out of range";
      return result;
    }
    e.time_nano = *t * 1'000'000'000;
  }
  if (auto it = o.find("Actor"); it != o.end() && it->value().is_object()) {
    const auto& actor = it->value().get_object();
    if (const auto* id = string_field(actor, "ID")) e.actor_id = std::string(*id);
    if (auto at = actor.find("Attributes"); at != actor.end() && at->value().is_object()) {
      for (const auto& kv : at->value().get_object()) {
        if (kv.value().is_string())
          e.attributes.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
      }
    }
  }
  if (e.actor_id.empty()) {
    if (const auto* id = string_field(o, "id")) e.actor_id = std::string(*id);
  }
  result.event = std::move(e);
  return result;
}

std::size_t EventKeyHash::operator()(const EventKey& k) const {
  std::size_t h = std::hash<std::int64_t>{}(k.time_nano);
  for (const std::string* part : {&k.type, &k.action, &k.actor_id})
    h ^= std::hash<std::string>{}(*part) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

EventDeduplicator::EventDeduplicator(std::size_t capacity) : capacity_(capacity) { keys_.reserve(capacity_); }

bool EventDeduplicator::seen(const EventKey& k) const { return keys_.count(k) > 0; }

bool EventDeduplicator::seen_near(std::string_view actor_id, std::string_view action, std::int64_t near_nano,
                                  std::int64_t tolerance_nano) const {
  return std::any_of(order_.begin(), order_.end(), [&](const EventKey& k) {
    return k.actor_id == actor_id && k.action == action && k.time_nano >= near_nano - tolerance_nano &&
           k.time_nano <= near_nano + tolerance_nano;
  });
}

std::vector<EventKey> EventDeduplicator::recent(std::int64_t from_nano) const {
  std::vector<EventKey> out;
  for (const auto& k : order_)
    if (k.time_nano >= from_nano) out.push_back(k);
  return out;
}

void EventDeduplicator::insert(const EventKey& k) {
  if (capacity_ == 0) return;
  if (order_.size() >= capacity_) {
    keys_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(k);
  keys_.insert(k);
  newest_ = std::max(newest_, k.time_nano);
}

void EventDeduplicator::remember(const std::vector<EventKey>& keys) {
  for (const auto& k : keys)
    if (!seen(k)) insert(k);
}

bool EventDeduplicator::first_time(const Event& e) {
  EventKey k = key_of(e);
  if (seen(k)) return false;
  insert(k);
  return true;
}

}  // namespace composewatch::docker
