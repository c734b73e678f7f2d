#include "composewatch/engine/resume.h"

#include <algorithm>

namespace composewatch::engine {

ResumeCheck check_resume(const std::vector<docker::ContainerInfo>& listing, std::int64_t since_nano,
                         std::int64_t replay_first_nano, std::size_t replay_count, std::int64_t until_nano,
                         const SeenEvent& seen) {
  ResumeCheck out;
  if (since_nano <= 0) return out;  // never connected before: nothing to resume
  const auto nano = [](double seconds) { return std::int64_t(seconds * 1e9); };
  // Only what happened before the replay ended: later events are in the live stream, not
  // read yet (the listing comes after the subscription). Near that end, the event may have
  // been stamped after it though the state says before.
  const std::int64_t horizon = until_nano - kEventStateTolerance;
  const auto in_gap = [&](const std::optional<double>& t) {
    return t && nano(*t) > since_nano && nano(*t) < horizon;
  };
  for (const auto& c : listing) {
    const bool started_after = in_gap(c.started_at);
    const bool finished_after = in_gap(c.finished_at);
    // A death: the container is not running, or it runs again since (a policy restart).
    if (finished_after && !seen(c.id, "die", nano(*c.finished_at))) {
      const bool again = c.started_at && *c.started_at > *c.finished_at;
      out.deaths.push_back({c.id, c.name, c.exit_code, c.oom_killed, again, c.finished_at});
    }
    if (started_after && !seen(c.id, "start", nano(*c.started_at))) out.missed_starts.push_back(c.name);
  }
  out.buffer_overrun = replay_count >= kEngineEventBuffer && replay_first_nano > since_nano;
  if (out.buffer_overrun || !out.deaths.empty() || !out.missed_starts.empty()) {
    const std::int64_t covered_from = replay_count > 0 ? replay_first_nano : until_nano;
    out.gap_seconds = std::max<double>(0, double(covered_from - since_nano) / 1e9);
  }
  return out;
}

}  // namespace composewatch::engine
