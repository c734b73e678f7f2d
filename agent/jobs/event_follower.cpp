#include "composewatch/jobs/event_follower.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "composewatch/engine/resume.h"
#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {
std::int64_t now_nano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
// The resume point is this much before the stream was last known live: an event stamped
// just before the end may still have been on its way. Replayed duplicates are recognised.
constexpr std::int64_t kResumeMarginNano = 1'000'000'000;
// The keys kept with a saved position: what a replay from the resume point repeats, and
// what tells a container's StartedAt/FinishedAt was seen as an event.
constexpr std::int64_t kRecentKeysNano = 10'000'000'000;
}  // namespace

std::int64_t EventFollower::live_until() const {
  // On a unix socket an engine that is alive delivers every event to an open stream, and
  // its end is seen at once. Over TCP (or when the probe gave up) an open stream proves
  // nothing by itself: the last line, probe answer or connect is the last moment known live.
  if (endpoint_.kind == engine::Endpoint::Kind::unix_socket && !liveness_failed_) return now_nano();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(last_known_live_.time_since_epoch()).count();
}

state::StreamPosition EventFollower::position() const {
  state::StreamPosition p;
  p.live_until_nano = stream_open_ ? live_until() : live_until_nano_;
  if (p.live_until_nano > 0) p.recent = dedup_.recent(p.live_until_nano - kRecentKeysNano);
  return p;
}

void EventFollower::restore(const state::StreamPosition& saved) {
  live_until_nano_ = saved.live_until_nano;
  dedup_.remember(saved.recent);
}

// Inspectors sleep on a timer that never expires by itself; enqueue cancels it.
struct EventFollower::Wakeup {
  explicit Wakeup(const asio::any_io_executor& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
};

EventFollower::EventFollower(asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model, EventFollowerOptions options)
    : ex_(std::move(ex)),
      endpoint_(std::move(endpoint)),
      model_(model),
      options_(options),
      wakeup_(std::make_unique<Wakeup>(ex_)) {}

EventFollower::~EventFollower() = default;

void EventFollower::enqueue_inspect(const std::string& id) {
  if (!inspect_pending_.insert(id).second) return;  // already queued: one answer serves both
  inspect_queue_.push_back(id);
  wakeup_->timer.cancel_one();
}

void EventFollower::on_line(std::string_view line) {
  auto parsed = docker::parse_event(line);
  if (!parsed.event) {
    ++parse_errors_;
    log::warn("engine event stream: skipped a line", {{"error", parsed.error}, {"bytes", line.size()}});
    return;
  }
  const docker::Event& e = *parsed.event;
  if (!dedup_.first_time(e)) return;  // replayed after a reconnect: already counted
  apply(e);
}

void EventFollower::apply(const docker::Event& e) {
  const std::uint64_t unreported = model_.host_oom_attributions();
  if (model_.apply(e) == state::Followup::inspect) enqueue_inspect(e.actor_id);
  if (e.type != "container" || e.actor_id.empty()) return;
  const state::ContainerRecord* record = model_.record_of(e);
  if (model_.host_oom_attributions() != unreported && record)
    log::info("OOM kill counted from the kernel's count: the container died by a SIGKILL Docker did not send, "
              "with no oom event or OOMKilled flag yet",
              {{"container", record->name}, {"id", docker::short_id(e.actor_id)}});
  for (const auto& l : listeners_)
    if (l.event) l.event(e, record);
}

void EventFollower::reconcile(const std::vector<docker::ContainerInfo>& all) {
  model_.reconcile(all);
  for (const auto& l : listeners_)
    if (l.listed) l.listed();
}

asio::awaitable<void> EventFollower::inspector() {
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
    } catch (const engine::EngineError& e) {
      // The stream notices a dead engine too; the re-list after reconnecting repairs this.
      log::debug("inspect failed", {{"id", docker::short_id(id)}, {"error", e.what()}});
    }
  }
}

