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
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "composewatch/engine/client.h"
#include "composewatch/engine/event.h"
#include "composewatch/state/model.h"

namespace composewatch::cgroup {
class Reader;
}

namespace composewatch::engine {

// --stats.source=api: how the engine thread polls GET /containers/{id}/stats.
struct ApiStatsOptions {
  std::chrono::seconds interval{15};         // from the start of one round to the next
  std::chrono::milliseconds deadline{10'000};  // per call, connect included
  unsigned in_flight = 4;                    // concurrent calls
};

struct TrackerOptions {
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{5'000};  // capped exponential backoff between attempts
  unsigned inspectors = 2;                       // concurrent follow-up inspects
  ClientOptions client;
};

class Tracker {
 public:
  Tracker(boost::asio::any_io_executor ex, Endpoint endpoint, state::StateModel& model, TrackerOptions options = {});
  ~Tracker();

  // Runs until the executor's context stops. Never throws: engine failures are logged
  // and retried.
  boost::asio::awaitable<void> run();

  std::uint64_t events_parse_errors() const { return parse_errors_; }

  // Periodic tasks run() also starts; call before run().
  // Every `every`, folds the cgroup oom_kill counters of running containers into the
  // model (kills the event stream missed).
  void fold_oom_kills_from(std::shared_ptr<const cgroup::Reader> reader,
                           std::chrono::seconds every = std::chrono::seconds(10));
  // Polls the engine for every running container's stats and hands the figures to the
  // model's snapshots (--stats.source=api).
  void poll_api_stats(ApiStatsOptions options);

 private:
  boost::asio::awaitable<void> connect_and_follow(bool& established);
  boost::asio::awaitable<void> inspector();
  void on_line(std::string_view line);
  void enqueue_inspect(const std::string& id);
  boost::asio::awaitable<void> oom_folder();
  boost::asio::awaitable<void> api_stats_poller();
  boost::asio::awaitable<void> api_stats_round();

  struct Wakeup;
  boost::asio::any_io_executor ex_;
  Endpoint endpoint_;
  state::StateModel& model_;
  TrackerOptions options_;
  std::shared_ptr<Client> client_;  // of the current connection; null while disconnected
  EventDeduplicator dedup_;
  std::deque<std::string> inspect_queue_;
  std::unordered_set<std::string> inspect_pending_;
  std::unique_ptr<Wakeup> wakeup_;
  std::uint64_t parse_errors_ = 0;
  std::string last_error_;
  bool connected_before_ = false;
  std::shared_ptr<const cgroup::Reader> oom_reader_;
  std::chrono::seconds oom_every_{10};
  std::optional<ApiStatsOptions> api_stats_;
};

}  // namespace composewatch::engine
