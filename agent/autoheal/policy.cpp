#include "composewatch/autoheal/policy.h"

#include <algorithm>
#include <charconv>

#include "composewatch/docker/container.h"

namespace composewatch::autoheal {

std::string_view reason_name(Reason r) {
  switch (r) {
    case Reason::backoff: return "backoff";
    case Reason::limit: return "limit";
    case Reason::user_action: return "user_action";
    case Reason::dry_run: return "dry_run";
    case Reason::paused: return "paused";
  }
  return "backoff";
}

namespace {
bool stopping_signal(std::string_view signal) {
  if (signal.empty()) return true;
  int n = 0;
  if (std::from_chars(signal.data(), signal.data() + signal.size(), n).ptr == signal.data() + signal.size())
    return n == 2 || n == 3 || n == 9 || n == 15;
  if (signal.substr(0, 3) == "SIG") signal.remove_prefix(3);
  return signal == "KILL" || signal == "TERM" || signal == "INT" || signal == "QUIT";
}
}  // namespace

std::optional<Change> change_of(std::string_view action, std::string_view detail, std::string_view signal,
                                bool ours) {
  if (action == "health_status") {
    if (detail == "unhealthy") return Change::unhealthy;
    if (detail == "healthy") return Change::healthy;
    return Change::health_restarted;  // starting
  }
  if (action == "start" || action == "die") return Change::health_restarted;
  if (action == "unpause") return Change::unpaused;
  if (ours) return std::nullopt;
  if ((action == "kill" && stopping_signal(signal)) || action == "stop" || action == "destroy")
    return Change::user_action;
  return std::nullopt;
}

bool is_one_off(const std::map<std::string, std::string>& labels) {
  // The value Compose v1 and v2 both write; the same reading as docker::ComposeLabels.
  auto it = labels.find(std::string(docker::kLabelOneoff));
  return it != labels.end() && it->second == "True";
}

bool replaces_service_containers(std::string_view action, bool one_off) { return action == "create" && !one_off; }

std::chrono::seconds stop_wait(std::optional<std::int64_t> stop_timeout, std::chrono::seconds longest_wait) {
  if (!stop_timeout) return std::min(kEngineDefaultStopTimeout, longest_wait);
  if (*stop_timeout < 0 || *stop_timeout > longest_wait.count()) return longest_wait;
  return std::chrono::seconds(*stop_timeout);
}

std::chrono::milliseconds request_deadline(std::optional<std::int64_t> stop_timeout, std::chrono::seconds margin,
                                           std::chrono::seconds longest_wait) {
  return stop_wait(stop_timeout, longest_wait) + margin;
}

Policy::Policy(config::AutohealConfig settings) : settings_(std::move(settings)) {}

bool Policy::opted_in(const std::map<std::string, std::string>& labels, const std::string& project,
                      const std::string& service) const {
  if (is_one_off(labels)) return false;
  if (auto it = labels.find(std::string(kOptInLabel)); it != labels.end() && it->second == "true") return true;
  if (project.empty() || service.empty()) return false;
  return std::any_of(settings_.services.begin(), settings_.services.end(),
                     [&](const config::AutohealServiceConfig& s) { return s.project == project && s.service == service; });
}

Clock::duration Policy::backoff_after(unsigned n) const {
  // 2^16 × backoff is far beyond any sensible window; the cap keeps the shift defined.
  const unsigned shift = std::min(n == 0 ? 0u : n - 1, 16u);
  return std::chrono::duration_cast<Clock::duration>(settings_.backoff) * (std::int64_t(1) << shift);
}

std::optional<Reason> Policy::observe(History& h, Change c, Clock::time_point at) const {
  switch (c) {
    case Change::unhealthy:
      if (!h.unhealthy_since) h.unhealthy_since = at;
      return std::nullopt;
    case Change::healthy:
      h.unhealthy_since.reset();
      h.episode_attempts = 0;
      h.given_up = false;
      h.backoff_reported = h.paused_reported = false;
      return std::nullopt;
    case Change::health_restarted:
      h.unhealthy_since.reset();
      h.backoff_reported = h.paused_reported = false;
      return std::nullopt;
    case Change::user_action: {
      const bool pending = h.unhealthy_since.has_value() || h.given_up;
      h.unhealthy_since.reset();
      h.episode_attempts = 0;
      h.given_up = false;
      h.backoff_reported = h.paused_reported = false;
      return pending ? std::optional(Reason::user_action) : std::nullopt;
    }
    case Change::unpaused:
      h.paused_reported = false;
      return std::nullopt;
  }
  return std::nullopt;
}

Decision Policy::decide(History& h, const Facts& f, Clock::time_point now) const {
  Decision d;
  if (!f.opted_in || !f.running || !h.unhealthy_since) return d;

  // The window slides: attempts older than it no longer count.
  const auto window = std::chrono::duration_cast<Clock::duration>(settings_.window);
  h.attempts.erase(h.attempts.begin(), std::find_if(h.attempts.begin(), h.attempts.end(),
                                                    [&](Clock::time_point t) { return t > now - window; }));

  const auto due = *h.unhealthy_since + std::chrono::duration_cast<Clock::duration>(settings_.unhealthy_for);
  if (now < due) {
    d.next = due;
    return d;
  }
  if (f.paused) {
    // Its checks do not run while paused; an unpause is a change and wakes the healer.
    if (h.paused_reported) return d;
    h.paused_reported = true;
    d.kind = Decision::Kind::suppress;
    d.reason = Reason::paused;
    return d;
  }
  if (h.attempts.size() >= settings_.max_attempts) {
    d.next = h.attempts.front() + window;
    if (h.given_up) return d;
    h.given_up = true;
    d.kind = Decision::Kind::suppress;
    d.reason = Reason::limit;
    d.gave_up = true;
    return d;
  }
  h.given_up = false;
  if (h.last_attempt && h.episode_attempts > 0) {
    const auto allowed = *h.last_attempt + backoff_after(h.episode_attempts);
    if (now < allowed) {
      d.next = allowed;
      if (h.backoff_reported) return d;
      h.backoff_reported = true;
      d.kind = Decision::Kind::suppress;
      d.reason = Reason::backoff;
      return d;
    }
  }
  h.attempts.push_back(now);
  h.last_attempt = now;
  ++h.episode_attempts;
  h.backoff_reported = false;
  d.attempt = unsigned(h.attempts.size());
  // A real action restarts the checks (the start is a change); a dry run leaves the
  // container unhealthy, and the next would-be attempt comes after the backoff.
  d.next = now + backoff_after(h.episode_attempts);
  if (settings_.dry_run) {
    d.kind = Decision::Kind::suppress;
    d.reason = Reason::dry_run;
  } else {
    d.kind = Decision::Kind::act;
  }
  return d;
}

void ProjectHolds::observe(const std::string& project, Clock::time_point at, Clock::duration stopping) {
  if (project.empty()) return;  // not Compose's: nothing groups it with others
  const auto until = at + std::max(stopping, Clock::duration::zero()) + quiet_;
  auto [it, inserted] = until_.try_emplace(project, until);
  if (!inserted) it->second = std::max(it->second, until);
}

std::optional<Clock::time_point> ProjectHolds::held_until(const std::string& project, Clock::time_point now) const {
  auto it = until_.find(project);
  if (it == until_.end() || it->second <= now) return std::nullopt;
  return it->second;
}

void ProjectHolds::expire(Clock::time_point now) {
  std::erase_if(until_, [&](const auto& kv) { return kv.second <= now; });
}

}  // namespace composewatch::autoheal
