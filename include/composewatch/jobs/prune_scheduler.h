#pragma once
// The prune scheduler job: runs each policy of the config file on its schedule (cron in
// local time or "every D", each run delayed by a small random jitter; a run missed while
// the agent was stopped or the host suspended is not replayed in a burst), one policy at a
// time and one prune at a time on the host (prune/host_lock.h), and publishes per-policy
// figures through the state model (prune/status.h).
//
// Fails closed: reload() with policies that did not validate never happens (the config
// loader refuses them); instead suspend() stops every run until a valid config arrives.
// A due run that does not happen (suspended, the host lock taken or unusable, the engine
// not answering) is logged and counted in composewatch_prune_failures_total.
//
// A run owns what it reads: the policy (shared with its slot), the compose knowledge and
// the image history (copies from the snapshot). reload() may replace every slot while a
// run is in flight; the run's figures then go to the policy of the same name, if any.
//
// One long-lived job on the writer's executor; started and supervised by jobs::Supervisor.
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

namespace composewatch::jobs {

struct PruneSchedulerOptions {
  std::string lock_path;                       // the state directory (prune/host_lock.h)
  std::chrono::milliseconds df_timeout{60'000};  // disk.timeout: /system/df walks every layer
  std::function<std::uint64_t()> random;       // jitter source; default: a seeded std::mt19937_64
};

class PruneScheduler {
 public:
  PruneScheduler(boost::asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
                 std::vector<config::PrunePolicyConfig> policies, PruneSchedulerOptions options);
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
  // SIGTERM: no further run starts, and a run in flight stops after the deletion in
  // flight (an image's every untag included), logging and counting what it did. Returns
  // true when a run is in flight: `stopped` is then called once it has ended (the caller
  // bounds the wait); false when nothing runs (`stopped` is not called).
  bool request_stop(std::function<void()> stopped);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace composewatch::jobs
