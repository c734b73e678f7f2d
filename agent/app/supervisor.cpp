#include "composewatch/app/supervisor.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "composewatch/log/log.h"

namespace composewatch::app {

namespace asio = boost::asio;

Supervisor::Supervisor(asio::any_io_executor ex, std::function<void(int)> exit_agent, Options options)
    : ex_(std::move(ex)), exit_agent_(std::move(exit_agent)), options_(options), alive_(std::make_shared<bool>(true)) {}

Supervisor::Supervisor(asio::any_io_executor ex, std::function<void(int)> exit_agent)
    : Supervisor(std::move(ex), std::move(exit_agent), Options{}) {}

Supervisor::~Supervisor() { *alive_ = false; }

void Supervisor::start(std::string name, Job job, OnFailure on_failure) {
  restarts_.try_emplace(name, 0);
  // supervise() catches everything its job throws, so detached loses nothing.
  asio::co_spawn(ex_, supervise(std::move(name), std::move(job), on_failure), asio::detached);
}

std::uint64_t Supervisor::restarts(const std::string& name) const {
  auto it = restarts_.find(name);
  return it == restarts_.end() ? 0 : it->second;
}

asio::awaitable<void> Supervisor::supervise(std::string name, Job job, OnFailure on_failure) {
  auto alive = alive_;  // the supervisor may be gone when the context is torn down
  asio::steady_timer timer(ex_);
  auto backoff = options_.backoff_initial;
  for (;;) {
    const auto started = std::chrono::steady_clock::now();
    std::string error;
    try {
      co_await job();
      error = "the job returned";
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown exception";
    }
    if (!*alive) co_return;
    if (on_failure == OnFailure::exit) {
      log::error("job failed; the agent exits", {{"job", name}, {"error", error}});
      if (exit_agent_) exit_agent_(1);
      co_return;
    }
    if (std::chrono::steady_clock::now() - started >= options_.stable_after) backoff = options_.backoff_initial;
    log::error("job failed; restarting it",
               {{"job", name}, {"error", error}, {"restart_in_ms", static_cast<std::int64_t>(backoff.count())}});
    timer.expires_after(backoff);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!*alive) co_return;
    backoff = std::min(backoff * 2, options_.backoff_max);
    ++restarts_[name];
  }
}

}  // namespace composewatch::app
