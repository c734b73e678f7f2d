#pragma once
// How a one-shot command talks to the engine: one coroutine run to completion on a
// private io_context. Private to app/.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>

#include "composewatch/engine/client.h"

namespace composewatch::commands::detail {

// The deadlines of a one-shot command's engine calls (the engine client's are for the
// agent, which can wait): a stuck engine fails the command after one of these with the
// call and the endpoint named ("GET /_ping on unix:///var/run/docker.sock: no answer
// within 10s") instead of holding the terminal. /system/df keeps its own, longer one.
inline constexpr std::chrono::milliseconds kOneShotConnectTimeout{3'000};
inline constexpr std::chrono::milliseconds kOneShotRequestTimeout{10'000};

inline engine::ClientOptions oneshot_client_options() {
  engine::ClientOptions o;
  o.connect_timeout = kOneShotConnectTimeout;
  o.request_timeout = kOneShotRequestTimeout;
  return o;
}

// Runs `make(executor)`'s coroutine and returns its result; rethrows what it threw.
// Blocking Beast calls ignore expires_after: every network step of a one-shot command is
// an async operation run here, so its deadline holds.
template <class Make>
auto run_sync(Make make) {
  boost::asio::io_context ioc;
  auto fut = boost::asio::co_spawn(ioc, make(ioc.get_executor()), boost::asio::use_future);
  ioc.run();
  return fut.get();
}

}  // namespace composewatch::commands::detail
