#include "values.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <vector>

#include "composewatch/config/config.h"
#include "composewatch/config/schedule.h"

namespace composewatch::config {
namespace {

std::string quoted(std::string_view value) { return "'" + std::string(value) + "'"; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space_or_control(char c) {
  return c == ' ' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}
bool has_space_or_control(std::string_view s) {
  for (char c : s) {
    if (is_space_or_control(c)) return true;
  }
  return false;
}

// "12" or "12.5" at the front of `s`, consumed. Whole part saturates: callers reject it.
struct Decimal {
  std::uint64_t whole = 0;
  bool whole_overflow = false;
  std::string_view fraction;  // the digits after '.', maybe empty
};

std::optional<Decimal> take_decimal(std::string_view& s) {
  Decimal d;
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i])) {
    const std::uint64_t digit = static_cast<std::uint64_t>(s[i] - '0');
    if (d.whole > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) d.whole_overflow = true;
    d.whole = d.whole * 10 + digit;
    ++i;
  }
  const bool has_whole = i > 0;
  if (i < s.size() && s[i] == '.') {
    const std::size_t start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    d.fraction = s.substr(start, i - start);
    if (d.fraction.empty()) return std::nullopt;  // "5." is a typo, not a number
  }
  if (!has_whole && d.fraction.empty()) return std::nullopt;
  s.remove_prefix(i);
  return d;
}

// d * unit, rounded down; nullopt on overflow of uint64.
std::optional<std::uint64_t> scale(const Decimal& d, std::uint64_t unit) {
  if (d.whole_overflow) return std::nullopt;
  if (unit != 0 && d.whole > std::numeric_limits<std::uint64_t>::max() / unit) return std::nullopt;
  std::uint64_t result = d.whole * unit;
  if (!d.fraction.empty()) {
    // Digits past 18 cannot change the result at these magnitudes.
    long double fraction = 0;
    long double place = 0.1L;
    for (std::size_t i = 0; i < d.fraction.size() && i < 18; ++i, place /= 10) {
      fraction += static_cast<long double>(d.fraction[i] - '0') * place;
    }
    const auto extra = static_cast<std::uint64_t>(std::floor(fraction * static_cast<long double>(unit)));
    if (result > std::numeric_limits<std::uint64_t>::max() - extra) return std::nullopt;
    result += extra;
  }
  return result;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::chrono::milliseconds parse_duration(const std::string& text) {
  const auto invalid = [&](const std::string& why) -> ConfigError {
    return ConfigError("invalid duration " + quoted(text) + ": " + why);
  };
  const std::string expected = "expected e.g. 90s, 5m, 24h, 1h30m";
  if (text == "0") return std::chrono::milliseconds{0};
  if (text.empty()) throw invalid(expected);
  if (text.front() == '-') throw invalid("must not be negative");

  std::string_view rest = text;
  std::uint64_t total = 0;
  while (!rest.empty()) {
    const auto number = take_decimal(rest);
    if (!number) throw invalid(expected);
    std::uint64_t unit = 0;
    if (rest.starts_with("ms")) {
      unit = 1;
      rest.remove_prefix(2);
    } else if (!rest.empty()) {
      switch (rest.front()) {
        case 's': unit = 1000; break;
        case 'm': unit = 60 * 1000; break;
        case 'h': unit = 3600 * 1000; break;
        case 'd': unit = 24 * 3600 * 1000; break;
        default: break;
      }
      if (unit != 0) rest.remove_prefix(1);
    }
    if (unit == 0) throw invalid("missing or unknown unit (ms, s, m, h, d); " + expected);
    const auto ms = scale(*number, unit);
    if (!ms || *ms > std::numeric_limits<std::uint64_t>::max() - total) throw invalid("too large");
    total += *ms;
  }
  if (total > static_cast<std::uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max())) {
    throw invalid("too large");
  }
  return std::chrono::milliseconds{static_cast<std::chrono::milliseconds::rep>(total)};
}

