#pragma once
// When a prune policy runs: its `schedule:` value, parsed once (the config loader checks
// it with this parser), then asked for due times. Pure logic over time points given by
// the caller (no clock is read here), so the prune scheduler's decisions are tested on a
// fake clock.
//
// Cron schedules are in local time as the process sees it: localtime_r, i.e. $TZ as of the
// last tzset() (glibc's localtime_r does not re-read it). Thread-safety: a Schedule is
// immutable; const members may be called from any thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace composewatch::config {

using Clock = std::chrono::system_clock;

namespace detail {

// The sets a cron expression allows, one bit per value.
struct CronFields {
  std::uint64_t minutes = 0;   // bit m: minute m (0-59)
  std::uint32_t hours = 0;     // bit h: hour h (0-23)
  std::uint32_t days = 0;      // bit d: day of month d (1-31)
  std::uint16_t months = 0;    // bit m: month m (1-12)
  std::uint8_t weekdays = 0;   // bit w: weekday w, 0 = Sunday (7 is folded into 0)
  bool day_or_weekday = false;  // both day fields restricted: a day matching either fires
};

}  // namespace detail

class Schedule {
 public:
  // "every <duration>" (duration as parse_duration reads it; at least 10s and at
  // most 365d) or a 5-field cron expression (minute hour day-of-month month day-of-week):
  // '*', numbers, ranges a-b, steps */n and a-b/n and a/n (a to the field's end), comma
  // lists, month and weekday names (jan..dec, sun..sat, case-insensitive), 0 and 7 both
  // Sunday. When both day-of-month and day-of-week are restricted (neither is a bare '*'),
  // a day matching either fires, as crontab(5) says; otherwise a day must match both.
  // Throws std::invalid_argument with a one-line reason quoting the text and naming the bad
  // field ("invalid schedule '61 * * * *': minute: 61 is out of range 0-59"), also for a
  // cron expression that can never fire ("0 0 30 2 *": February has no 30th).
  static Schedule parse(std::string_view text);

  // The text given to parse().
  const std::string& text() const { return text_; }
  bool is_interval() const { return period_.count() > 0; }

  // Cron: the first matching minute strictly after `after`, in local time. A local time
  // skipped by a DST jump runs at the first instant after the gap (several skipped ones
  // run once there); a repeated local time runs once, on its first pass, so during the
  // second pass of a repeated hour nothing fires.
  // Interval: after + period.
  // Throws std::logic_error only if a cron schedule has no run within 10 years, which
  // parse() rules out.
  Clock::time_point next_after(Clock::time_point after) const;

  // When the run after one due at `previous_due` is due, given that it is now `now`:
  // never before `now`, and never more than one run for missed ones (an agent stopped or
  // suspended across several due times runs the late one once, then waits for the next).
  // Interval: keeps its phase: previous_due + period, or, when that too has passed, the
  // first previous_due + k*period after now. Cron: next_after(max(previous_due, now)).
  Clock::time_point next_due(Clock::time_point previous_due, Clock::time_point now) const;

  // The most a run is delayed at random, so that many hosts on one schedule do not hit
  // their disks at the same second: min(30s, period/10) for intervals, 30s for cron.
  std::chrono::milliseconds max_jitter() const;

 private:
  Schedule() = default;

  std::string text_;
  std::chrono::milliseconds period_{0};  // > 0 for "every <duration>"
  detail::CronFields cron_;
};

// A delay in [0, max_jitter()] drawn from `random` (a uniform 64-bit value), so tests can
// fix it.
std::chrono::milliseconds jitter(const Schedule& s, std::uint64_t random);

}  // namespace composewatch::config
