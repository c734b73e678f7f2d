#include "composewatch/engine/tracker.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "composewatch/cgroup/api_stats.h"
#include "composewatch/cgroup/reader.h"

namespace composewatch::engine {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Inspectors sleep on a timer that never expires by itself; enqueue cancels it.
struct Tracker::Wakeup {
  explicit Wakeup(const asio::any_io_executor& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
};

Tracker::Tracker(asio::any_io_executor ex, Endpoint endpoint, state::StateModel& model, TrackerOptions options)
    : ex_(std::move(ex)),
      endpoint_(std::move(endpoint)),
      model_(model),
      options_(options),
      wakeup_(std::make_unique<Wakeup>(ex_)) {}

Tracker::~Tracker() = default;

void Tracker::enqueue_inspect(const std::string& id) {
  if (!inspect_pending_.insert(id).second) return;  // already queued: one answer serves both
  inspect_queue_.push_back(id);
  wakeup_->timer.cancel_one();
}

void Tracker::on_line(std::string_view line) {
  auto parsed = parse_event(line);
  if (!parsed.event) {
    ++parse_errors_;
    spdlog::warn("engine event stream: skipped a line: {} ({} bytes)", parsed.error, line.size());
    return;
  }
  const Event& e = *parsed.event;
  if (!dedup_.first_time(e)) return;  // replayed after a reconnect: already counted
  if (model_.apply(e) == state::Followup::inspect) enqueue_inspect(e.actor_id);
}

asio::awaitable<void> Tracker::inspector() {
  for (;;) {
    while (inspect_queue_.empty() || !client_) {
      co_await wakeup_->timer.async_wait(use_tuple);
    }
    std::string id = std::move(inspect_queue_.front());
    inspect_queue_.pop_front();
    inspect_pending_.erase(id);
    auto client = client_;
    std::uint64_t seq = model_.sequence_of(id);
    try {
      auto info = co_await client->inspect(id);
      if (info) {
        model_.update(*info, seq);
        model_.publish();
      }
    } catch (const EngineError& e) {
      // The stream notices a dead engine too; the re-list after reconnecting repairs this.
      spdlog::debug("inspect {}: {}", short_id(id), e.what());
    }
  }
}

asio::awaitable<void> Tracker::connect_and_follow(bool& established) {
  auto client = std::make_shared<Client>(ex_, endpoint_, options_.client);
  co_await client->negotiate();
  VersionInfo version = co_await client->version();
  model_.set_engine_info(version.version, version.api_version);

  // Subscribe first: whatever happens while we list is in the stream.
  std::optional<std::int64_t> since;
  if (dedup_.newest_time_nano() > 0) since = dedup_.newest_time_nano();
  auto stream = co_await client->events(since);
  model_.set_engine_up(true);
  if (connected_before_) model_.count_reconnect();

  auto ids = co_await client->list_container_ids();
  std::vector<ContainerInfo> infos;
  infos.reserve(ids.size());
  for (const auto& id : ids) {
    if (auto info = co_await client->inspect(id)) infos.push_back(std::move(*info));
  }
  model_.reconcile(infos);
  model_.set_ready(true);
  model_.publish();
  client_ = client;
  wakeup_->timer.cancel();
  spdlog::info("connected to the Docker engine {} at {} (API {}), {} containers{}", version.version,
               endpoint_.text, client->api_version(), infos.size(),
               since ? ", resuming events since " + format_since(*since) : std::string());
  connected_before_ = true;
  established = true;
  last_error_.clear();

  auto handle = [this](std::string_view line) { on_line(line); };
  while (co_await stream->read(handle)) model_.publish();
  model_.publish();
  client_.reset();
  throw EngineError(EngineError::Kind::unreachable, "the engine closed the event stream");
}

void Tracker::fold_oom_kills_from(std::shared_ptr<const cgroup::Reader> reader, std::chrono::seconds every) {
  oom_reader_ = std::move(reader);
  oom_every_ = every;
}

void Tracker::poll_api_stats(ApiStatsOptions options) { api_stats_ = options; }

asio::awaitable<void> Tracker::oom_folder() {
  asio::steady_timer timer(ex_);
  for (;;) {
    timer.expires_after(oom_every_);
    co_await timer.async_wait(use_tuple);
    // On this thread, the model's writer: a few small file reads per running container.
    struct Read {
      std::string id, name;
      int pid;
      std::uint64_t kills;
    };
    std::vector<Read> reads;
    for (const auto& [name, r] : model_.containers()) {
      if (!r.present || r.state != "running" || r.pid <= 0) continue;
      if (auto n = oom_reader_->oom_kills({r.id, r.pid, r.spec.cgroup_parent, r.spec.network_mode}); n && *n > 0)
        reads.push_back({r.id, name, r.pid, *n});
    }
    bool changed = false;
    for (const auto& rd : reads) {
      if (std::uint64_t added = model_.fold_cgroup_oom_kills(rd.id, rd.pid, rd.kills)) {
        spdlog::info("container {}: {} OOM kill(s) in its cgroup that no event reported; counted", rd.name, added);
        changed = true;
      }
    }
    if (changed) model_.publish();
  }
}

asio::awaitable<void> Tracker::api_stats_round() {
  struct Target {
    std::string id, network_mode;
  };
  auto targets = std::make_shared<std::vector<Target>>();
  for (const auto& [name, r] : model_.containers())
    if (r.present && (r.state == "running" || r.state == "paused") && !r.id.empty())
      targets->push_back({r.id, r.spec.network_mode});

  ClientOptions copts = options_.client;
  copts.request_timeout = api_stats_->deadline;
  copts.connect_timeout = std::min(copts.connect_timeout, api_stats_->deadline);
  auto client = std::make_shared<Client>(ex_, endpoint_, copts);
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
  auto round = std::make_shared<Round>(ex_);
  auto worker = [](std::shared_ptr<Round> rd, std::shared_ptr<std::vector<Target>> ts,
                   std::shared_ptr<Client> c) -> asio::awaitable<void> {
    while (rd->next < ts->size()) {
      const Target& t = (*ts)[rd->next++];
      try {
        std::string body = co_await c->get("/containers/" + t.id + "/stats?stream=false&one-shot=true");
        if (auto s = cgroup::parse_api_stats(body, t.network_mode)) rd->out->by_id[t.id] = *s;
      } catch (const EngineError& e) {
        ++rd->failed;
        spdlog::debug("stats of {}: {}", short_id(t.id), e.what());
      }
    }
  };
  const unsigned n = std::max(1u, std::min<unsigned>(api_stats_->in_flight, unsigned(targets->size())));
  round->running = n;
  for (unsigned i = 0; i < n; ++i)
    asio::co_spawn(ex_, worker(round, targets, client), [round](std::exception_ptr) {
      if (--round->running == 0) round->done.cancel();
    });
  co_await round->done.async_wait(use_tuple);
  round->out->polled_at = state::Clock::now();
  std::size_t got = round->out->by_id.size();
  model_.set_api_stats(round->out);
  model_.publish();
  spdlog::debug("stats from the engine API: {} of {} containers ({} failed)", got, targets->size(), round->failed);
}

asio::awaitable<void> Tracker::api_stats_poller() {
  asio::steady_timer timer(ex_);
  for (;;) {
    auto started = std::chrono::steady_clock::now();
    if (!client_) {  // not connected: look again soon, so the first round follows the connect
      timer.expires_after(std::chrono::seconds(1));
      co_await timer.async_wait(use_tuple);
      continue;
    }
    try {
      co_await api_stats_round();
    } catch (const std::exception& e) {
      spdlog::debug("stats from the engine API: {}", e.what());
    }
    timer.expires_at(started + api_stats_->interval);
    co_await timer.async_wait(use_tuple);
  }
}

asio::awaitable<void> Tracker::run() {
  for (unsigned i = 0; i < options_.inspectors; ++i) asio::co_spawn(ex_, inspector(), asio::detached);
  if (oom_reader_) asio::co_spawn(ex_, oom_folder(), asio::detached);
  if (api_stats_) asio::co_spawn(ex_, api_stats_poller(), asio::detached);

  asio::steady_timer timer(ex_);
  auto backoff = options_.backoff_initial;
  for (;;) {
    bool established = false;
    try {
      co_await connect_and_follow(established);
    } catch (const std::exception& e) {
      // Say it once at warn level; repeats of the same failure go to debug.
      if (e.what() != last_error_) {
        spdlog::warn("{}", e.what());
        last_error_ = e.what();
      } else {
        spdlog::debug("{}", e.what());
      }
    }
    client_.reset();
    model_.set_engine_up(false);
    model_.publish();
    if (established) backoff = options_.backoff_initial;
    timer.expires_after(backoff);
    co_await timer.async_wait(use_tuple);
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

}  // namespace composewatch::engine
