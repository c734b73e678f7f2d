#include "composewatch/jobs/expiry.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace composewatch::jobs {

namespace asio = boost::asio;

Expiry::Expiry(state::StateModel& model, std::chrono::milliseconds every) : model_(model), every_(every) {}

asio::awaitable<void> Expiry::run() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(every_);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    model_.expire();
    model_.publish();
  }
}

}  // namespace composewatch::jobs
