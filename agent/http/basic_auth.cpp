#include "basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <memory>
#include <stdexcept>

namespace composewatch::http {
namespace {

// Compares in time that depends on the lengths only.
bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> base64_decode(std::string_view text) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    unsigned value = 0;
    int padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      value <<= 6;
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++padding;
        continue;
      }
      auto index = kAlphabet.find(c);
      if (index == std::string_view::npos || padding > 0) return std::nullopt;
      value |= static_cast<unsigned>(index);
    }
    out.push_back(static_cast<char>((value >> 16) & 0xff));
    if (padding < 2) out.push_back(static_cast<char>((value >> 8) & 0xff));
    if (padding < 1) out.push_back(static_cast<char>(value & 0xff));
  }
  return out;
}

std::string sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256 failed");
  }
  return std::string(reinterpret_cast<const char*>(digest.data()), size);
}

bool bcrypt_matches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();  // ~32 KiB, zeroed as crypt_rn requires
  const char* computed = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  return computed != nullptr && constant_time_equal(computed, hash);
}

constexpr std::size_t kMaxRemembered = 256;

}  // namespace

std::optional<BasicCredentials> parse_basic_authorization(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  constexpr std::string_view scheme = "basic ";
  if (value.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i]) return std::nullopt;
  }
  value.remove_prefix(scheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  auto decoded = base64_decode(value);
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users)
    : users_(users.begin(), users.end()) {
  if (users_.empty()) throw std::invalid_argument("basic auth without users");
}

namespace {

// A NUL would cut the password short for crypt; no real password has one.
std::optional<BasicCredentials> usable_credentials(std::string_view authorization) {
  auto credentials = parse_basic_authorization(authorization);
  if (!credentials || credentials->password.find('\0') != std::string::npos) return std::nullopt;
  return credentials;
}

std::string remembered_key(const BasicCredentials& credentials) {
  return sha256(credentials.user + '\0' + credentials.password);
}

}  // namespace

BasicAuth::Verdict BasicAuth::remembered(std::string_view authorization) const {
  auto credentials = usable_credentials(authorization);
  if (!credentials) return Verdict::denied;
  // Only credentials that passed are kept, so a stranger's guesses neither fill nor evict
  // the set, and a hit can only be a right password.
  auto key = remembered_key(*credentials);
  std::lock_guard lock(mutex_);
  return verified_.contains(key) ? Verdict::allowed : Verdict::unverified;
}

bool BasicAuth::verify(std::string_view authorization) const {
  auto credentials = usable_credentials(authorization);
  if (!credentials) return false;

  // Look at every user, so the time taken does not depend on where the name matches.
  const std::string* hash = nullptr;
  for (const auto& [user, user_hash] : users_) {
    if (constant_time_equal(user, credentials->user)) hash = &user_hash;
  }
  const bool known = hash != nullptr;
  if (!known) hash = &users_.front().second;  // same work as for a real user; result ignored

  if (!bcrypt_matches(credentials->password, *hash) || !known) return false;
  auto key = remembered_key(*credentials);
  std::lock_guard lock(mutex_);
  if (verified_.size() >= kMaxRemembered) verified_.clear();
  verified_.insert(key);
  return true;
}

bool BasicAuth::allows(std::string_view authorization) const {
  switch (remembered(authorization)) {
    case Verdict::allowed: return true;
    case Verdict::denied: return false;
    case Verdict::unverified: break;
  }
  return verify(authorization);
}

}  // namespace composewatch::http
