#include "composewatch/jobs/repeat.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace composewatch::jobs {

namespace asio = boost::asio;

asio::awaitable<void> repeat(Step step, RepeatOptions options) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  if (options.first_after.count() > 0) {
    timer.expires_after(options.first_after);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  for (;;) {
    const auto started = std::chrono::steady_clock::now();
    const std::chrono::milliseconds next = co_await step();
    timer.expires_at(started + next);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace composewatch::jobs
