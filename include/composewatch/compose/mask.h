#pragma once
// Hiding secrets in the text composewatch shows about a compose project — healthcheck
// commands in drift details (the status page, `check`, `diagnose`) and load errors (the
// status page, the log, every command) — by the rule `check` uses for secrets (lint.h's
// is_secret_key). Pure.
//
// Hidden, each replaced by kMasked:
//  - every value the mask was given (add()): the loader gives it the values interpolated
//    into the project from the environment or an env file, the values of variables whose
//    key looks secret, and the services' environment values under such keys;
//  - in the text itself, the value after KEY= when KEY looks secret (PGPASSWORD=…,
//    --db-password=…), and the password of a URL (scheme://user:password@host).
// A given value is hidden where it stands as a word of its own or inside punctuation, not
// inside a longer run of letters and digits ("1" in "10"); values shorter than
// kMinMaskedLength are not searched for (they are counts and flags, and hiding them would
// hide every such character), though the KEY= and URL rules hide short values too. A
// value the mask was not given and that no rule catches (a secret rotated since a
// container was created, quoted without a key) is not hidden.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace composewatch::compose {

inline constexpr std::string_view kMasked = "*****";
inline constexpr std::size_t kMinMaskedLength = 3;

class SecretMask {
 public:
  // Hides `value` from now on (ignored when shorter than kMinMaskedLength).
  void add(std::string value);
  // `text` with the secrets replaced by kMasked.
  std::string apply(std::string_view text) const;
  bool empty() const { return values_.empty(); }

 private:
  std::vector<std::string> values_;  // longest first, so that a value inside another is not half-hidden
};

}  // namespace composewatch::compose
