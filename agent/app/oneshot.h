#pragma once
// How a one-shot command talks to the engine: one coroutine run to completion on a
// private io_context. Private to app/.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace composewatch::app::detail {

// Runs `make(executor)`'s coroutine and returns its result; rethrows what it threw.
template <class Make>
auto run_sync(Make make) {
  boost::asio::io_context ioc;
  auto fut = boost::asio::co_spawn(ioc, make(ioc.get_executor()), boost::asio::use_future);
  ioc.run();
  return fut.get();
}

}  // namespace composewatch::app::detail
