#pragma once
// The prune scheduler job: runs each policy of the config file on its schedule (cron in
// local time or "every D", each run delayed by a small random jitter; a run missed while
// the agent was stopped or the host suspended is not replayed in a burst), one policy at a
// time and one prune at a time on the host (prune/host_lock.h), and publishes per-policy
// figures through the state model (prune/status.h).
//
// Fails closed: reload() with policies that did not validate never happens (the config
// loader refuses them); instead suspend() stops every run until a valid config arrives.
//
// One long-lived job on the writer's executor; started and supervised by app::Supervisor.
// Members on that thread only.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "composewatch/config/config.h"
#include "composewatch/engine/client.h"
#include "composewatch/engine/endpoint.h"
#include "composewatch/state/model.h"

namespace composewatch::prune {

struct SchedulerOptions {
  std::string lock_path;                       // <state.dir>/prune.lock
  std::chrono::milliseconds df_timeout{60'000};  // disk.timeout: /system/df walks every layer
  std::function<std::uint64_t()> random;       // jitter source; default: a seeded std::mt19937_64
};

class PruneScheduler {
 public:
  PruneScheduler(boost::asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
                 std::vector<config::PrunePolicyConfig> policies, SchedulerOptions options);
  ~PruneScheduler();
  PruneScheduler(const PruneScheduler&) = delete;
  PruneScheduler& operator=(const PruneScheduler&) = delete;

  // Waits for the next due policy and runs it, forever.
  boost::asio::awaitable<void> run();
  // SIGHUP with a valid config: the new policies, due from now; counters of policies that
  // keep their name carry on. Lifts a suspension.
  void reload(std::vector<config::PrunePolicyConfig> policies);
  // SIGHUP with a rejected config: no policy runs until reload().
  void suspend(std::string reason);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace composewatch::prune
