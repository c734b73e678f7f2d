#include "composewatch/log/log.h"

#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <stdexcept>

namespace composewatch::log {
namespace {

enum class Format { logfmt, json };

Format parse_format(const std::string& format) {
  if (format == "logfmt") return Format::logfmt;
  if (format == "json") return Format::json;
  throw std::invalid_argument("invalid log format '" + format + "' (expected logfmt or json)");
}

spdlog::level::level_enum parse_level(const std::string& level) {
  if (level == "debug") return spdlog::level::debug;
  if (level == "info") return spdlog::level::info;
  if (level == "warn") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  throw std::invalid_argument("invalid log level '" + level +
                              "' (expected debug, info, warn or error)");
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    default: return "error";
  }
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: break;
  }
  return spdlog::level::err;
}

// The fields of the record being logged on this thread. Sinks format on the calling
// thread (the logger is synchronous), so the formatter sees exactly the caller's fields.
thread_local const std::initializer_list<Field>* current_fields = nullptr;

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not valid (overlong forms,
// surrogates and code points past U+10FFFF included).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

// Appends `s` as the body of a quoted string (JSON rules, which logfmt readers accept too).
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const std::size_t n = utf8_sequence(s, i); n > 0) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out += "\xEF\xBF\xBD";  // U+FFFD for each invalid byte
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
}

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

// logfmt leaves a value bare unless it is empty or holds a space, '=', '"', a control
// character or anything outside ASCII (which may need escaping).
bool logfmt_needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c >= 0x7F) return true;
  }
  return false;
}

void append_logfmt_value(std::string& out, std::string_view s) {
  if (logfmt_needs_quotes(s)) {
    append_quoted(out, s);
  } else {
    out.append(s);
  }
}

// Keys are names, not text: anything that would break the key=value grammar becomes '_'.
void append_logfmt_key(std::string& out, std::string_view key) {
  if (key.empty()) {
    out += '_';
    return;
  }
  for (char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    out += (c <= ' ' || c == '=' || c == '"' || c == '\\' || c >= 0x7F) ? '_' : ch;
  }
}

std::string timestamp(spdlog::log_clock::time_point time) {
  const auto ms_since_epoch =
      std::chrono::floor<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const auto seconds = static_cast<std::time_t>(
      ms_since_epoch >= 0 ? ms_since_epoch / 1000 : (ms_since_epoch - 999) / 1000);
  const auto millis = static_cast<int>(ms_since_epoch - static_cast<long long>(seconds) * 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  const int n = std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                              tm.tm_min, tm.tm_sec, millis);
  return std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
}

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(Format format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    std::string line;
    line.reserve(64 + text.size());
    const std::string ts = timestamp(msg.time);
    const std::string_view level = level_name(msg.level);
    if (format_ == Format::logfmt) {
      line += "ts=" + ts + " level=";
      line.append(level);
      line += " msg=";
      append_logfmt_value(line, text);
      if (current_fields != nullptr) {
        for (const Field& f : *current_fields) {
          line += ' ';
          append_logfmt_key(line, f.key);
          line += '=';
          append_logfmt_value(line, f.value);
        }
      }
    } else {
      line += "{\"ts\":\"" + ts + "\",\"level\":\"";
      line.append(level);
      line += "\",\"msg\":";
      append_quoted(line, text);
      if (current_fields != nullptr) {
        for (const Field& f : *current_fields) {
          line += ',';
          append_quoted(line, f.key);
          line += ':';
          if (f.is_literal) {
            line += f.value;
          } else {
            append_quoted(line, f.value);
          }
        }
      }
      line += '}';
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_);
  }

 private:
  Format format_;
};

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  value.assign(buffer, ec == std::errc{} ? end : buffer);
  // NaN and infinities are not JSON numbers; keep them as text.
  is_literal = std::isfinite(v);
}

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& format) {
  return std::make_unique<LineFormatter>(parse_format(format));
}

void setup(const std::string& level, const std::string& format,
           std::shared_ptr<spdlog::sinks::sink> sink) {
  // Validate both before touching the current logger.
  const auto lvl = parse_level(level);
  auto formatter = make_formatter(format);
  sink->set_formatter(std::move(formatter));
  auto logger = std::make_shared<spdlog::logger>("composewatch", std::move(sink));
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::trace);  // one record, one write: nothing lost on a crash
  spdlog::set_default_logger(std::move(logger));
}

void setup(const std::string& level, const std::string& format) {
  parse_level(level);
  parse_format(format);
  setup(level, format, std::make_shared<spdlog::sinks::stderr_sink_mt>());
}

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  const auto lvl = to_spdlog(level);
  if (logger == nullptr || !logger->should_log(lvl)) return;
  struct Scope {
    explicit Scope(const std::initializer_list<Field>* f) : saved(current_fields) { current_fields = f; }
    ~Scope() { current_fields = saved; }
    const std::initializer_list<Field>* saved;
  } scope(&fields);
  logger->log(lvl, spdlog::string_view_t(msg.data(), msg.size()));
}

}  // namespace composewatch::log