std::uint64_t parse_size(const std::string& text) {
  const auto invalid = [&](const std::string& why) -> ConfigError {
    return ConfigError("invalid size " + quoted(text) + ": " + why);
  };
  const std::string expected = "expected e.g. 1024, 512k, 512MB, 5GB, 1GiB";
  if (!text.empty() && text.front() == '-') throw invalid("must not be negative");
  std::string_view rest = text;
  const auto number = take_decimal(rest);
  if (!number) throw invalid(expected);
  if (rest.starts_with(' ')) rest.remove_prefix(1);  // "512 MB", as docker accepts

  // B, or K/M/G/T/P with an optional "i" and "B": all powers of 1024.
  static constexpr std::array<std::string_view, 5> kPrefixes = {"k", "m", "g", "t", "p"};
  std::uint64_t multiplier = 1;
  bool known = rest.empty() || iequals(rest, "b");
  for (std::size_t i = 0; !known && i < kPrefixes.size(); ++i) {
    multiplier *= 1024;
    const std::string p(kPrefixes[i]);
    known = iequals(rest, p) || iequals(rest, p + "b") || iequals(rest, p + "i") ||
            iequals(rest, p + "ib");
  }
  if (!known) throw invalid("unknown unit " + quoted(rest) + "; " + expected);
  const auto bytes = scale(*number, multiplier);
  if (!bytes) throw invalid("too large");
  return *bytes;
}

std::string format_size(std::int64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (std::fabs(v) >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0 || std::fabs(v) >= 100 || v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f%s", v, units[u]);
  else
    std::snprintf(buf, sizeof buf, "%.1f%s", v, units[u]);
  // 1023.96 KiB rounds to "1024KiB": say "1.0MiB" instead.
  if (u < 5 && std::fabs(v) >= 1023.95) std::snprintf(buf, sizeof buf, "%.1f%s", v / 1024, units[u + 1]);
  return buf;
}

double parse_percent(const std::string& text) {
  const auto invalid = [&](const std::string& why) -> ConfigError {
    return ConfigError("invalid percentage " + quoted(text) + ": " + why);
  };
  std::string_view rest = text;
  const auto number = take_decimal(rest);
  if (!number || rest != "%") throw invalid("expected e.g. 20% or 12.5%");
  double value = static_cast<double>(number->whole);
  if (number->whole_overflow || value > 100) throw invalid("must be at most 100%");
  double place = 0.1;
  for (char c : number->fraction) {
    value += (c - '0') * place;
    place /= 10;
  }
  if (value > 100) throw invalid("must be at most 100%");
  return value;
}

namespace detail {
namespace {

// The port after host: "9469" → ok, "" / "x" / "70000" → error.
void check_port(std::string_view port, std::string_view whole, bool allow_zero) {
  std::uint32_t value = 0;
  const auto* end = port.data() + port.size();
  const auto [ptr, ec] = std::from_chars(port.data(), end, value);
  if (port.empty() || port.size() > 5 || ec != std::errc{} || ptr != end || value > 65535 ||
      (!allow_zero && value == 0)) {
    throw ConfigError(quoted(whole) + " has an invalid port " + quoted(port));
  }
}

// host:port / [v6]:port / :port (the host may be empty only when allow_empty_host).
void check_host_port(std::string_view value, std::string_view whole, bool allow_empty_host,
                     bool allow_zero_port, const std::string& expected) {
  if (value.empty()) throw ConfigError("empty address (expected " + expected + ")");
  if (has_space_or_control(value) || value.find('/') != std::string_view::npos) {
    throw ConfigError(quoted(whole) + " is not an address (expected " + expected + ")");
  }
  std::string_view host;
  std::string_view port;
  if (value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string_view::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      throw ConfigError(quoted(whole) + " has no port (expected " + expected + ")");
    }
    host = value.substr(1, close - 1);
    port = value.substr(close + 2);
    if (host.empty()) throw ConfigError(quoted(whole) + " has an empty IPv6 host");
  } else {
    const auto colon = value.rfind(':');
    if (colon == std::string_view::npos) {
      throw ConfigError(quoted(whole) + " has no port (expected " + expected + ")");
    }
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      throw ConfigError(quoted(whole) + ": an IPv6 host needs brackets, e.g. [::1]:9469");
    }
  }
  if (host.empty() && !allow_empty_host) {
    throw ConfigError(quoted(whole) + " has no host (expected " + expected + ")");
  }
  check_port(port, whole, allow_zero_port);
}

}  // namespace

