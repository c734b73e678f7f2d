#pragma once
// The loop most jobs are, written once: a step, then a wait, forever. The step says how
// long after its own start the next step begins (so a slow step does not stretch the
// period); a step that took longer than that is followed at once. Cancelled with the
// coroutine (the supervisor's executor going away); an exception from a step ends it,
// for the supervisor to log and restart.
//
//   boost::asio::awaitable<void> Heartbeat::run() {
//     return repeat([this]() -> boost::asio::awaitable<std::chrono::milliseconds> { mark(); co_return every_; });
//   }

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>

namespace composewatch::jobs {

using Step = std::function<boost::asio::awaitable<std::chrono::milliseconds>()>;

struct RepeatOptions {
  // Wait this long before the first step (0: run it at once).
  std::chrono::milliseconds first_after{0};
};

boost::asio::awaitable<void> repeat(Step step, RepeatOptions options = {});

}  // namespace composewatch::jobs
