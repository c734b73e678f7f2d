#pragma once
// Expiry: every `every`, the state model forgets the containers removed longer ago than it
// keeps them (state::StateModel::expire), and publishes. On the writer's executor.

#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "composewatch/state/model.h"

namespace composewatch::jobs {

class Expiry {
 public:
  explicit Expiry(state::StateModel& model, std::chrono::milliseconds every = std::chrono::seconds(30));

  boost::asio::awaitable<void> run();

 private:
  state::StateModel& model_;
  std::chrono::milliseconds every_;
};

}  // namespace composewatch::jobs
