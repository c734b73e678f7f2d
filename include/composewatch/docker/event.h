#pragma once
// Engine events (GET /events): pure parsing, no I/O.

#include <cstdint>
#include <deque>
#include <unordered_set>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace composewatch::docker {

struct Event {
  std::string type;           // "container", "network", "image", ...
  std::string action;         // label form: the part before any ':' ("exec_start", "health_status")
  std::string action_detail;  // after ": " ("healthy" for "health_status: healthy"), else empty
  std::string actor_id;
  std::vector<std::pair<std::string, std::string>> attributes;  // Actor.Attributes, labels included
  std::int64_t time_nano = 0;  // nanoseconds since the epoch

  // The attribute's value, or empty when absent.
  std::string_view attribute(std::string_view key) const;
  bool has_attribute(std::string_view key) const;
};

struct EventParseResult {
  std::optional<Event> event;
  std::string error;  // set when event is empty: why the line was rejected
};

// Parses one line of the event stream. Never throws; garbage, truncated JSON or a
// line without Type/Action gives an error and no event.
EventParseResult parse_event(std::string_view line);

// Splits "health_status: healthy" into {"health_status", "healthy"} and
// "exec_start: sh -c x" into {"exec_start", "sh -c x"}.
std::pair<std::string_view, std::string_view> split_action(std::string_view raw);

// Formats a timeNano as the `since` query value ("seconds.nanoseconds").
std::string format_since(std::int64_t time_nano);

// De-duplication key for replays (since is inclusive): timeNano, Type, Action, Actor.ID.
struct EventKey {
  std::int64_t time_nano;
  std::string type, action, actor_id;
  bool operator==(const EventKey&) const = default;
};
EventKey key_of(const Event& e);
struct EventKeyHash {
  std::size_t operator()(const EventKey& k) const;
};

// Remembers the most recent keys (bounded) so that events replayed after a reconnect
// are recognised. Events older than the newest-seen time minus the window are treated
// as already seen only when their key is remembered.
class EventDeduplicator {
 public:
  explicit EventDeduplicator(std::size_t capacity = 4096);
  // True when the event was not seen before (and records it).
  bool first_time(const Event& e);
  // True when an event with this key was seen (and is still remembered).
  bool seen(const EventKey& k) const;
  // True when an event of this actor and action within `tolerance_nano` of `near_nano` is
  // remembered (a container's own StartedAt/FinishedAt against its start/die events).
  bool seen_near(std::string_view actor_id, std::string_view action, std::int64_t near_nano,
                 std::int64_t tolerance_nano) const;
  std::int64_t newest_time_nano() const { return newest_; }
  // The remembered keys of events at or after `from_nano`, oldest first: what a replay
  // from there repeats (kept across an agent restart).
  std::vector<EventKey> recent(std::int64_t from_nano) const;
  // Remembers these keys as seen (a restarted agent's saved `recent`).
  void remember(const std::vector<EventKey>& keys);

 private:
  // Remembers k (forgetting the oldest beyond capacity). The engine's buffer is not
  // strictly ordered by time under load, so membership is a set, not a scan by time.
  void insert(const EventKey& k);

  std::size_t capacity_;
  std::deque<EventKey> order_;  // oldest first, as received
  std::unordered_set<EventKey, EventKeyHash> keys_;
  std::int64_t newest_ = 0;
};

// Accumulates bytes of the chunked body and yields complete lines. A line longer than
// max_line is dropped (counted) instead of growing without bound.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line = 1 << 20) : max_line_(max_line) {}
  // Appends data and calls on_line for every complete line (without '\n', '\r' trimmed).
  template <class F>
  void feed(std::string_view data, F&& on_line) {
    for (char c : data) {
      if (c == '\n') {
        if (!overflow_) {
          if (!buf_.empty() && buf_.back() == '\r') buf_.pop_back();
          if (!buf_.empty()) on_line(std::string_view(buf_));
        }
        buf_.clear();
        overflow_ = false;
      } else if (!overflow_) {
        if (buf_.size() >= max_line_) {
          overflow_ = true;
          ++dropped_;
          buf_.clear();
        } else {
          buf_.push_back(c);
        }
      }
    }
  }
  // Bytes of an unfinished line (a stream that ends here was truncated).
  std::size_t pending() const { return buf_.size(); }
  std::size_t dropped_lines() const { return dropped_; }
  void reset() { buf_.clear(); overflow_ = false; }

 private:
  std::size_t max_line_;
  std::string buf_;
  bool overflow_ = false;
  std::size_t dropped_ = 0;
};

}  // namespace composewatch::docker
