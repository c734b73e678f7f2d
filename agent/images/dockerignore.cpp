#include "composewatch/images/dockerignore.h"

#include <filesystem>
#include <system_error>

namespace composewatch::images {

namespace fs = std::filesystem;

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

using Token = detail::IgnoreToken;

Token tok(Token::Kind kind, char ch = 0) {
  Token t;
  t.kind = kind;
  t.ch = ch;
  return t;
}

std::vector<Token> compile(std::string_view p) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '*') {
      if (i + 1 < p.size() && p[i + 1] == '*') {
        i += 2;
        while (i < p.size() && p[i] == '*') ++i;  // *** reads as **
        if (i < p.size() && p[i] == '/') {
          out.push_back(tok(Token::Kind::globstar_slash));
          ++i;
        } else {
          out.push_back(tok(Token::Kind::globstar));
        }
        continue;
      }
      out.push_back(tok(Token::Kind::star));
      ++i;
      continue;
    }
    if (c == '?') {
      out.push_back(tok(Token::Kind::any_one));
      ++i;
      continue;
    }
    if (c == '\\' && i + 1 < p.size()) {
      out.push_back(tok(Token::Kind::literal, p[i + 1]));
      i += 2;
      continue;
    }
    if (c == '[') {
      const auto close = p.find(']', i + 2);
      if (close != std::string_view::npos) {
        Token t = tok(Token::Kind::klass);
        std::string_view body = p.substr(i + 1, close - i - 1);
        if (!body.empty() && (body.front() == '^' || body.front() == '!')) {
          t.negated = true;
          body.remove_prefix(1);
        }
        t.klass = std::string(body);
        out.push_back(std::move(t));
        i = close + 1;
        continue;
      }
    }
    out.push_back(tok(Token::Kind::literal, c));
    ++i;
  }
  return out;
}

bool in_class(const Token& t, char c) {
  bool hit = false;
  const std::string& k = t.klass;
  for (std::size_t i = 0; i < k.size(); ++i) {
    if (i + 2 < k.size() && k[i + 1] == '-') {
      if (c >= k[i] && c <= k[i + 2]) hit = true;
      i += 2;
    } else if (k[i] == c) {
      hit = true;
    }
  }
  return hit != t.negated;
}

// dp[j]: the first j characters of the path are matched by the tokens seen so far.
bool match_tokens(const std::vector<Token>& tokens, std::string_view s) {
  const std::size_t n = s.size();
  std::vector<char> dp(n + 1, 0), next(n + 1, 0);
  dp[0] = 1;
  for (const Token& t : tokens) {
    std::fill(next.begin(), next.end(), 0);
    switch (t.kind) {
      case Token::Kind::literal:
        for (std::size_t j = 0; j < n; ++j)
          if (dp[j] && s[j] == t.ch) next[j + 1] = 1;
        break;
      case Token::Kind::any_one:
        for (std::size_t j = 0; j < n; ++j)
          if (dp[j] && s[j] != '/') next[j + 1] = 1;
        break;
      case Token::Kind::klass:
        for (std::size_t j = 0; j < n; ++j)
          if (dp[j] && s[j] != '/' && in_class(t, s[j])) next[j + 1] = 1;
        break;
      case Token::Kind::star: {
        bool run = false;  // reachable through non-'/' characters from a dp start
        for (std::size_t j = 0; j <= n; ++j) {
          if (dp[j]) run = true;
          if (run) next[j] = 1;
          if (j < n && s[j] == '/') run = false;
        }
        break;
      }
      case Token::Kind::globstar: {  // ".*"
        bool run = false;
        for (std::size_t j = 0; j <= n; ++j) {
          if (dp[j]) run = true;
          if (run) next[j] = 1;
        }
        break;
      }
      case Token::Kind::globstar_slash: {  // "(.*/)?": nothing, or anything ending in '/'
        bool run = false;
        for (std::size_t j = 0; j <= n; ++j) {
          if (dp[j]) next[j] = 1;
          if (run && j > 0 && s[j - 1] == '/') next[j] = 1;
          if (dp[j]) run = true;
        }
        break;
      }
    }
    std::swap(dp, next);
  }
  return dp[n] != 0;
}

}  // namespace

std::string clean_ignore_pattern(std::string_view pattern) {
  const bool rooted = pattern.starts_with("/");
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= pattern.size()) {
    const auto slash = pattern.find('/', start);
    const std::string_view part =
        pattern.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == ".") {
      // skipped
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!rooted)
        parts.push_back(part);
    } else {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + std::string(p);
  return out.empty() ? "." : out;
}

bool ignore_pattern_matches(std::string_view pattern, std::string_view path) {
  return match_tokens(compile(pattern), path);
}

IgnoreMatcher IgnoreMatcher::parse(std::string_view text) {
  IgnoreMatcher m;
  std::size_t start = 0;
  while (start < text.size() && m.patterns_.size() < kMaxPatterns) {
    const auto nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.front() == '#') continue;
    line = trim(line);
    if (line.empty()) continue;
    Pattern p;
    if (line.front() == '!') {
      p.exception = true;
      line = trim(line.substr(1));
      if (line.empty()) continue;
    }
    p.text = clean_ignore_pattern(line);
    p.tokens = compile(p.text);
    m.has_exceptions_ = m.has_exceptions_ || p.exception;
    m.patterns_.push_back(std::move(p));
  }
  return m;
}

std::vector<std::string> IgnoreMatcher::patterns() const {
  std::vector<std::string> out;
  for (const auto& p : patterns_) out.push_back((p.exception ? "!" : "") + p.text);
  return out;
}

bool IgnoreMatcher::excluded(std::string_view path) const {
  bool matched = false;
  for (const auto& p : patterns_) {
    // An exception only matters once something matched; a pattern only once nothing has.
    if (p.exception != matched) continue;
    const auto& tokens = p.tokens;
    bool hit = match_tokens(tokens, path);
    for (std::size_t slash = path.find('/'); !hit && slash != std::string_view::npos; slash = path.find('/', slash + 1))
      hit = match_tokens(tokens, path.substr(0, slash));
    if (hit) matched = !p.exception;
  }
  return matched;
}

ContextSize measure_context(const std::string& context_dir, const IgnoreMatcher& matcher, ContextLimits limits) {
  ContextSize out;
  std::error_code ec;
  if (!fs::is_directory(context_dir, ec)) {
    out.error = "not a directory: " + context_dir;
    out.complete = false;
    return out;
  }
  std::uint64_t entries = 0;
  fs::recursive_directory_iterator it(context_dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    out.error = context_dir + ": " + ec.message();
    out.complete = false;
    return out;
  }
  const fs::path root(context_dir);
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {  // an unreadable entry: go on with the next
      ec.clear();
      continue;
    }
    if (++entries > limits.max_entries || out.bytes > limits.max_bytes) {
      out.complete = false;
      break;
    }
    const std::string rel = it->path().lexically_relative(root).generic_string();
    const auto status = it->symlink_status(ec);
    if (ec) {
      ec.clear();
      continue;
    }
    const bool dir = fs::is_directory(status);
    if (matcher.excluded(rel)) {
      // Nothing under an excluded directory can come back without an exception pattern.
      if (dir && !matcher.has_exceptions()) it.disable_recursion_pending();
      continue;
    }
    if (fs::is_regular_file(status)) {
      const auto size = it->file_size(ec);
      if (!ec) out.bytes += size;
      ec.clear();
      ++out.files;
    }
  }
  return out;
}

}  // namespace composewatch::images
