#include "composewatch/jobs/stats_poller.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "composewatch/docker/api_stats.h"
#include "composewatch/jobs/repeat.h"
#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

ApiStatsPoller::ApiStatsPoller(asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
                               ApiStatsOptions options, engine::ClientOptions client)
    : ex_(std::move(ex)), endpoint_(std::move(endpoint)), model_(model), options_(options), client_(client) {}

asio::awaitable<void> ApiStatsPoller::round() {
  struct Target {
    std::string id, network_mode;
  };
  auto targets = std::make_shared<std::vector<Target>>();
  for (const auto& [name, r] : model_.containers())
    if (r.present && (r.state == "running" || r.state == "paused") && !r.id.empty())
      targets->push_back({r.id, r.spec.network_mode});

  engine::ClientOptions copts = client_;
  copts.request_timeout = options_.deadline;
  copts.connect_timeout = std::min(copts.connect_timeout, options_.deadline);
  auto client = std::make_shared<engine::Client>(ex_, endpoint_, copts);
  co_await client->negotiate();

  // A few calls in flight at once; each worker takes the next container until none is left.
  struct Round {
    std::size_t next = 0;
    unsigned running = 0;
    std::size_t failed = 0;
    std::shared_ptr<state::ApiStats> out = std::make_shared<state::ApiStats>();
    asio::steady_timer done;
    explicit Round(const asio::any_io_executor& ex) : done(ex, asio::steady_timer::time_point::max()) {}
  };
  auto rd = std::make_shared<Round>(ex_);
  auto worker = [](std::shared_ptr<Round> rd, std::shared_ptr<std::vector<Target>> ts,
                   std::shared_ptr<engine::Client> c) -> asio::awaitable<void> {
    while (rd->next < ts->size()) {
      const Target& t = (*ts)[rd->next++];
      try {
        std::string body = co_await c->get(engine::container_path(t.id, "/stats?stream=false&one-shot=true"));
        if (auto s = docker::parse_api_stats(body, t.network_mode)) rd->out->by_id[t.id] = *s;
      } catch (const engine::EngineError& e) {
        ++rd->failed;
        log::debug("stats from the engine API failed", {{"id", docker::short_id(t.id)}, {"error", e.what()}});
      }
    }
  };
  const unsigned n = std::max(1u, std::min<unsigned>(options_.in_flight, unsigned(targets->size())));
  rd->running = n;
  // The workers end by themselves (every call has a deadline); a worker's unexpected
  // exception ends only that worker, the others finish the round.
  for (unsigned i = 0; i < n; ++i)
    asio::co_spawn(ex_, worker(rd, targets, client), [rd](std::exception_ptr) {
      if (--rd->running == 0) rd->done.cancel();
    });
  co_await rd->done.async_wait(use_tuple);
  rd->out->polled_at = state::Clock::now();
  const std::size_t got = rd->out->by_id.size();
  model_.set_api_stats(rd->out);
  model_.publish();
  log::debug("stats from the engine API polled",
             {{"containers", targets->size()}, {"answered", got}, {"failed", rd->failed}});
}

asio::awaitable<void> ApiStatsPoller::run() {
  return repeat([this]() -> asio::awaitable<std::chrono::milliseconds> {
    // Engine down: look again soon, so that the first round follows the connect.
    if (!model_.snapshot()->engine.up) co_return std::chrono::seconds(1);
    try {
      co_await round();
    } catch (const engine::EngineError& e) {
      log::debug("stats from the engine API: round failed", {{"error", e.what()}});
    }
    co_return options_.interval;
  });
}

}  // namespace composewatch::jobs
