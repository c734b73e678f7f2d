// Compose's scalar formats: memory sizes, durations, project names.

#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "composewatch/compose/loader.h"

namespace composewatch::compose {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads digits[.digits] from `s` at `i`; false when there are no digits.
bool read_number(const std::string& s, std::size_t& i, long double& value) {
  const std::size_t start = i;
  long double v = 0;
  bool digits = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    v = v * 10 + (s[i] - '0');
    digits = true;
    ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    long double scale = 0.1L;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v += (s[i] - '0') * scale;
      scale /= 10;
      digits = true;
      ++i;
    }
  }
  if (!digits) i = start;
  value = v;
  return digits;
}

}  // namespace

std::int64_t parse_memory_bytes(const std::string& text) {
  std::size_t i = 0;
  long double amount = 0;
  if (!read_number(text, i, amount)) {
    throw std::invalid_argument("invalid memory size '" + text + "' (expected a number with an optional unit b, k, m or g)");
  }
  const std::string unit = lower(text.substr(i));
  long double factor = 0;
  if (unit.empty() || unit == "b") {
    factor = 1;
  } else if (unit == "k" || unit == "kb") {
    factor = 1024.0L;
  } else if (unit == "m" || unit == "mb") {
    factor = 1024.0L * 1024;
  } else if (unit == "g" || unit == "gb") {
    factor = 1024.0L * 1024 * 1024;
  } else {
    throw std::invalid_argument("unknown memory unit '" + text.substr(i) + "' in '" + text +
                                "' (expected b, k, kb, m, mb, g or gb)");
  }
  const long double bytes = std::floor(amount * factor);
  if (bytes > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
    throw std::invalid_argument("memory size '" + text + "' is too large");
  }
  return static_cast<std::int64_t>(bytes);
}

double parse_duration_seconds(const std::string& text) {
  if (text == "0") return 0;
  if (text.empty()) throw std::invalid_argument("invalid duration '' (expected e.g. 30s, 1m30s, 500ms)");
  long double total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    long double amount = 0;
    if (!read_number(text, i, amount)) {
      throw std::invalid_argument("invalid duration '" + text + "' (expected e.g. 30s, 1m30s, 500ms)");
    }
    std::size_t u = i;
    while (u < text.size() && !std::isdigit(static_cast<unsigned char>(text[u])) && text[u] != '.') ++u;
    const std::string unit = text.substr(i, u - i);
    i = u;
    long double factor = 0;
    if (unit == "h") {
      factor = 3600;
    } else if (unit == "m") {
      factor = 60;
    } else if (unit == "s") {
      factor = 1;
    } else if (unit == "ms") {
      factor = 1e-3L;
    } else if (unit == "us" || unit == "\xC2\xB5s") {
      factor = 1e-6L;
    } else if (unit.empty()) {
      throw std::invalid_argument("invalid duration '" + text + "': missing unit (us, ms, s, m or h)");
    } else {
      throw std::invalid_argument("invalid duration '" + text + "': unknown unit '" + unit +
                                  "' (expected us, ms, s, m or h)");
    }
    total += amount * factor;
  }
  if (total > 1e12L) throw std::invalid_argument("duration '" + text + "' is too long");
  return static_cast<double>(total);
}

std::string normalize_project_name(const std::string& name) {
  std::string out;
  for (const char c : lower(name)) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') out += c;
  }
  return out;
}

}  // namespace composewatch::compose
