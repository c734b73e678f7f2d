#pragma once
// Checks on single setting values, shared by the flag and config-file paths so both accept
// exactly the same things. Each throws ConfigError with a reason that quotes the value but
// not where it came from; the caller prefixes "--flag: " or "FILE:LINE: key: ".

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/config/config.h"

namespace composewatch::config::detail {

// host:port, [ipv6]:port or :port; the port is 0-65535.
void check_listen_address(std::string_view value);
// An absolute URL path: starts with '/', no whitespace, query or fragment.
void check_telemetry_path(std::string_view value);
// unix:///absolute/path or tcp://host:port.
void check_docker_host(std::string_view value);
// A schedule Schedule::parse accepts: 5-field cron or "every <duration>" of at least 10s.
void check_schedule(std::string_view value);
// `value` is one of `allowed`; the error lists them.
void check_one_of(std::string_view value, std::initializer_list<std::string_view> allowed);
// A non-empty value.
void check_not_empty(std::string_view value);
// An absolute filesystem path.
void check_absolute_path(std::string_view value);

// A decimal integer in [min, max]; no sign, no spaces.
std::uint64_t parse_count(std::string_view value, std::uint64_t min, std::uint64_t max);

// The candidate nearest to `name` by edit distance when it is near enough to be a typo
// ("dryrun" → "dry_run"), else empty.
std::string closest(std::string_view name, const std::vector<std::string_view>& candidates);

// Runs `parse`; a ConfigError from it is rethrown as "<where>: <reason>".
template <typename F>
decltype(auto) located(const std::string& where, F&& parse) {
  try {
    return parse();
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what());
  }
}

}  // namespace composewatch::config::detail