asio::awaitable<void> EventFollower::connect_and_follow(bool& established) {
  auto client = std::make_shared<engine::Client>(ex_, endpoint_, options_.client);
  co_await client->negotiate();
  engine::VersionInfo version = co_await client->version();
  model_.set_engine_info(version.version, version.api_version);

  // Where to resume: the last moment the stream was known live (its end, or the saved
  // position of an agent restart), not only the last event: a quiet host has none.
  std::optional<std::int64_t> since;
  if (live_until_nano_ > 0)
    since = live_until_nano_ - kResumeMarginNano;
  else if (dedup_.newest_time_nano() > 0)
    since = dedup_.newest_time_nano();

  // What happened while we did not look, as far as the engine still holds it: a bounded
  // request up to now, then the live stream from that moment (since is inclusive, so
  // nothing falls between; the overlap is recognised as replayed).
  std::int64_t replay_first = 0, until = now_nano();
  std::size_t replayed = 0;
  if (since) {
    const std::string body = co_await client->get("/events?since=" + docker::format_since(*since) + "&until=" + docker::format_since(until));
    docker::LineSplitter lines(options_.client.event_line_limit);
    lines.feed(body, [&](std::string_view line) {
      if (auto parsed = docker::parse_event(line); parsed.event) {
        if (replayed++ == 0) replay_first = parsed.event->time_nano;
      }
      on_line(line);
    });
    if (lines.pending() > 0) lines.feed("\n", [&](std::string_view line) { on_line(line); });
  }
  auto stream = co_await client->events(since ? std::optional<std::int64_t>(until) : std::nullopt);
  last_known_live_ = std::chrono::system_clock::now();
  if (connected_before_) model_.count_reconnect();
  stream_open_ = true;
  liveness_failed_ = false;
  struct StreamEnd {
    EventFollower& t;
    ~StreamEnd() {
      t.stream_open_ = false;
      t.live_until_nano_ = t.live_until();
    }
  } stream_end{*this};

  auto infos = co_await client->inspect_all();
  // Up once the listing answered too: an engine that subscribes but hangs on listings
  // (seen during a mass `docker rm -f`) does not serve the agent.
  model_.set_engine_up(true);
  reconcile(infos);
  if (since) {
    const auto check = engine::check_resume(infos, *since, replay_first, replayed, until,
                                    [this](std::string_view id, std::string_view action, std::int64_t near) {
                                      return dedup_.seen_near(id, action, near, engine::kEventStateTolerance);
                                    });
    for (const auto& d : check.deaths)
      model_.count_missed_death(d.id, d.name, d.exit_code, d.oom_killed, d.started_again, d.finished_at);
    model_.set_event_gap(check.gap_seconds, std::chrono::system_clock::time_point(std::chrono::nanoseconds(until)));
    if (check.gap_seconds > 0 || !check.deaths.empty() || !check.missed_starts.empty()) {
      std::string names;
      for (const auto& d : check.deaths) names += (names.empty() ? "" : ",") + d.name;
      std::string started;
      for (const auto& n : check.missed_starts) started += (started.empty() ? "" : ",") + n;
      log::warn("events were missed while the stream was down: the engine could not replay them all",
                {{"since", docker::format_since(*since)},
                 {"gap_seconds", check.gap_seconds},
                 {"replayed", replayed},
                 {"buffer_overrun", check.buffer_overrun},
                 {"deaths_counted_from_state", names},
                 {"starts_without_event", started}});
    }
  }
  model_.set_ready(true);
  model_.publish();
  client_ = client;
  wakeup_->timer.cancel();
  log::info("connected to the Docker engine",
            {{"version", version.version},
             {"host", endpoint_.text},
             {"api_version", client->api_version()},
             {"containers", infos.size()},
             {"resumed_since", since ? docker::format_since(*since) : std::string()},
             {"replayed", replayed}});
  connected_before_ = true;
  established = true;
  last_error_.clear();

  // The stream and, beside it, the probe that closes it when the engine stops answering.
  using namespace boost::asio::experimental::awaitable_operators;
  engine::Liveness liveness(ex_, *client, options_.liveness, [this](auto t) { last_known_live_ = t; });
  co_await (read_events(*stream) || liveness.guard(*stream));
  model_.publish();
  client_.reset();
  if (liveness.failure()) {
    // The engine stopped answering some time before the probe gave up: resume from the
    // last moment it was known live, not from now.
    liveness_failed_ = true;
    throw *liveness.failure();
  }
  throw engine::EngineError(engine::EngineError::Kind::unreachable, "the engine closed the event stream");
}

asio::awaitable<void> EventFollower::read_events(engine::EventStream& stream) {
  using Clock = std::chrono::system_clock;
  parse_errors_counted_ = parse_errors_;
  dropped_lines_counted_ = 0;
  auto handle = [this](std::string_view line) { on_line(line); };
  bool more = true;
  while (more) {
    more = co_await stream.read(handle);
    if (more) last_known_live_ = Clock::now();
    count_stream_errors(stream, !more);
    model_.publish();
  }
}

void EventFollower::count_stream_errors(const engine::EventStream& stream, bool ended) {
  state::StreamErrors more;
  more.parse = parse_errors_ - parse_errors_counted_;
  more.oversized = stream.dropped_lines() - dropped_lines_counted_;
  more.truncated = ended && stream.pending_bytes() > 0 ? 1 : 0;
  if (more.oversized) log::warn("engine event stream: dropped an oversized line", {{"lines", more.oversized}});
  if (more.truncated) log::warn("engine event stream ended in the middle of a line", {{"bytes", stream.pending_bytes()}});
  parse_errors_counted_ = parse_errors_;
  dropped_lines_counted_ = stream.dropped_lines();
  if (more.parse || more.oversized || more.truncated) model_.count_stream_errors(more);
}

asio::awaitable<void> EventFollower::run() {
  using namespace boost::asio::experimental::awaitable_operators;
  // Two inspectors: follow-up inspects overlap, but stay few beside the event stream.
  co_await (follow() && inspector() && inspector());
}

asio::awaitable<void> EventFollower::follow() {
  asio::steady_timer timer(ex_);
  auto backoff = options_.backoff_initial;
  for (;;) {
    bool established = false;
    std::string error;
    try {
      co_await connect_and_follow(established);
    } catch (const std::exception& e) {
      error = e.what();
      // Say it once at warn level; repeats of the same failure go to debug.
      if (e.what() != last_error_) {
        log::warn("engine unavailable", {{"error", e.what()}});
        last_error_ = e.what();
      } else {
        log::debug("engine unavailable", {{"error", e.what()}});
      }
    }
    client_.reset();
    model_.set_engine_up(false, std::move(error));
    model_.publish();
    if (established) backoff = options_.backoff_initial;
    timer.expires_after(backoff);
    co_await timer.async_wait(use_tuple);
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

}  // namespace composewatch::jobs
