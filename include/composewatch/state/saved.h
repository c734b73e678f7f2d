#pragma once
// What the agent keeps across its own restarts (--state.dir/state.json): the counters of
// every container name it still reports, the events counted by type and action, and where
// the event stream was when the state was taken, so that a restarted agent resumes the
// stream with `since=` and counts what happened while it was down.
//
// The file is JSON with a format name and a version. Decoding is pure and never throws:
// anything that is not a state file of a version this agent reads is an error naming
// why (the caller sets the file aside and starts from nothing).

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/docker/event.h"

namespace composewatch::state {

inline constexpr std::string_view kSavedStateFormat = "composewatch-state";
inline constexpr int kSavedStateVersion = 1;

// Where the event stream stood: everything the engine emitted before `live_until_nano`
// has been counted (the stream was open and answering then), and the keys of the
// newest events counted, which a replay from a little earlier will repeat.
struct StreamPosition {
  std::int64_t live_until_nano = 0;  // 0: the stream was never open
  std::vector<docker::EventKey> recent;
};

// Why a container exited (docs/resources.md, "How exits are classified"): killed by the
// kernel's OOM killer (`oom`); stopped from outside — docker stop/kill/restart, Compose,
// the engine, auto-heal (`stopped`); ran to completion with code 0 (`completed`); or the
// application failed (`error`). The `reason` label of the exit series.
enum class ExitReason { completed, stopped, oom, error };
std::string_view to_string(ExitReason r);
std::optional<ExitReason> exit_reason_from(std::string_view text);  // nullopt when not one of the four

// What an exit code alone says, when nothing else is known (a death the agent did not
// see, a container found exited, counts of an older state file): 0 completed; 130, 137,
// 143 (SIGINT, SIGKILL, SIGTERM — signals sent from outside the application) stopped;
// anything else error. The engine's OOMKilled flag, when set, makes it oom.
ExitReason exit_reason_of_code(int exit_code, bool oom_killed = false);

struct ExitKey {
  int code = 0;
  ExitReason reason = ExitReason::error;
  auto operator<=>(const ExitKey&) const = default;
};

// Counted from events, keyed by container name: they survive re-creation under the
// same name and stay for `retention` after the container is removed.
struct Counters {
  std::uint64_t oom_kills = 0;
  std::uint64_t restarts = 0;
  std::map<ExitKey, std::uint64_t> exits;  // by exit code and reason
  bool operator==(const Counters&) const = default;

  // The exits by code alone, every reason summed.
  std::map<int, std::uint64_t> exits_by_code() const;
};

// The last exit of the container a name stands for: what last_exit_reason exports while
// the container is down.
struct LastExit {
  std::string id;  // the container that exited; another container under the name knows nothing of it
  int code = 0;
  ExitReason reason = ExitReason::error;
  double at = 0;  // seconds since the epoch; 0 when unknown (classified from inspect)
  bool operator==(const LastExit&) const = default;
};

// The OOM kills of one container instance (from one start to the next), counted twice
// over: from `oom` events and from the cgroup's own oom_kill counter. The counter gets
// max(events, cgroup) for the instance, so a kill seen both ways counts once, whichever
// is seen first, and a kill the event stream missed is still counted.
struct OomInstance {
  int pid = 0;                  // init of the instance; 0 until an inspect after its start says
  std::uint64_t events = 0;     // oom events applied for this instance
  std::uint64_t counted = 0;    // what the counter already holds for this instance
  bool operator==(const OomInstance&) const = default;
};

// One container name as the file keeps it. The file spells the counters out at the top
// level ("oom_kills", "restarts", "exits") and the instance as "oom_instance". "exits"
// keeps the count by code alone (what agents before exit classes read); the classes are
// in "exits_by_reason" ({"error": {"3": 2}, …}). A file without it (an older agent's) has
// its exits classified by code (exit_reason_of_code).
struct SavedContainer {
  std::string name, id, project, service, image;
  std::string state;  // as last known: the page and /metrics show it until the first listing
  bool present = true;
  std::optional<double> removed_at;  // seconds since the epoch, when not present
  Counters counters;
  bool died_since_start = false;
  // The cgroup OOM counter's instance: without it a running container's kills would be
  // counted again from its cgroup after the restart.
  OomInstance oom_instance;
  // Optional in the file ("last_exit", "last_oom_kill_at"): files of agents before exit
  // classes load without them (their "exits" by code alone are classified by code).
  std::optional<LastExit> last_exit;
  std::optional<double> last_oom_kill_at;  // seconds since the epoch
  // A stop asked since the last start (ContainerRecord::stop_requested), and the OOM kills
  // of the instance then: a stop under way when the agent restarts still classifies the
  // exit ("stop_requested": ooms_at_stop, present only while asked).
  std::optional<std::uint64_t> stop_requested_at_ooms;

  bool operator==(const SavedContainer&) const = default;
};

struct SavedEventCount {
  std::string type, action;
  std::uint64_t count = 0;
  bool operator==(const SavedEventCount&) const = default;
};

// One container's auto-heal episode, kept by the healer per container (jobs/healer.h)
// and in the state file; the auto-heal policy (autoheal/policy.h) decides on it as
// autoheal::History. The file keeps the times as seconds since the epoch.
struct AutohealHistory {
  using Clock = std::chrono::system_clock;
  std::optional<Clock::time_point> unhealthy_since;  // the health event that made it unhealthy; empty while not unhealthy
  std::vector<Clock::time_point> attempts;           // attempts within the last window, oldest first
  std::optional<Clock::time_point> last_attempt;
  unsigned episode_attempts = 0;  // attempts since it was last healthy: the backoff step
  bool given_up = false;
  bool backoff_reported = false;  // the current wait for backoff was counted
  bool paused_reported = false;   // the current pause was counted
  bool operator==(const AutohealHistory&) const = default;
};

// One container's auto-heal history and counters, by name (counters outlive a re-create,
// as the model's do): what the healer keeps and publishes in snapshots, and what an agent
// restart keeps, so that a restart in the middle of a grace period neither acts early nor
// repeats an attempt.
struct AutohealRecord {
  std::string name, id, project, service;
  AutohealHistory history;  // of the container `id`; another container under the name starts anew
  std::map<std::string, std::uint64_t> actions;     // by action: restart, stop
  std::map<std::string, std::uint64_t> suppressed;  // by reason

  bool operator==(const AutohealRecord&) const = default;
};

struct SavedState {
  double saved_at = 0;  // seconds since the epoch
  StreamPosition stream;
  std::uint64_t stream_reconnects = 0;
  std::vector<SavedEventCount> events;
  std::vector<SavedContainer> containers;
  // Optional in the file ("autoheal"): files of agents before auto-heal load with none.
  std::vector<AutohealRecord> autoheal;
  // When each image was last seen used by a container or named by an image event, by
  // image id or normalised reference (StateModel::image_last_seen); optional in the file
  // ("images_seen"), at most kMaxImagesSeen entries.
  std::map<std::string, double> images_seen;
};

inline constexpr std::size_t kMaxImagesSeen = 10'000;

// The file's text (one JSON object).
std::string encode_saved_state(const SavedState& s);

struct DecodedState {
  std::optional<SavedState> state;
  std::string error;  // when state is empty: why ("not JSON: …", "a newer version (2) …", …)
};
DecodedState decode_saved_state(std::string_view text);

}  // namespace composewatch::state
