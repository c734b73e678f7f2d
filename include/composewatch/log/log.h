#pragma once
// Logging set-up: spdlog to stderr in logfmt or JSON, as Prometheus exporters do.
//
//   ts=2026-11-26T14:20:00.123Z level=info msg="engine connected" host=unix:///run/docker.sock
//   {"ts":"2026-11-26T14:20:00.123Z","level":"info","msg":"engine connected","host":"unix:///run/docker.sock"}
//
// Log through the helpers below: the message is a fixed text, every value is a field,
// so that a record can be found by its message and filtered by its values:
// log::info("engine connected", {{"host", host}, {"api", version}}). Do not format values
// into the message (spdlog::info("x {}", y)): no log line of the agent does, and
// scripts/check-log-calls.sh (a unit test) keeps it so.
// Messages and values are free text: quotes, backslashes, newlines, control characters and
// invalid UTF-8 are escaped, so one record is always one line.
// Thread-safety: logging is thread-safe (spdlog's _mt sinks). setup() replaces spdlog's
// default logger, which spdlog does not guard against concurrent logging: call it at
// start-up, before other threads log.

#include <concepts>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class formatter;
namespace sinks {
class sink;
}  // namespace sinks
}  // namespace spdlog

namespace composewatch::log {

// level: debug | info | warn | error; format: logfmt | json. Installs a stderr logger as
// spdlog's default. Throws std::invalid_argument naming the bad value, leaving the
// previous logger in place.
void setup(const std::string& level, const std::string& format);
// As above, writing to `sink` instead of stderr (tests, extra destinations).
void setup(const std::string& level, const std::string& format,
           std::shared_ptr<spdlog::sinks::sink> sink);

// The formatter setup() installs. Throws std::invalid_argument on an unknown format.
std::unique_ptr<spdlog::formatter> make_formatter(const std::string& format);

// One key=value field of a log record. Numbers and booleans are unquoted in JSON.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), is_literal(true) {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  Field(std::string_view k, T v) : key(k), value(std::to_string(v)), is_literal(true) {}
  Field(std::string_view k, double v);

  std::string key;
  std::string value;
  bool is_literal = false;  // a JSON number or boolean, written without quotes
};

enum class Level { debug, info, warn, error };

// Logs `msg` with `fields` through the default logger, if `level` is enabled.
void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::debug, msg, fields);
}
inline void info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::info, msg, fields);
}
inline void warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::warn, msg, fields);
}
inline void error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::error, msg, fields);
}

}  // namespace composewatch::log
