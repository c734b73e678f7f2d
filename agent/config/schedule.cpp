#include "composewatch/config/schedule.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <vector>

#include "composewatch/config/config.h"

namespace composewatch::config {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

constexpr std::chrono::milliseconds kMinInterval = std::chrono::seconds{10};
constexpr std::chrono::milliseconds kMaxInterval = days{365};
constexpr std::chrono::milliseconds kMaxJitter = std::chrono::seconds{30};
// Far enough for the rarest schedule parse() accepts: February 29th with any weekday is 8
// years apart across 2100.
constexpr int kSearchYears = 10;

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::invalid_argument invalid(std::string_view text, const std::string& why) {
  return std::invalid_argument("invalid schedule " + quoted(text) + ": " + why);
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return lower(x) == lower(y); });
}

std::optional<int> whole_number(std::string_view s, bool& overflow) {
  int n = 0;
  const auto* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, n);
  overflow = ec == std::errc::result_out_of_range && ptr == end;
  if (s.empty() || s.front() == '-' || ptr != end || ec != std::errc{}) return std::nullopt;
  return n;
}

struct Field {
  std::string_view name;
  int min, max;
  std::array<std::string_view, 12> names;  // names[i] stands for min + i
  std::string_view name_range;             // how the error spells the names
};

constexpr std::array<Field, 5> kFields = {{
    {"minute", 0, 59, {}, {}},
    {"hour", 0, 23, {}, {}},
    {"day-of-month", 1, 31, {}, {}},
    {"month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}, "jan..dec"},
    {"day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, "sun..sat"},
}};

constexpr std::array<std::string_view, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
// The longest each month can be (February in a leap year).
constexpr std::array<int, 12> kMaxDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

// One cron field ("1-5", "*/15", "jan,jul", "mon-fri/2") as a set of bits.
class FieldParser {
 public:
  FieldParser(const Field& field, std::string_view whole) : field_(field), whole_(whole) {}

  std::uint64_t parse(std::string_view text) const {
    std::uint64_t bits = 0;
    std::size_t start = 0;
    for (;;) {
      const auto comma = text.find(',', start);
      const std::string_view item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
      if (item.empty()) throw fail("empty item in list " + quoted(text));
      bits |= parse_item(item);
      if (comma == std::string_view::npos) return bits;
      start = comma + 1;
    }
  }

 private:
  std::invalid_argument fail(const std::string& why) const {
    return invalid(whole_, std::string(field_.name) + ": " + why);
  }

  std::uint64_t parse_item(std::string_view item) const {
    std::string_view range = item;
    int step = 1;
    bool stepped = false;
    if (const auto slash = item.find('/'); slash != std::string_view::npos) {
      bool overflow = false;
      const auto n = whole_number(item.substr(slash + 1), overflow);
      if (!n || *n < 1 || *n > field_.max) {
        throw fail("the step in " + quoted(item) + " must be a number from 1 to " + std::to_string(field_.max));
      }
      step = *n;
      stepped = true;
      range = item.substr(0, slash);
    }
    int lo = field_.min;
    int hi = field_.max;
    if (range != "*") {
      if (const auto dash = range.find('-'); dash != std::string_view::npos) {
        lo = value(range.substr(0, dash), item);
        hi = value(range.substr(dash + 1), item);
        if (lo > hi) throw fail("range " + quoted(range) + " goes backwards");
      } else {
        lo = value(range, item);
        hi = stepped ? field_.max : lo;  // "a/n": from a to the end of the field
      }
    }
    std::uint64_t bits = 0;
    for (int v = lo; v <= hi; v += step) bits |= std::uint64_t{1} << v;
    return bits;
  }

  int value(std::string_view token, std::string_view item) const {
    if (token.empty()) throw fail("missing number in " + quoted(item));
    bool overflow = false;
    if (const auto n = whole_number(token, overflow); n || overflow) {
      if (!n || *n < field_.min || *n > field_.max) {
        throw fail(std::string(token) + " is out of range " + std::to_string(field_.min) + "-" +
                   std::to_string(field_.max));
      }
      return *n;
    }
    if (field_.name_range.empty()) throw fail(quoted(token) + " is not a number");
    for (std::size_t i = 0; i < field_.names.size() && !field_.names[i].empty(); ++i) {
      if (iequals(token, field_.names[i])) return field_.min + static_cast<int>(i);
    }
    throw fail("unknown name " + quoted(token) + " (expected " + std::string(field_.name_range) + " or " +
               std::to_string(field_.min) + "-" + std::to_string(field_.max) + ")");
  }

  const Field& field_;
  std::string_view whole_;
};

std::string ordinal(int n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

// A schedule whose days must match day-of-month needs a month that has one of those days.
void check_some_day_exists(const detail::CronFields& c, std::string_view text) {
  const int first_day = std::countr_zero(c.days);
  std::vector<std::string_view> months;
  for (int m = 1; m <= 12; ++m) {
    if (!(c.months >> m & 1)) continue;
    if (first_day <= kMaxDays[m - 1]) return;
    months.push_back(kMonthNames[m - 1]);
  }
  std::string list;
  for (std::size_t i = 0; i < months.size(); ++i) {
    if (i > 0) list += (i + 1 == months.size()) ? " and " : ", ";
    list += months[i];
  }
  throw invalid(text, "never fires: " + list + (months.size() == 1 ? " has" : " have") + " no " +
                          ordinal(first_day));
}

detail::CronFields parse_cron(std::string_view text) {
  std::array<std::string_view, 5> fields;
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    while (i < text.size() && is_blank(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_blank(text[i])) ++i;
    if (i == start) break;
    if (count < fields.size()) fields[count] = text.substr(start, i - start);
    ++count;
  }
  if (count != fields.size()) {
    throw invalid(text, "expected 5 cron fields (minute hour day-of-month month day-of-week) or "
                        "'every <duration>', got " + std::to_string(count));
  }
  std::array<std::uint64_t, 5> bits{};
  for (std::size_t f = 0; f < fields.size(); ++f) bits[f] = FieldParser(kFields[f], text).parse(fields[f]);

  detail::CronFields c;
  c.minutes = bits[0];
  c.hours = static_cast<std::uint32_t>(bits[1]);
  c.days = static_cast<std::uint32_t>(bits[2]);
  c.months = static_cast<std::uint16_t>(bits[3]);
  // 7 is Sunday too.
  c.weekdays = static_cast<std::uint8_t>((bits[4] & 0x7f) | (bits[4] >> 7 & 1));
  const bool days_restricted = fields[2] != "*";
  const bool weekdays_restricted = fields[4] != "*";
  c.day_or_weekday = days_restricted && weekdays_restricted;
  // Every weekday falls in every month, so only day-of-month can rule out every date.
  if (!c.day_or_weekday) check_some_day_exists(c, text);
  return c;
}

// A local wall-clock time to the minute, held as if it were UTC so that calendar arithmetic
// is plain; only fire_time() says when it happens.
using LocalMinute = std::chrono::sys_time<minutes>;

std::chrono::sys_days date_of(const std::tm& tm) {
  return std::chrono::year_month_day{std::chrono::year{tm.tm_year + 1900},
                                     std::chrono::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                     std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
}

LocalMinute label_of(const std::tm& tm) { return date_of(tm) + hours{tm.tm_hour} + minutes{tm.tm_min}; }

std::tm tm_of(LocalMinute label) {
  const auto day = std::chrono::floor<days>(label);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{label - day};
  std::tm tm{};
  tm.tm_year = static_cast<int>(date.year()) - 1900;
  tm.tm_mon = static_cast<int>(static_cast<unsigned>(date.month())) - 1;
  tm.tm_mday = static_cast<int>(static_cast<unsigned>(date.day()));
  tm.tm_hour = static_cast<int>(time.hours().count());
  tm.tm_min = static_cast<int>(time.minutes().count());
  return tm;
}

// How far local time is ahead of UTC at `t`, in seconds.
std::time_t utc_offset(std::time_t t) {
  std::tm tm{};
  if (!localtime_r(&t, &tm)) throw std::logic_error("time out of range for localtime_r");
  const auto local = date_of(tm) + hours{tm.tm_hour} + minutes{tm.tm_min} + std::chrono::seconds{tm.tm_sec};
  return static_cast<std::time_t>(local.time_since_epoch().count()) - t;
}

// When a run at local time `label` happens. Only localtime_r is asked: mktime's answer for
// a repeated or skipped time depends on tm_isdst, and where a zone has no DST, glibc's
// mktime searches years for a tm_isdst it never finds.
//
// Every instant with this local time is label - offset for an offset in force then. The
// offsets a day either side are the ones before and after any jump near it (tzdata has no
// two changes within two days). Either or both may give the label: one is a plain time, two
// a repeated hour (run on the first pass), none a time the clocks jumped over, which runs
// at the jump.
Clock::time_point fire_time(LocalMinute label) {
  const auto u = static_cast<std::time_t>(std::chrono::seconds{label.time_since_epoch()}.count());
  constexpr std::time_t kDay = 24 * 60 * 60;
  const std::time_t before = utc_offset(u - kDay);
  const std::time_t after = utc_offset(u + kDay);
  std::optional<std::time_t> first;
  for (const std::time_t offset : {before, after}) {
    const std::time_t t = u - offset;
    if (utc_offset(t) == offset && (!first || t < *first)) first = t;
  }
  if (first) return Clock::from_time_t(*first);
  // Clocks jumped forward from `before` to `after` over this time, at an instant in
  // (lo, hi]: find it.
  std::time_t lo = u - after;
  std::time_t hi = u - before;
  if (lo >= hi) throw std::logic_error("local time neither happens nor is skipped");
  while (hi - lo > 1) {
    const std::time_t mid = lo + (hi - lo) / 2;
    (utc_offset(mid) == after ? hi : lo) = mid;
  }
  return Clock::from_time_t(hi);
}

int first_bit_from(std::uint64_t bits, int from) {
  const std::uint64_t rest = bits & (~std::uint64_t{0} << from);
  return rest == 0 ? -1 : std::countr_zero(rest);
}

bool day_matches(const detail::CronFields& c, int y, unsigned m, unsigned d) {
  const bool day = c.days >> d & 1;
  const std::chrono::weekday wd{std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}}};
  const bool weekday = c.weekdays >> wd.c_encoding() & 1;
  return c.day_or_weekday ? (day || weekday) : (day && weekday);
}

// The first label at or after `from` that the fields allow, looking no further than the
// end of `last_year`. Skips whole months, days and hours that cannot match.
std::optional<LocalMinute> first_match(const detail::CronFields& c, LocalMinute from, int last_year) {
  const std::tm start = tm_of(from);
  int y = start.tm_year + 1900;
  unsigned mo = static_cast<unsigned>(start.tm_mon + 1);
  unsigned d = static_cast<unsigned>(start.tm_mday);
  int h = start.tm_hour;
  int mi = start.tm_min;
  // Each loop's step restarts the inner ones at their first value.
  for (; y <= last_year; ++y, mo = 1, d = 1, h = 0, mi = 0) {
    for (; mo <= 12; ++mo, d = 1, h = 0, mi = 0) {
      if (!(c.months >> mo & 1)) continue;
      const unsigned last = static_cast<unsigned>(
          (std::chrono::year{y} / std::chrono::month{mo} / std::chrono::last).day());
      for (; d <= last; ++d, h = 0, mi = 0) {
        if (!day_matches(c, y, mo, d)) continue;
        for (; h < 24; ++h, mi = 0) {
          const int next_hour = first_bit_from(c.hours, h);
          if (next_hour < 0) break;
          if (next_hour != h) {
            h = next_hour;
            mi = 0;
          }
          if (const int m = first_bit_from(c.minutes, mi); m >= 0) {
            const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{mo}, std::chrono::day{d}};
            return std::chrono::sys_days{date} + hours{h} + minutes{m};
          }
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Schedule Schedule::parse(std::string_view text) {
  Schedule s;
  s.text_ = std::string(text);
  if (text.starts_with("every") && (text.size() == 5 || is_blank(text[5]))) {
    std::string_view rest = text.substr(5);
    while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
    while (!rest.empty() && is_blank(rest.back())) rest.remove_suffix(1);
    if (rest.empty()) throw invalid(text, "expected a duration after 'every', e.g. every 6h");
    try {
      s.period_ = parse_duration(std::string(rest));
    } catch (const ConfigError& e) {
      throw invalid(text, e.what());
    }
    if (s.period_ < kMinInterval) throw invalid(text, "the interval must be at least 10s");
    if (s.period_ > kMaxInterval) throw invalid(text, "the interval must be at most 365d");
    return s;
  }
  s.cron_ = parse_cron(text);
  return s;
}

Clock::time_point Schedule::next_after(Clock::time_point after) const {
  if (is_interval()) return after + period_;
  const std::time_t after_seconds = std::chrono::floor<std::chrono::seconds>(after.time_since_epoch()).count();
  std::tm local{};
  if (!localtime_r(&after_seconds, &local)) throw std::logic_error("time out of range for localtime_r");
  LocalMinute from = label_of(local) + minutes{1};
  const int last_year = local.tm_year + 1900 + kSearchYears;
  for (;;) {
    const auto label = first_match(cron_, from, last_year);
    if (!label) throw std::logic_error("schedule " + quoted(text_) + " has no run within 10 years");
    const Clock::time_point when = fire_time(*label);
    if (when > after) return when;
    // Not after `after`: a repeated hour's first pass, or a skipped time that ran at the jump.
    from = *label + minutes{1};
  }
}

Clock::time_point Schedule::next_due(Clock::time_point previous_due, Clock::time_point now) const {
  if (!is_interval()) return next_after(std::max(previous_due, now));
  const Clock::duration period = period_;
  const Clock::time_point next = previous_due + period;
  if (now <= next) return next;
  // Missed one or more: skip them all, keeping the phase.
  const auto passed = (now - previous_due) / period;
  return previous_due + (passed + 1) * period;
}

std::chrono::milliseconds Schedule::max_jitter() const {
  return is_interval() ? std::min(kMaxJitter, period_ / 10) : kMaxJitter;
}

std::chrono::milliseconds jitter(const Schedule& s, std::uint64_t random) {
  const auto most = static_cast<std::uint64_t>(s.max_jitter().count());
  return std::chrono::milliseconds{static_cast<std::chrono::milliseconds::rep>(random % (most + 1))};
}

}  // namespace composewatch::config
