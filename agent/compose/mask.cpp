#include "composewatch/compose/mask.h"

#include <algorithm>
#include <cctype>

#include "composewatch/compose/lint.h"

namespace composewatch::compose {
namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Where an unquoted value ends: at white space, a quote, a shell operator or the ", " and
// "]" of a test list as drift prints it.
bool ends_value(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '"' || c == '\'' || c == ';' || c == '&' ||
         c == '|' || c == ',' || c == ']' || c == ')' || c == '`';
}

bool is_key_char(char c) { return is_word_char(c) || c == '_' || c == '-' || c == '.'; }

// Every given value, where it is not part of a longer word.
std::string hide_values(std::string text, const std::vector<std::string>& values) {
  for (const std::string& v : values) {
    for (std::size_t at = text.find(v); at != std::string::npos; at = text.find(v, at)) {
      const std::size_t end = at + v.size();
      const bool glued_before = at > 0 && is_word_char(text[at - 1]) && is_word_char(v.front());
      const bool glued_after = end < text.size() && is_word_char(text[end]) && is_word_char(v.back());
      if (glued_before || glued_after) {
        ++at;
        continue;
      }
      text.replace(at, v.size(), kMasked);
      at += kMasked.size();
    }
  }
  return text;
}

// KEY=value where KEY looks secret: the value, quoted or not.
std::string hide_secret_assignments(std::string text) {
  std::size_t from = 0;
  while (from < text.size()) {
    const std::size_t eq = text.find('=', from);
    if (eq == std::string::npos) break;
    from = eq + 1;
    std::size_t key_begin = eq;
    while (key_begin > 0 && is_key_char(text[key_begin - 1])) --key_begin;
    if (key_begin == eq || !is_secret_key(std::string_view(text).substr(key_begin, eq - key_begin))) continue;
    std::size_t begin = eq + 1, end = begin;
    if (begin < text.size() && (text[begin] == '"' || text[begin] == '\'')) {
      const char quote = text[begin++];
      end = begin;
      while (end < text.size() && text[end] != quote) ++end;
    } else {
      while (end < text.size() && !ends_value(text[end])) ++end;
    }
    if (end == begin) continue;
    text.replace(begin, end - begin, kMasked);
    from = begin + kMasked.size();
  }
  return text;
}

// scheme://user:password@host: the password.
std::string hide_url_passwords(std::string text) {
  for (std::size_t pos = text.find("://"); pos != std::string::npos; pos = text.find("://", pos + 3)) {
    const std::size_t authority = pos + 3;
    std::size_t end = authority;
    while (end < text.size() && !ends_value(text[end]) && text[end] != '/' && text[end] != '?' && text[end] != '#')
      ++end;
    const std::string_view host_part = std::string_view(text).substr(authority, end - authority);
    const auto at = host_part.rfind('@');
    if (at == std::string_view::npos) continue;
    const auto colon = host_part.substr(0, at).find(':');
    if (colon == std::string_view::npos || colon + 1 >= at) continue;
    text.replace(authority + colon + 1, at - colon - 1, kMasked);
  }
  return text;
}

}  // namespace

void SecretMask::add(std::string value) {
  if (value.size() < kMinMaskedLength) return;
  const auto at = std::lower_bound(values_.begin(), values_.end(), value, [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  if (at != values_.end() && *at == value) return;
  values_.insert(at, std::move(value));
}

std::string SecretMask::apply(std::string_view text) const {
  return hide_url_passwords(hide_secret_assignments(hide_values(std::string(text), values_)));
}

}  // namespace composewatch::compose
