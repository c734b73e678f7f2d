// Prune schedules: what parse() accepts and how it words a mistake; when cron and interval
// schedules fire, across month ends, leap years and DST jumps; catching up after a gap.
// Every time point is fixed: no test reads the real clock.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "composewatch/config/schedule.h"

namespace cfg = composewatch::config;
using cfg::Clock;
using cfg::Schedule;
using namespace std::chrono_literals;

namespace {

// A UTC instant.
Clock::time_point utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{mo}, std::chrono::day{d}};
  return std::chrono::sys_days{date} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s};
}

// The message parse() throws for `text`, or "" when it parses.
std::string parse_error(std::string_view text) {
  try {
    Schedule::parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// The first `n` runs strictly after `after`.
std::vector<Clock::time_point> runs(const Schedule& s, Clock::time_point after, int n) {
  std::vector<Clock::time_point> out;
  for (int i = 0; i < n; ++i) out.push_back(after = s.next_after(after));
  return out;
}

// Sets $TZ for the life of the object, then puts back what was there.
class LocalZone {
 public:
  explicit LocalZone(const char* tz) {
    if (const char* old = std::getenv("TZ")) previous_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~LocalZone() {
    if (previous_) {
      setenv("TZ", previous_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  LocalZone(const LocalZone&) = delete;
  LocalZone& operator=(const LocalZone&) = delete;

 private:
  std::optional<std::string> previous_;
};

// Cron tests that are not about zones read local time as UTC, so expectations read plainly.
class ScheduleCron : public ::testing::Test {
  LocalZone zone_{"UTC"};
};

#define EXPECT_CONTAINS(haystack, needle)                                              \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)                     \
      << "expected to find [" << (needle) << "] in [" << (haystack) << "]"

}  // namespace

// --- parse -----------------------------------------------------------------------------

TEST(ScheduleParse, AcceptsCronAndIntervals) {
  for (const char* good : {"0 3 * * *", "30 4 * * 0", "*/15 * * * *", "0 0 1,15 * mon-fri", "0 22 * * 1-5",
                           "5 4 * jan,jul sun", "0 0 * * 7", "0 0 * * 0-7", "10-50/10 * * * *", "50/5 * * * *",
                           "0 0 * JAN-Mar SAT,sun", "  0\t3  * * *  ", "0 0 29 2 *", "0 0 31 * *",
                           "0 0 30 2 mon", "every 6h", "every 10s", "every 1h30m", "every 365d"}) {
    EXPECT_EQ(parse_error(good), "") << good;
  }
  const Schedule cron = Schedule::parse("0 3 * * *");
  EXPECT_EQ(cron.text(), "0 3 * * *");
  EXPECT_FALSE(cron.is_interval());
  const Schedule every = Schedule::parse("every 6h");
  EXPECT_EQ(every.text(), "every 6h");
  EXPECT_TRUE(every.is_interval());
}

TEST(ScheduleParse, WrongNumberOfFields) {
  EXPECT_EQ(parse_error("0 3 * *"),
            "invalid schedule '0 3 * *': expected 5 cron fields (minute hour day-of-month month "
            "day-of-week) or 'every <duration>', got 4");
  EXPECT_CONTAINS(parse_error("0 3 * * * *"), "expected 5 cron fields");
  EXPECT_CONTAINS(parse_error("0 3 * * * *"), "got 6");
  EXPECT_CONTAINS(parse_error(""), "got 0");
  EXPECT_CONTAINS(parse_error("@daily"), "got 1");
  EXPECT_CONTAINS(parse_error("everyday"), "expected 5 cron fields");
}

TEST(ScheduleParse, OutOfRangeNamesTheField) {
  EXPECT_EQ(parse_error("61 * * * *"), "invalid schedule '61 * * * *': minute: 61 is out of range 0-59");
  EXPECT_EQ(parse_error("0 24 * * *"), "invalid schedule '0 24 * * *': hour: 24 is out of range 0-23");
  EXPECT_EQ(parse_error("0 0 0 * *"), "invalid schedule '0 0 0 * *': day-of-month: 0 is out of range 1-31");
  EXPECT_CONTAINS(parse_error("0 0 32 * *"), "day-of-month: 32 is out of range 1-31");
  EXPECT_CONTAINS(parse_error("0 0 * 0 *"), "month: 0 is out of range 1-12");
  EXPECT_CONTAINS(parse_error("0 0 * 13 *"), "month: 13 is out of range 1-12");
  EXPECT_CONTAINS(parse_error("0 0 * * 8"), "day-of-week: 8 is out of range 0-7");
  EXPECT_CONTAINS(parse_error("0 0 * * 1-8"), "day-of-week: 8 is out of range 0-7");
  EXPECT_CONTAINS(parse_error("0,99999999999 * * * *"), "minute: 99999999999 is out of range 0-59");
}

TEST(ScheduleParse, BadStep) {
  EXPECT_EQ(parse_error("*/0 * * * *"),
            "invalid schedule '*/0 * * * *': minute: the step in '*/0' must be a number from 1 to 59");
  EXPECT_CONTAINS(parse_error("*/60 * * * *"), "minute: the step in '*/60' must be a number from 1 to 59");
  EXPECT_CONTAINS(parse_error("0 */x * * *"), "hour: the step in '*/x' must be");
  EXPECT_CONTAINS(parse_error("0 1-5/ * * *"), "hour: the step in '1-5/' must be");
  EXPECT_CONTAINS(parse_error("0 0 */2/3 * *"), "day-of-month: the step in '*/2/3' must be");
  EXPECT_CONTAINS(parse_error("0 0 * */-1 *"), "month: the step in '*/-1' must be");
}

TEST(ScheduleParse, BadNameOrNumber) {
  EXPECT_EQ(parse_error("0 0 * foo *"),
            "invalid schedule '0 0 * foo *': month: unknown name 'foo' (expected jan..dec or 1-12)");
  EXPECT_CONTAINS(parse_error("0 0 * * funday"), "day-of-week: unknown name 'funday' (expected sun..sat or 0-7)");
  EXPECT_CONTAINS(parse_error("0 0 * january *"), "month: unknown name 'january'");
  EXPECT_CONTAINS(parse_error("x * * * *"), "minute: 'x' is not a number");
  EXPECT_CONTAINS(parse_error("0 0 mon * *"), "day-of-month: 'mon' is not a number");
  EXPECT_CONTAINS(parse_error("0 +3 * * *"), "hour: '+3' is not a number");
  EXPECT_CONTAINS(parse_error("1- * * * *"), "minute: missing number in '1-'");
  EXPECT_CONTAINS(parse_error("/5 * * * *"), "minute: missing number in '/5'");
}

TEST(ScheduleParse, ReversedRange) {
  EXPECT_EQ(parse_error("5-1 * * * *"), "invalid schedule '5-1 * * * *': minute: range '5-1' goes backwards");
  EXPECT_CONTAINS(parse_error("0 0 * * fri-mon"), "day-of-week: range 'fri-mon' goes backwards");
  EXPECT_CONTAINS(parse_error("0 0 * dec-jan/2 *"), "month: range 'dec-jan' goes backwards");
}

TEST(ScheduleParse, EmptyListItem) {
  EXPECT_EQ(parse_error("1,,2 * * * *"), "invalid schedule '1,,2 * * * *': minute: empty item in list '1,,2'");
  EXPECT_CONTAINS(parse_error("0 ,1 * * *"), "hour: empty item in list ',1'");
  EXPECT_CONTAINS(parse_error("0 0 * * mon,"), "day-of-week: empty item in list 'mon,'");
}

TEST(ScheduleParse, NeverFiresIsRejected) {
  EXPECT_EQ(parse_error("0 0 30 2 *"), "invalid schedule '0 0 30 2 *': never fires: February has no 30th");
  EXPECT_CONTAINS(parse_error("0 0 31 feb *"), "never fires: February has no 31st");
  EXPECT_CONTAINS(parse_error("0 0 31 2,4 *"), "never fires: February and April have no 31st");
  EXPECT_CONTAINS(parse_error("0 0 31 4,6,9,11 *"),
                  "never fires: April, June, September and November have no 31st");
  EXPECT_CONTAINS(parse_error("0 0 30,31 2 *"), "never fires: February has no 30th");
  // With day-of-week restricted too, any of its weekdays fires.
  EXPECT_EQ(parse_error("0 0 30 2 mon"), "");
  EXPECT_EQ(parse_error("0 0 30,1 2 *"), "");
}

TEST(ScheduleParse, Intervals) {
  EXPECT_EQ(parse_error("every 5s"), "invalid schedule 'every 5s': the interval must be at least 10s");
  EXPECT_CONTAINS(parse_error("every 9.999s"), "at least 10s");
  EXPECT_CONTAINS(parse_error("every 0"), "at least 10s");
  EXPECT_EQ(parse_error("every 10s"), "");
  EXPECT_EQ(parse_error("every 366d"), "invalid schedule 'every 366d': the interval must be at most 365d");
  EXPECT_EQ(parse_error("every"), "invalid schedule 'every': expected a duration after 'every', e.g. every 6h");
  EXPECT_CONTAINS(parse_error("every six hours"), "invalid schedule 'every six hours': invalid duration 'six hours'");
  EXPECT_CONTAINS(parse_error("every -5m"), "invalid duration '-5m': must not be negative");
}

// --- next_after: cron --------------------------------------------------------------------

TEST_F(ScheduleCron, StrictlyAfter) {
  const Schedule s = Schedule::parse("0 3 * * *");
  EXPECT_EQ(s.next_after(utc(2026, 5, 10, 2, 59, 59)), utc(2026, 5, 10, 3));
  EXPECT_EQ(s.next_after(utc(2026, 5, 10, 3)), utc(2026, 5, 11, 3));
  EXPECT_EQ(s.next_after(utc(2026, 5, 10, 3) + 500ms), utc(2026, 5, 11, 3));
  EXPECT_EQ(s.next_after(utc(2026, 5, 10, 3) - 1ns), utc(2026, 5, 10, 3));
}

TEST_F(ScheduleCron, ListsRangesAndSteps) {
  EXPECT_EQ(runs(Schedule::parse("5,35 * * * *"), utc(2026, 5, 10, 10, 5), 3),
            (std::vector{utc(2026, 5, 10, 10, 35), utc(2026, 5, 10, 11, 5), utc(2026, 5, 10, 11, 35)}));
  EXPECT_EQ(runs(Schedule::parse("*/20 9-10 * * *"), utc(2026, 5, 10, 10, 30), 3),
            (std::vector{utc(2026, 5, 10, 10, 40), utc(2026, 5, 11, 9), utc(2026, 5, 11, 9, 20)}));
  EXPECT_EQ(runs(Schedule::parse("10-30/10 * * * *"), utc(2026, 5, 10, 10, 30), 3),
            (std::vector{utc(2026, 5, 10, 11, 10), utc(2026, 5, 10, 11, 20), utc(2026, 5, 10, 11, 30)}));
  // a/n runs from a to the end of the field.
  EXPECT_EQ(runs(Schedule::parse("50/5 * * * *"), utc(2026, 5, 10, 12, 50), 3),
            (std::vector{utc(2026, 5, 10, 12, 55), utc(2026, 5, 10, 13, 50), utc(2026, 5, 10, 13, 55)}));
  // A later hour starts again from the first minute, not from the minute we started at.
  EXPECT_EQ(Schedule::parse("15,45 7 * * *").next_after(utc(2026, 5, 10, 5, 30)), utc(2026, 5, 10, 7, 15));
  // Every minute.
  EXPECT_EQ(Schedule::parse("* * * * *").next_after(utc(2026, 5, 10, 23, 59, 30)), utc(2026, 5, 11));
}

TEST_F(ScheduleCron, MonthAndWeekdayNames) {
  // 2026-07-01 is a Wednesday: the first Sunday of July is the 5th.
  EXPECT_EQ(Schedule::parse("0 12 * jan,jul sun").next_after(utc(2026, 2, 1)), utc(2026, 7, 5, 12));
  EXPECT_EQ(Schedule::parse("0 12 * JAN,Jul SUN").next_after(utc(2026, 2, 1)), utc(2026, 7, 5, 12));
  // mon-fri from Friday evening is Monday.
  EXPECT_EQ(Schedule::parse("0 8 * * mon-fri").next_after(utc(2026, 3, 6, 20)), utc(2026, 3, 9, 8));
  // 0 and 7 are both Sunday (2026-03-01 and -08 are Sundays).
  for (const char* sunday : {"0 0 * * 0", "0 0 * * 7", "0 0 * * sun", "0 0 * * SUN"}) {
    EXPECT_EQ(Schedule::parse(sunday).next_after(utc(2026, 3, 1, 12)), utc(2026, 3, 8)) << sunday;
  }
  EXPECT_EQ(Schedule::parse("0 0 * * 6-7").next_after(utc(2026, 3, 1, 12)), utc(2026, 3, 7));
}

TEST_F(ScheduleCron, DayOfMonthOrDayOfWeek) {
  // Both restricted: the 15th (a Thursday in January 2026) or any Monday.
  EXPECT_EQ(runs(Schedule::parse("0 0 15 * mon"), utc(2026, 1, 1), 5),
            (std::vector{utc(2026, 1, 5), utc(2026, 1, 12), utc(2026, 1, 15), utc(2026, 1, 19), utc(2026, 1, 26)}));
  // One of them '*': the other alone decides.
  EXPECT_EQ(runs(Schedule::parse("0 0 15 * *"), utc(2026, 1, 1), 2), (std::vector{utc(2026, 1, 15), utc(2026, 2, 15)}));
  EXPECT_EQ(runs(Schedule::parse("0 0 * * mon"), utc(2026, 1, 1), 2), (std::vector{utc(2026, 1, 5), utc(2026, 1, 12)}));
  // A stepped day-of-month counts as restricted: days 1, 11, 21, 31 or any Monday.
  EXPECT_EQ(runs(Schedule::parse("0 0 */10 * mon"), utc(2026, 1, 1), 4),
            (std::vector{utc(2026, 1, 5), utc(2026, 1, 11), utc(2026, 1, 12), utc(2026, 1, 19)}));
  // With months restricted as well, either day rule applies only within them.
  EXPECT_EQ(runs(Schedule::parse("0 0 30 2 mon"), utc(2026, 1, 1), 2), (std::vector{utc(2026, 2, 2), utc(2026, 2, 9)}));
}

TEST_F(ScheduleCron, MonthEndsAndLeapYears) {
  EXPECT_EQ(runs(Schedule::parse("0 0 31 * *"), utc(2026, 1, 31), 4),
            (std::vector{utc(2026, 3, 31), utc(2026, 5, 31), utc(2026, 7, 31), utc(2026, 8, 31)}));
  EXPECT_EQ(runs(Schedule::parse("0 0 29 2 *"), utc(2026, 1, 1), 3),
            (std::vector{utc(2028, 2, 29), utc(2032, 2, 29), utc(2036, 2, 29)}));
  // 2100 is not a leap year: eight years between two February 29ths.
  EXPECT_EQ(Schedule::parse("0 0 29 2 *").next_after(utc(2096, 2, 29)), utc(2104, 2, 29));
  EXPECT_EQ(Schedule::parse("0 0 29,30 * *").next_after(utc(2027, 1, 30)), utc(2027, 3, 29));
  EXPECT_EQ(Schedule::parse("0 0 29,30 * *").next_after(utc(2028, 1, 30)), utc(2028, 2, 29));
}

TEST_F(ScheduleCron, AcrossYearEnd) {
  EXPECT_EQ(Schedule::parse("0 0 1 1 *").next_after(utc(2026, 12, 31, 23, 59)), utc(2027, 1, 1));
  EXPECT_EQ(Schedule::parse("59 23 31 12 *").next_after(utc(2026, 12, 31, 23, 59)), utc(2027, 12, 31, 23, 59));
  EXPECT_EQ(Schedule::parse("0 3 * * *").next_after(utc(2026, 12, 31, 3)), utc(2027, 1, 1, 3));
  EXPECT_EQ(Schedule::parse("0 0 * jan mon").next_after(utc(2026, 2, 1)), utc(2027, 1, 4));
}

// --- next_after: DST ---------------------------------------------------------------------

TEST(ScheduleDst, BerlinSpringForwardRunsAfterTheGap) {
  const LocalZone zone("Europe/Berlin");
  // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 does not exist.
  const Schedule s = Schedule::parse("30 2 * * *");
  EXPECT_EQ(s.next_after(utc(2026, 3, 28, 23)), utc(2026, 3, 29, 1));  // 03:00 CEST
  EXPECT_EQ(s.next_after(utc(2026, 3, 29, 1)), utc(2026, 3, 30, 0, 30));  // 02:30 CEST
  EXPECT_EQ(s.next_after(utc(2026, 3, 27, 23)), utc(2026, 3, 28, 1, 30));  // 02:30 CET

  // Several skipped times run once, at the end of the gap.
  const Schedule quarter = Schedule::parse("*/15 * * * *");
  EXPECT_EQ(runs(quarter, utc(2026, 3, 29, 0, 30), 4),
            (std::vector{utc(2026, 3, 29, 0, 45), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 15), utc(2026, 3, 29, 1, 30)}));
}

TEST(ScheduleDst, BerlinFallBackRunsOnce) {
  const LocalZone zone("Europe/Berlin");
  // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-02:59 happens twice.
  const Schedule s = Schedule::parse("30 2 * * *");
  EXPECT_EQ(s.next_after(utc(2026, 10, 24, 22)), utc(2026, 10, 25, 0, 30));  // 02:30 CEST
  EXPECT_EQ(s.next_after(utc(2026, 10, 25, 0, 30)), utc(2026, 10, 26, 1, 30));  // next day, 02:30 CET
  // From inside the second pass, too.
  EXPECT_EQ(s.next_after(utc(2026, 10, 25, 1, 10)), utc(2026, 10, 26, 1, 30));
  int runs_that_day = 0;
  for (auto t = s.next_after(utc(2026, 10, 24, 22)); t < utc(2026, 10, 25, 23); t = s.next_after(t)) ++runs_that_day;
  EXPECT_EQ(runs_that_day, 1);

  // Every local time of the repeated hour runs on its first pass only.
  const Schedule half = Schedule::parse("*/30 * * * *");
  EXPECT_EQ(runs(half, utc(2026, 10, 24, 23, 45), 4),
            (std::vector{utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2), utc(2026, 10, 25, 2, 30)}));
}

TEST(ScheduleDst, NewYork) {
  const LocalZone zone("America/New_York");
  // 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC).
  const Schedule spring = Schedule::parse("30 2 * * *");
  EXPECT_EQ(spring.next_after(utc(2026, 3, 8, 5)), utc(2026, 3, 8, 7));
  EXPECT_EQ(spring.next_after(utc(2026, 3, 8, 7)), utc(2026, 3, 9, 6, 30));
  // 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00 UTC); 01:30 happens twice.
  const Schedule fall = Schedule::parse("30 1 * * *");
  EXPECT_EQ(fall.next_after(utc(2026, 11, 1, 4)), utc(2026, 11, 1, 5, 30));   // 01:30 EDT
  EXPECT_EQ(fall.next_after(utc(2026, 11, 1, 5, 30)), utc(2026, 11, 2, 6, 30));  // 01:30 EST, next day
  // Times outside the jumps are plain local times.
  EXPECT_EQ(Schedule::parse("0 3 * * *").next_after(utc(2026, 7, 1)), utc(2026, 7, 1, 7));
  EXPECT_EQ(Schedule::parse("0 3 * * *").next_after(utc(2026, 12, 1)), utc(2026, 12, 1, 8));
}

TEST(ScheduleDst, ZoneIsRestored) {
  const char* before = std::getenv("TZ");
  const std::string saved = before ? before : "";
  const bool was_set = before != nullptr;
  { const LocalZone zone("America/New_York"); }
  const char* after = std::getenv("TZ");
  EXPECT_EQ(after != nullptr, was_set);
  if (after) {
    EXPECT_EQ(saved, after);
  }
}

// An independent model of the DST rules: walk the clock minute by minute; a local time
// fires at the first instant whose local time reaches it, unless an earlier instant
// already did (the second pass of a repeated hour). next_after must agree at every minute.
TEST(ScheduleDst, AgreesWithAMinuteByMinuteWalk) {
  struct Jump {
    const char* zone;
    Clock::time_point at;  // the transition, in UTC
  };
  const std::vector<Jump> jumps = {
      {"Europe/Berlin", utc(2026, 3, 29, 1)},       {"Europe/Berlin", utc(2026, 10, 25, 1)},
      {"America/New_York", utc(2026, 3, 8, 7)},     {"America/New_York", utc(2026, 11, 1, 6)},
      {"Australia/Lord_Howe", utc(2026, 4, 4, 15)},  // half-hour shifts
      {"Australia/Lord_Howe", utc(2026, 10, 3, 15, 30)},
      {"Pacific/Apia", utc(2011, 12, 30, 10)},      // skipped 2011-12-30 entirely
  };
  for (const char* text : {"30 2 * * *", "*/15 * * * *", "0 * * * *", "45 1,2,3 * * *", "15 0-3 * * *",
                           "0 12 * * *", "0 0 * * *"}) {
    const Schedule s = Schedule::parse(text);
    for (const Jump& jump : jumps) {
      const auto from = jump.at - 36h;
      const auto to = jump.at + 36h;
      // Local times that match, found with local time read as UTC.
      std::set<Clock::time_point> matching;
      {
        const LocalZone zone("UTC");
        for (auto t = s.next_after(from - 72h); t < to + 72h; t = s.next_after(t)) matching.insert(t);
      }
      const LocalZone zone(jump.zone);
      const auto local_minute = [](Clock::time_point t) {
        const std::time_t seconds = Clock::to_time_t(t);
        std::tm tm{};
        localtime_r(&seconds, &tm);
        const std::chrono::year_month_day date{std::chrono::year{tm.tm_year + 1900},
                                               std::chrono::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                               std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
        return Clock::time_point{std::chrono::sys_days{date}} + std::chrono::hours{tm.tm_hour} +
               std::chrono::minutes{tm.tm_min};
      };
      std::vector<Clock::time_point> fires;
      auto reached = local_minute(from);
      for (auto t = from + 1min; t < to; t += 1min) {
        const auto local = local_minute(t);
        if (local > reached && matching.upper_bound(reached) != matching.upper_bound(local)) fires.push_back(t);
        reached = std::max(reached, local);
      }
      ASSERT_GE(fires.size(), 2u) << text << " " << jump.zone;
      for (auto t = from; t < fires.back(); t += 1min) {
        const auto expected = *std::upper_bound(fires.begin(), fires.end(), t);
        ASSERT_EQ(s.next_after(t), expected) << text << " " << jump.zone << " after "
                                             << Clock::to_time_t(t);
      }
    }
  }
}

// --- next_after: interval ----------------------------------------------------------------

TEST(ScheduleInterval, NextAfterAddsThePeriod) {
  const Schedule s = Schedule::parse("every 6h");
  EXPECT_EQ(s.next_after(utc(2026, 5, 10, 1, 2, 3)), utc(2026, 5, 10, 7, 2, 3));
  EXPECT_EQ(Schedule::parse("every 1h30m").next_after(utc(2026, 5, 10)), utc(2026, 5, 10, 1, 30));
}

// --- next_due ----------------------------------------------------------------------------

TEST(ScheduleNextDue, IntervalKeepsPhaseAndSkipsMissedRuns) {
  const Schedule s = Schedule::parse("every 1h");
  const auto t0 = utc(2026, 5, 10, 12);
  EXPECT_EQ(s.next_due(t0, t0), t0 + 1h);
  EXPECT_EQ(s.next_due(t0, t0 + 10min), t0 + 1h);  // ran a little late: phase kept
  EXPECT_EQ(s.next_due(t0, t0 + 1h), t0 + 1h);     // due right now, not in the past
  EXPECT_EQ(s.next_due(t0, t0 + 5h + 30min), t0 + 6h);  // four missed: none run in a burst
  EXPECT_EQ(s.next_due(t0, t0 + 5h), t0 + 6h);
  EXPECT_EQ(s.next_due(t0, t0 - 3h), t0 + 1h);  // clock stepped back
  for (auto now = t0; now < t0 + 50h; now += 7min + 13s) {
    const auto due = s.next_due(t0, now);
    EXPECT_GE(due, now);
    EXPECT_GT(due, t0);
    EXPECT_EQ((due - t0) % 1h, Clock::duration::zero());
    EXPECT_LE(due - now, 1h);
  }
}

TEST_F(ScheduleCron, NextDueSkipsMissedRuns) {
  const Schedule s = Schedule::parse("0 3 * * *");
  const auto due = utc(2026, 1, 1, 3);
  EXPECT_EQ(s.next_due(due, due + 5s), utc(2026, 1, 2, 3));
  EXPECT_EQ(s.next_due(due, utc(2026, 1, 5, 10)), utc(2026, 1, 6, 3));  // three missed: none run in a burst
  EXPECT_EQ(s.next_due(due, utc(2026, 1, 5, 2)), utc(2026, 1, 5, 3));
  EXPECT_EQ(s.next_due(due, utc(2025, 12, 31)), utc(2026, 1, 2, 3));  // clock stepped back
}

// A scheduler that sleeps until each due time, but is suspended for a while: the run that
// came due while it slept happens once on waking, then runs follow the schedule.
TEST_F(ScheduleCron, NoBurstAfterSuspend) {
  for (const char* text : {"every 1h", "0 * * * *"}) {
    const Schedule s = Schedule::parse(text);
    const auto suspended_from = utc(2026, 5, 10, 12, 30);
    const auto woke = utc(2026, 5, 10, 18, 20);
    std::vector<Clock::time_point> ran;
    auto due = utc(2026, 5, 10, 12);
    while (ran.size() < 4) {
      const auto now = (due > suspended_from && due < woke) ? woke : due;
      ran.push_back(now);
      due = s.next_due(due, now);
    }
    EXPECT_EQ(ran, (std::vector{utc(2026, 5, 10, 12), woke, utc(2026, 5, 10, 19), utc(2026, 5, 10, 20)})) << text;
  }
}

// --- jitter ------------------------------------------------------------------------------

TEST(ScheduleJitter, Bounds) {
  EXPECT_EQ(Schedule::parse("0 3 * * *").max_jitter(), 30s);
  EXPECT_EQ(Schedule::parse("every 6h").max_jitter(), 30s);
  EXPECT_EQ(Schedule::parse("every 5m").max_jitter(), 30s);
  EXPECT_EQ(Schedule::parse("every 100s").max_jitter(), 10s);
  EXPECT_EQ(Schedule::parse("every 10s").max_jitter(), 1s);

  for (const char* text : {"0 3 * * *", "every 100s", "every 10s"}) {
    const Schedule s = Schedule::parse(text);
    const auto most = s.max_jitter();
    EXPECT_EQ(cfg::jitter(s, 0), 0ms) << text;
    EXPECT_EQ(cfg::jitter(s, static_cast<std::uint64_t>(most.count())), most) << text;
    EXPECT_EQ(cfg::jitter(s, static_cast<std::uint64_t>(most.count()) + 1), 0ms) << text;
    std::uint64_t x = 0x9e3779b97f4a7c15;  // a fixed sequence standing in for random draws
    for (int i = 0; i < 1000; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const auto j = cfg::jitter(s, x);
      EXPECT_GE(j, 0ms);
      EXPECT_LE(j, most);
    }
    EXPECT_LE(cfg::jitter(s, std::numeric_limits<std::uint64_t>::max()), most) << text;
  }
}
