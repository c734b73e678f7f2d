#pragma once
// The auto-heal decision, pure: one container's health history, the `autoheal:` settings
// and a clock the caller passes in. No I/O; the healer (jobs/healer.h) tells it what
// the event stream and the state model say (observe) and carries out what it decides.
//
// The rules (docs/autoheal.md):
// - only a running container that is opted in is ever acted on, and never a Compose one-off
//   (`docker compose run`: label com.docker.compose.oneoff=True), whatever its labels say:
//   it is someone's task or shell, not a service replica, and it copies the service's labels;
// - not before `unhealthy_for` has passed since the health event that made it unhealthy
//   (a start or a die starts the count over: health checks begin anew);
// - within one episode (until the container is healthy again) the attempts are spaced by
//   `backoff`, doubling: backoff, 2×backoff, 4×backoff, …;
// - at most `max_attempts` within any `window` (sliding; healthy or not): then it gives
//   up and reports it until an attempt leaves the window, or the container turns healthy,
//   or a user acts on it;
// - a user's kill, stop, destroy or re-create ends the episode (suppressed: user_action);
//   a one-off's create or destroy is no re-create of its service;
// - while a user or Compose stops or removes containers of its Compose project (`compose
//   down`, `compose stop`), it waits (ProjectHolds);
//   a paused container waits (paused); a dry run counts would-be attempts like real ones
//   (the same spacing and limit) but acts on nothing (dry_run).
//
// Thread-safety: none needed; values and const functions.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/config/config.h"
#include "composewatch/state/saved.h"

namespace composewatch::autoheal {

using Clock = std::chrono::system_clock;

// The container label that opts a container in (value "true").
inline constexpr std::string_view kOptInLabel = "composewatch.autoheal";

// How long the engine waits for a container to stop before SIGKILL when neither the
// request's `t` nor the container's Config.StopTimeout says.
inline constexpr std::chrono::seconds kEngineDefaultStopTimeout{10};

// A Compose one-off (`docker compose run`, `docker-compose run`): the label
// com.docker.compose.oneoff=True. Never acted on, never a dependent, and its lifecycle
// says nothing about its service's containers.
bool is_one_off(const std::map<std::string, std::string>& labels);

// Whether a container event of another container of the same Compose project and service
// ends this one's episode as a user's action: the create of a service container (Compose
// re-creating or scaling the service). A one-off's create replaces nothing.
bool replaces_service_containers(std::string_view action, bool one_off);

// How long the engine waits for a container to stop before SIGKILL when a stop or
// restart is sent without `t`, as far as auto-heal waits for it: the container's own
// `stop_timeout` (Config.StopTimeout), absent: the engine's 10 s. A negative one (the
// engine waits without bound) or one longer than `longest_wait` counts as `longest_wait`.
std::chrono::seconds stop_wait(std::optional<std::int64_t> stop_timeout, std::chrono::seconds longest_wait);

// The deadline of such a request: stop_wait plus `margin` (a restart also starts the
// container). Past it the call is reported as failed while the engine carries on.
std::chrono::milliseconds request_deadline(std::optional<std::int64_t> stop_timeout, std::chrono::seconds margin,
                                           std::chrono::seconds longest_wait);

enum class Reason { backoff, limit, user_action, dry_run, paused };
// The `reason` label: backoff, limit, user_action, dry_run, paused.
std::string_view reason_name(Reason r);
inline constexpr Reason kReasons[] = {Reason::backoff, Reason::limit, Reason::user_action, Reason::dry_run,
                                      Reason::paused};

// One container's episode, kept by the healer per container (in its state::AutohealRecord,
// which the snapshots and the state file carry).
using History = state::AutohealHistory;

// What happened to the container, as the healer reads the event stream.
enum class Change {
  unhealthy,         // health_status: unhealthy
  healthy,           // health_status: healthy: the episode is over
  health_restarted,  // start, die, health_status: starting: its checks begin anew
  user_action,       // kill, stop or destroy not asked by composewatch, or a re-create of its service
  unpaused,
};

// What a container event means for that container's history. `action` and `detail` as
// docker::Event splits them ("health_status", "unhealthy"), `signal` the kill's attribute,
// `ours` whether composewatch asked for it (its own restart's kill/die/stop/start/restart).
// A kill is a user stopping the container only with SIGKILL, SIGTERM, SIGINT or SIGQUIT
// (or none given): `docker kill -s HUP` asks a process to reload. nullopt: nothing to
// fold in (create and rename, which concern other containers or names, are the healer's).
std::optional<Change> change_of(std::string_view action, std::string_view detail, std::string_view signal, bool ours);

// What the healer knows of the container now (from the state model).
struct Facts {
  bool opted_in = false;
  bool running = false;  // running or paused
  bool paused = false;
};

struct Decision {
  enum class Kind {
    nothing,   // nothing is due; look again at `next` (or on the next change when max())
    act,       // restart or stop it now: attempt `attempt` of the window
    suppress,  // count `reason` (and log it); look again at `next`
  };
  Kind kind = Kind::nothing;
  Reason reason = Reason::backoff;  // with suppress
  unsigned attempt = 0;             // act, suppress dry_run: 1-based, within the window
  bool gave_up = false;             // this decision used up max_attempts
  Clock::time_point next = Clock::time_point::max();
};

class Policy {
 public:
  explicit Policy(config::AutohealConfig settings);
  const config::AutohealConfig& settings() const { return settings_; }

