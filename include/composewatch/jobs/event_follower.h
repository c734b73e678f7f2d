#pragma once
// Follows the engine: connects, subscribes to events before listing (so nothing falls
// between), lists and inspects containers, feeds the state model, and after any
// disconnect resumes with `since`, de-duplicates the replay and re-lists. Runs on one
// io_context thread, the state model's single writer.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "composewatch/docker/event.h"
#include "composewatch/engine/client.h"
#include "composewatch/engine/liveness.h"
#include "composewatch/state/model.h"
#include "composewatch/state/saved.h"

namespace composewatch::jobs {

struct EventFollowerOptions {
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{5'000};  // capped exponential backoff between attempts
  engine::ClientOptions client;
  engine::LivenessOptions liveness;  // the probe beside the open event stream
};

// A job that follows container changes (the healer), told by the follower on the
// writer's thread once the model has taken them in: `event` after each container event
// is applied, with the record it applied to (null when the model knows none by its name
// or id), and `listed` after each full listing is reconciled. Either may be empty. A
// listener reads the model but must not feed it (apply, reconcile): the follower does.
struct ContainerListener {
  std::function<void(const docker::Event&, const state::ContainerRecord*)> event;
  std::function<void()> listed;
};

// One long-lived job on the writer's executor, started and supervised by jobs::Supervisor.
// Its two follow-up inspectors run inside it: if one fails unexpectedly, run() ends with
// that exception (the supervisor restarts it; counters and de-duplication carry over).
class EventFollower {
 public:
  EventFollower(boost::asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model, EventFollowerOptions options = {});
  ~EventFollower();

  // Follows the engine until the executor's context stops. Engine failures are logged
  // and retried with backoff; only unexpected exceptions escape.
  boost::asio::awaitable<void> run();

  // Adds a job to tell of container changes, before run().
  void add_listener(ContainerListener listener) { listeners_.push_back(std::move(listener)); }

  std::uint64_t events_parse_errors() const { return parse_errors_; }
  // The last moment the event stream was known live: its headers arrived, data came in,
  // or the engine answered a liveness probe while it was open. Epoch before the first
  // stream; kept after a stream ends. For a resume point: the engine was serving the
  // stream then (events of the last instants before it may still have been in flight).
  std::chrono::system_clock::time_point last_known_live() const { return last_known_live_; }

  // Where the stream stands, for the state file: everything before live_until_nano was
  // seen (the stream was open: now while it is, else when it ended), with the keys of the
  // newest events counted. Writer's thread.
  state::StreamPosition position() const;
  // A restarted agent's saved position, before run(): the first connect resumes from it.
  void restore(const state::StreamPosition& saved);

 private:
  boost::asio::awaitable<void> follow();
  boost::asio::awaitable<void> connect_and_follow(bool& established);
  boost::asio::awaitable<void> inspector();
  void on_line(std::string_view line);
  boost::asio::awaitable<void> read_events(engine::EventStream& stream);
  void count_stream_errors(const engine::EventStream& stream, bool ended);
  void enqueue_inspect(const std::string& id);
  void apply(const docker::Event& e);
  void reconcile(const std::vector<docker::ContainerInfo>& all);

  struct Wakeup;
  boost::asio::any_io_executor ex_;
  engine::Endpoint endpoint_;
  state::StateModel& model_;
  EventFollowerOptions options_;
  std::vector<ContainerListener> listeners_;
  std::shared_ptr<engine::Client> client_;  // of the current connection; null while disconnected
  docker::EventDeduplicator dedup_;
  std::deque<std::string> inspect_queue_;
  std::unordered_set<std::string> inspect_pending_;
  std::unique_ptr<Wakeup> wakeup_;
  std::uint64_t parse_errors_ = 0;
  std::uint64_t parse_errors_counted_ = 0, dropped_lines_counted_ = 0;  // of the current stream, in the model
  std::chrono::system_clock::time_point last_known_live_{};
  std::string last_error_;
  bool connected_before_ = false;
  bool stream_open_ = false;
  std::int64_t live_until_nano_ = 0;  // when the last stream ended (or the restored position)
  bool liveness_failed_ = false;      // the open stream was closed by the liveness probe
  std::int64_t live_until() const;    // the open stream's last moment known live
};

}  // namespace composewatch::jobs
