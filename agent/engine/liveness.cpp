#include "composewatch/engine/liveness.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "composewatch/engine/client.h"
#include "composewatch/log/log.h"

namespace composewatch::engine {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

Liveness::Liveness(asio::any_io_executor ex, Client& client, LivenessOptions options, OnLive on_live)
    : ex_(std::move(ex)), client_(client), options_(options), on_live_(std::move(on_live)) {}

asio::awaitable<void> Liveness::guard(EventStream& stream) {
  std::string call = "GET ";
  call += kLivenessProbeTarget;  // (a concatenation here trips GCC 12's -Warray-bounds in the coroutine frame)
  asio::steady_timer timer(ex_);
  int streak = 0;
  for (;;) {
    timer.expires_after(options_.interval);
    auto [wait_ec] = co_await timer.async_wait(use_tuple);
    if (wait_ec) co_return;  // cancelled: the stream ended first
    const auto started = std::chrono::steady_clock::now();
    std::optional<EngineError> error;
    try {
      co_await client_.get(kLivenessProbeTarget, options_.deadline);
    } catch (const EngineError& e) {
      error = e;
    }
    // The stream ended during the probe: its failure says nothing about the engine.
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return;
    if (!error) {
      if (streak > 0) log::info("engine answers again", {{"call", call}, {"failed_probes", streak}});
      streak = 0;
      if (on_live_) on_live_(std::chrono::system_clock::now());
      continue;
    }
    ++streak;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log::warn("engine liveness probe failed", {{"call", call},
                                               {"failures", streak},
                                               {"failures_to_fail", options_.failures_to_fail},
                                               {"seconds", seconds},
                                               {"error", error->what()}});
    if (streak >= options_.failures_to_fail) {
      // Returned, not thrown: whichever of the stream's read and this ends first, the
      // follower reads the verdict here.
      failure_.emplace(error->kind,
                       "the engine did not answer " + call + " " + std::to_string(streak) +
                           " times in a row (last: " + error->what() + "); event stream closed",
                       error->http_status);
      stream.close();
      co_return;
    }
  }
}

}  // namespace composewatch::engine
