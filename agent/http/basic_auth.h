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

class BasicAuth {
 public:
  // `users`: user name -> bcrypt hash, as validated by parse_web_config; not empty.
  explicit BasicAuth(std::map<std::string, std::string> users);

  // True when the Authorization header value names a user and the right password.
  // Thread-safe. Costs one bcrypt computation (tens of milliseconds at cost 10), also
  // for unknown users so that timing does not reveal which names exist; credentials that
  // passed once are remembered and then cost a hash lookup, as in the toolkit.
  bool allows(std::string_view authorization) const;

 private:
  std::vector<std::pair<std::string, std::string>> users_;
  mutable std::mutex mutex_;
  mutable std::set<std::string> verified_;  // SHA-256 of "user\0password" that passed
};

}  // namespace composewatch::http
