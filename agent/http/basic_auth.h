#pragma once
// HTTP basic authentication against bcrypt hashes (basic_auth_users of the web config).

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace composewatch::http {

struct BasicCredentials {
  std::string user;
  std::string password;
};

// Decodes an Authorization header value "Basic base64(user:password)"; none when it is
// absent, of another scheme or malformed.
std::optional<BasicCredentials> parse_basic_authorization(std::string_view value);

// The checks are split so that a stranger cannot spend the server's CPU where a scraper
// needs it: remembered() is cheap (a SHA-256 and a lookup) and runs on the I/O thread;
// verify() is the deliberately slow bcrypt, which the server runs only on its own
// password worker with a bounded queue (server.cpp), never on a handler thread.
class BasicAuth {
 public:
  // `users`: user name -> bcrypt hash, as validated by parse_web_config; not empty.
  explicit BasicAuth(std::map<std::string, std::string> users);

  enum class Verdict {
    allowed,     // these credentials passed verify() before
    denied,      // no Authorization header, another scheme, or malformed
    unverified,  // Basic credentials not seen to pass yet: verify() decides
  };
  // Thread-safe; costs no bcrypt.
  Verdict remembered(std::string_view authorization) const;

  // True when the Authorization header value names a user and the right password; a
  // success is remembered, keyed by a SHA-256 of user and password as the toolkit does,
  // so that remembered() allows them from then on. Thread-safe. Costs one bcrypt
  // computation (tens of milliseconds at cost 10), also for unknown users so that timing
  // does not reveal which names exist.
  bool verify(std::string_view authorization) const;

  // remembered(), then verify() when that cannot decide.
  bool allows(std::string_view authorization) const;

 private:
  std::vector<std::pair<std::string, std::string>> users_;
  mutable std::mutex mutex_;
  mutable std::set<std::string> verified_;  // SHA-256 of "user\0password" that passed
};

}  // namespace composewatch::http
