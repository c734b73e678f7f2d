#include "composewatch/jobs/heartbeat.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace composewatch::jobs {

namespace asio = boost::asio;

namespace {
std::int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Heartbeat::Heartbeat(std::chrono::milliseconds every) : every_(every), beat_ms_(steady_now_ms()) {}

asio::awaitable<void> Heartbeat::run() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    beat_ms_.store(steady_now_ms());
    timer.expires_after(every_);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

std::chrono::milliseconds Heartbeat::age() const { return std::chrono::milliseconds(steady_now_ms() - beat_ms_.load()); }

}  // namespace composewatch::jobs
