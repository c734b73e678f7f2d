#include "composewatch/state/host_oom_ledger.h"

#include <algorithm>

namespace composewatch::state {

void HostOomLedger::sample(Clock::time_point at, std::uint64_t host_kills) {
  if (!readings_.empty() && host_kills < readings_.back().kills) {
    readings_.clear();
    explained_.clear();
  }
  // Readings in time order (the clock may step back: the new one replaces later ones).
  while (!readings_.empty() && readings_.back().at > at) readings_.pop_back();
  readings_.push_back({at, host_kills});
  forget_before(at);
}

void HostOomLedger::explained(Clock::time_point at, std::uint64_t n) {
  if (readings_.empty()) return;  // nothing to hold it against
  for (std::uint64_t i = 0; i < n; ++i) explained_.push_back(at);
}

const HostOomLedger::Reading* HostOomLedger::base(Clock::time_point now) const {
  if (readings_.empty()) return nullptr;
  const Reading* b = &readings_.front();
  for (const auto& r : readings_)
    if (r.at + window_ <= now) b = &r;
  return b;
}

std::uint64_t HostOomLedger::unexplained(Clock::time_point now) const {
  const Reading* b = base(now);
  if (!b || readings_.back().kills <= b->kills) return 0;
  const std::uint64_t counted = readings_.back().kills - b->kills;
  // Kills explained after the base reading was taken; one explained just before it was
  // in its count already, and is left out (the ledger errs towards attributing nothing).
  const auto since = static_cast<std::uint64_t>(
      std::count_if(explained_.begin(), explained_.end(), [&](Clock::time_point t) { return t >= b->at; }));
  return counted > since ? counted - since : 0;
}

bool HostOomLedger::take_unexplained(Clock::time_point now, std::uint64_t host_kills_now) {
  const bool first = readings_.empty();  // the first reading is the base: nothing before it is known
  sample(now, host_kills_now);
  if (first || unexplained(now) == 0) return false;
  explained_.push_back(now);
  return true;
}

void HostOomLedger::forget_before(Clock::time_point now) {
  // Keep the base reading and everything after it; explanations older than the base
  // no longer count.
  const Reading* b = base(now);
  if (!b) return;
  const Clock::time_point keep_from = b->at;
  while (!readings_.empty() && readings_.front().at < keep_from) readings_.pop_front();
  while (!explained_.empty() && explained_.front() < keep_from) explained_.pop_front();
}

}  // namespace composewatch::state