  // Whether the container is opted in: the label composewatch.autoheal=true, or its
  // project and service listed in autoheal.services; a one-off never is.
  bool opted_in(const std::map<std::string, std::string>& labels, const std::string& project,
                const std::string& service) const;

  // Folds in a change seen at `at`. Returns user_action when it ended an episode that was
  // heading for an action (the suppression to count), else nullopt.
  std::optional<Reason> observe(History& h, Change c, Clock::time_point at) const;

  // What to do now. `act` and dry_run record the attempt in `h` (take a copy to decide
  // without committing). Never acts on a container not opted in or not running.
  Decision decide(History& h, const Facts& f, Clock::time_point now) const;

  // The wait after the n-th attempt of an episode (n >= 1): backoff × 2^(n-1), capped.
  Clock::duration backoff_after(unsigned n) const;

 private:
  config::AutohealConfig settings_;
};

// Compose projects a user or Compose is stopping or bringing down. `compose down` stops
// the project's containers one service after the other (the dependents first, each for up
// to its stop timeout), then removes them: an unhealthy container whose turn has not come
// yet must not be restarted in the middle of it (its restart races Compose's stop and
// remove). So a user's kill, stop or destroy of any service container of a project (not
// composewatch's own, not a one-off's) holds auto-heal off the whole project until
// `quiet` after it, and a kill (a stop beginning) until the killed container's stop
// timeout has also passed. A project that is not going down is only delayed: when the
// hold ends, a container still running and unhealthy is acted on.
//
// Thread-safety: none; the healer's thread only.
class ProjectHolds {
 public:
  explicit ProjectHolds(Clock::duration quiet) : quiet_(quiet) {}
  // A user's stop, kill or destroy of a container of `project` at `at`; `stopping`: how
  // long that container may still take to stop (its stop timeout, for a kill; else 0).
  void observe(const std::string& project, Clock::time_point at, Clock::duration stopping = {});
  // When auto-heal may act on the project's containers again; nullopt when not held at `now`.
  std::optional<Clock::time_point> held_until(const std::string& project, Clock::time_point now) const;
  // Forgets holds that ended by `now`.
  void expire(Clock::time_point now);

 private:
  Clock::duration quiet_;
  std::map<std::string, Clock::time_point> until_;
};

}  // namespace composewatch::autoheal
