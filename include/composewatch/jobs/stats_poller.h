#pragma once
// --stats.source=api: polls GET /containers/{id}/stats?one-shot=true for every running
// container on its own schedule and hands the figures to the state model's snapshots, so
// that a scrape never calls the engine.
//
// One long-lived job on the writer's executor; started and supervised by jobs::Supervisor.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "composewatch/engine/client.h"
#include "composewatch/engine/endpoint.h"
#include "composewatch/state/model.h"

namespace composewatch::jobs {

struct ApiStatsOptions {
  std::chrono::seconds interval{15};           // from the start of one round to the next
  std::chrono::milliseconds deadline{10'000};  // per call, connect included
  unsigned in_flight = 4;                      // concurrent calls
};

class ApiStatsPoller {
 public:
  ApiStatsPoller(boost::asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
                 ApiStatsOptions options = {}, engine::ClientOptions client = {});

  // A round every `interval` while the engine is up (the tracker says so in the model);
  // engine failures are logged at debug and retried at the next round.
  boost::asio::awaitable<void> run();

 private:
  boost::asio::awaitable<void> round();

  boost::asio::any_io_executor ex_;
  engine::Endpoint endpoint_;
  state::StateModel& model_;
  ApiStatsOptions options_;
  engine::ClientOptions client_;
};

}  // namespace composewatch::jobs
