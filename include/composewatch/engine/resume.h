#pragma once
// What a (re)connect can tell about the time the agent did not see: the engine replays
// only its last 256 events and loses them when it restarts, but every container it lists
// still says when it last started and finished. A start or a death after the resume point
// that no counted event tells of was missed; the replay could not cover the gap. Pure.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/docker/container.h"

namespace composewatch::engine {

inline constexpr std::size_t kEngineEventBuffer = 256;  // the daemon keeps this many events
// A container's StartedAt/FinishedAt and its start/die event's time differ by milliseconds.
inline constexpr std::int64_t kEventStateTolerance = 2'000'000'000;

struct MissedDeath {
  std::string id, name;
  int exit_code = 0;
  bool oom_killed = false;
  bool started_again = false;  // it runs again: the death was followed by a (policy) restart
  std::optional<double> finished_at;  // State.FinishedAt, seconds since the epoch
};

struct ResumeCheck {
  std::vector<MissedDeath> deaths;         // the last death of each container, when no die told of it
  std::vector<std::string> missed_starts;  // names started after the resume point without a start event
  bool buffer_overrun = false;             // the replay was a full buffer that began after the resume point
  double gap_seconds = 0;                  // how long the agent was blind beyond the replay; 0: nothing missed
};

// `since_nano`: the resume point; `replay_first_nano`/`replay_count`: the replayed events
// (0 when none); `until_nano`: when the replay ended; `seen(id, action, near_nano)`: whether
// an event of that container and action within a couple of seconds of `near_nano` was
// counted (replayed, or before the resume point).
using SeenEvent = std::function<bool(std::string_view id, std::string_view action, std::int64_t near_nano)>;
ResumeCheck check_resume(const std::vector<docker::ContainerInfo>& listing, std::int64_t since_nano,
                         std::int64_t replay_first_nano, std::size_t replay_count, std::int64_t until_nano,
                         const SeenEvent& seen);

}  // namespace composewatch::engine
