#pragma once
// .dockerignore with Docker's semantics (moby/patternmatcher), and the size of the build
// context it leaves: what `COPY . .` sends.
//
// Patterns: one per line; `#` lines and blank lines skipped; surrounding whitespace
// trimmed; a leading `!` makes an exception (re-includes); the pattern is cleaned like Go's
// filepath.Clean and a leading `/` dropped. `*` matches any run of non-`/`, `?` one
// non-`/`, `[…]` a class, `**` any number of directories (also none), `\` escapes. A path
// is excluded when the last pattern matching it, or matching one of its parent
// directories, is not an exception.
//
// Matching is by dynamic programming over pattern × path: no backtracking blow-up.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace composewatch::images {

namespace detail {
// One element of a compiled pattern (dockerignore.cpp).
struct IgnoreToken {
  enum class Kind { literal, any_one, star, globstar, globstar_slash, klass };
  Kind kind = Kind::literal;
  char ch = 0;
  std::string klass;  // [..] contents, without the brackets
  bool negated = false;
};
}  // namespace detail

class IgnoreMatcher {
 public:
  IgnoreMatcher() = default;
  // From the text of a .dockerignore. At most kMaxPatterns patterns are kept.
  static IgnoreMatcher parse(std::string_view text);
  static constexpr std::size_t kMaxPatterns = 4096;

  // `path` is relative to the context, '/'-separated, without a leading "./".
  bool excluded(std::string_view path) const;
  // Whether any exception pattern exists: then an excluded directory must still be walked.
  bool has_exceptions() const { return has_exceptions_; }
  // The patterns as cleaned (exceptions with their '!').
  std::vector<std::string> patterns() const;

 private:
  struct Pattern {
    std::string text;  // cleaned
    bool exception = false;
    std::vector<detail::IgnoreToken> tokens;
  };
  std::vector<Pattern> patterns_;
  bool has_exceptions_ = false;
};

// Whether `pattern` (cleaned, no '!') matches the whole of `path`.
bool ignore_pattern_matches(std::string_view pattern, std::string_view path);
// Go's filepath.Clean for '/'-separated paths, then without a leading '/'.
std::string clean_ignore_pattern(std::string_view pattern);

struct ContextLimits {
  std::uint64_t max_entries = 100'000;  // files and directories visited
  std::uint64_t max_bytes = std::uint64_t(4) << 30;
};

struct ContextSize {
  std::uint64_t bytes = 0;  // regular files' sizes (symlinks count as nothing)
  std::uint64_t files = 0;
  bool complete = true;  // false: a limit was reached and counting stopped: at least `bytes`
  std::string error;     // the context could not be read at all
};

// Walks `context_dir` (I/O), counting what `matcher` leaves in. Never follows symlinks;
// unreadable subdirectories are skipped. Stops at `limits` with complete=false.
ContextSize measure_context(const std::string& context_dir, const IgnoreMatcher& matcher, ContextLimits limits = {});

}  // namespace composewatch::images
