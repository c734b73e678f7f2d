#pragma once
// The auto-heal decision, pure: one container's health history, the `autoheal:` settings
// and a clock the caller passes in. No I/O; the healer (autoheal/healer.h) tells it what
// the event stream and the state model say (observe) and carries out what it decides.
//
// The rules (docs/autoheal.md):
// - only a running container that is opted in is ever acted on;
// - not before `unhealthy_for` has passed since the health event that made it unhealthy
//   (a start or a die starts the count over: health checks begin anew);
// - within one episode (until the container is healthy again) the attempts are spaced by
//   `backoff`, doubling: backoff, 2×backoff, 4×backoff, …;
// - at most `max_attempts` within any `window` (sliding; healthy or not): then it gives
//   up and reports it until an attempt leaves the window, or the container turns healthy,
//   or a user acts on it;
// - a user's kill, stop, destroy or re-create ends the episode (suppressed: user_action);
//   a paused container waits (paused); a dry run counts would-be attempts like real ones
//   (the same spacing and limit) but acts on nothing (dry_run).
//
// Thread-safety: none needed; values and const functions.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/config/config.h"

namespace composewatch::autoheal {

using Clock = std::chrono::system_clock;

// The container label that opts a container in (value "true").
inline constexpr std::string_view kOptInLabel = "composewatch.autoheal";

enum class Reason { backoff, limit, user_action, dry_run, paused };
// The `reason` label: backoff, limit, user_action, dry_run, paused.
std::string_view reason_name(Reason r);
inline constexpr Reason kReasons[] = {Reason::backoff, Reason::limit, Reason::user_action, Reason::dry_run,
                                      Reason::paused};

// One container's episode, kept by the healer per container (and in the state file).
struct History {
  std::optional<Clock::time_point> unhealthy_since;  // empty while not unhealthy
  std::vector<Clock::time_point> attempts;           // attempts within the last window, oldest first
  std::optional<Clock::time_point> last_attempt;
  unsigned episode_attempts = 0;  // attempts since it was last healthy: the backoff step
  bool given_up = false;
  bool backoff_reported = false;  // the current wait for backoff was counted
  bool paused_reported = false;   // the current pause was counted
  bool operator==(const History&) const = default;
};

// What happened to the container, as the healer reads the event stream.
enum class Change {
  unhealthy,         // health_status: unhealthy
  healthy,           // health_status: healthy: the episode is over
  health_restarted,  // start, die, health_status: starting: its checks begin anew
  user_action,       // kill, stop or destroy not asked by composewatch, or a re-create of its service
  unpaused,
};

// What a container event means for that container's history. `action` and `detail` as
// engine::Event splits them ("health_status", "unhealthy"), `signal` the kill's attribute,
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
  // project and service listed in autoheal.services.
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

}  // namespace composewatch::autoheal