void check_listen_address(std::string_view value) {
  check_host_port(value, value, /*allow_empty_host=*/true, /*allow_zero_port=*/true,
                  "host:port, [ipv6]:port or :port");
}

void check_telemetry_path(std::string_view value) {
  if (value.empty() || value.front() != '/') {
    throw ConfigError(quoted(value) + " must start with '/'");
  }
  if (has_space_or_control(value) || value.find_first_of("?#") != std::string_view::npos) {
    throw ConfigError(quoted(value) + " must be a plain path (no spaces, '?' or '#')");
  }
}

void check_docker_host(std::string_view value) {
  const std::string expected = "expected unix:///path/to/docker.sock or tcp://host:port";
  if (value.starts_with("unix://")) {
    const std::string_view path = value.substr(7);
    if (path.empty() || path.front() != '/' || has_space_or_control(path)) {
      throw ConfigError(quoted(value) + " needs an absolute socket path (" + expected + ")");
    }
    return;
  }
  if (value.starts_with("tcp://")) {
    std::string_view address = value.substr(6);
    if (address.ends_with('/')) address.remove_suffix(1);
    check_host_port(address, value, /*allow_empty_host=*/false, /*allow_zero_port=*/false,
                    "tcp://host:port");
    return;
  }
  throw ConfigError(quoted(value) + " has an unsupported scheme (" + expected + ")");
}

void check_schedule(std::string_view value) {
  try {
    Schedule::parse(value);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

void check_one_of(std::string_view value, std::initializer_list<std::string_view> allowed) {
  std::string list;
  std::size_t n = 0;
  for (std::string_view a : allowed) {
    if (a == value) return;
    if (n > 0) list += (n + 1 == allowed.size()) ? " or " : ", ";
    list += a;
    ++n;
  }
  throw ConfigError("invalid value " + quoted(value) + " (expected " + list + ")");
}

void check_not_empty(std::string_view value) {
  if (value.empty()) throw ConfigError("must not be empty");
}

void check_absolute_path(std::string_view value) {
  if (value.empty() || value.front() != '/') throw ConfigError(quoted(value) + " is not an absolute path");
}

std::uint64_t parse_count(std::string_view value, std::uint64_t min, std::uint64_t max) {
  std::uint64_t n = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, n);
  if (value.empty() || !is_digit(value.front()) || ec == std::errc::invalid_argument || ptr != end) {
    throw ConfigError(quoted(value) + " is not a whole number");
  }
  if (ec == std::errc::result_out_of_range || n < min || n > max) {
    std::string range = "at least " + std::to_string(min);
    if (max != std::numeric_limits<std::uint64_t>::max()) range += " and at most " + std::to_string(max);
    throw ConfigError(quoted(value) + " is out of range (" + range + ")");
  }
  return n;
}

std::string closest(std::string_view name, const std::vector<std::string_view>& candidates) {
  // Levenshtein distance, case-insensitive, with '-' and '_' and '.' counted as the same.
  const auto fold = [](char c) {
    if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
    if (c == '-' || c == '.') return '_';
    return c;
  };
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (std::string_view candidate : candidates) {
    std::vector<std::size_t> row(candidate.size() + 1);
    for (std::size_t j = 0; j < row.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= name.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= candidate.size(); ++j) {
        const std::size_t above = row[j];
        const std::size_t cost = fold(name[i - 1]) == fold(candidate[j - 1]) ? 0 : 1;
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
        diagonal = above;
      }
    }
    if (row.back() < best_distance) {
      best_distance = row.back();
      best = candidate;
    }
  }
  // A third of the name may differ, and never more than three edits.
  const std::size_t limit = std::min<std::size_t>(3, std::max<std::size_t>(1, name.size() / 3));
  return best_distance <= limit ? best : std::string{};
}

}  // namespace detail
}  // namespace composewatch::config
