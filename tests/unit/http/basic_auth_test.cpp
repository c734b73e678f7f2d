#include "../../../agent/http/basic_auth.h"

#include <crypt.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace composewatch::http {
namespace {

std::string bcrypt(const std::string& password, const char* prefix = "$2b$",
                   unsigned long cost = 4) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn(prefix, cost, nullptr, 0, salt, sizeof salt))
    throw std::runtime_error("gensalt");
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), salt, data.get(), sizeof(crypt_data));
  if (!hash) throw std::runtime_error("crypt_rn");
  return hash;
}

// "Basic " + base64(user_and_password), encoded here independently of the decoder.
std::string header(const std::string& user_and_password) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Basic ";
  const auto& in = user_and_password;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      v = v << 8 | (i + k < in.size() ? static_cast<unsigned char>(in[i + k]) : 0u);
    }
    const std::size_t chars = std::min<std::size_t>(in.size() - i, 3) + 1;
    for (std::size_t k = 0; k < 4; ++k)
      out += k < chars ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

TEST(HttpBasicAuth, ParsesTheAuthorizationHeader) {
  auto c = parse_basic_authorization("Basic YWxpY2U6czNjcjN0");  // alice:s3cr3t
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "s3cr3t");
  auto colon = parse_basic_authorization("basic " + header("bob:a:b").substr(6));
  ASSERT_TRUE(colon);
  EXPECT_EQ(colon->user, "bob");
  EXPECT_EQ(colon->password, "a:b");  // only the first colon separates
  EXPECT_EQ(parse_basic_authorization(header("x:"))->password, "");
  EXPECT_EQ(parse_basic_authorization(header("ab:cd"))->user, "ab");  // one '=' of padding
}

TEST(HttpBasicAuth, RejectsMalformedHeaders) {
  for (const char* bad : {"", "Basic", "Basic ", "Bearer YWxpY2U6czNjcjN0", "Basic YWxpY2U6czNjcjN",
                          "Basic YWxp!2U6czNjcjN0", "Basic YWxpY2U=czNjcjN0", "Basic YWxpY2U",
                          "BasicYWxpY2U6czNjcjN0"}) {
    EXPECT_FALSE(parse_basic_authorization(bad)) << bad;
  }
}

TEST(HttpBasicAuth, ChecksPasswordsAgainstBcryptHashes) {
  BasicAuth auth({{"alice", bcrypt("s3cr3t")}, {"bob", bcrypt("hunter2", "$2y$")}});
  EXPECT_TRUE(auth.allows(header("alice:s3cr3t")));
  EXPECT_TRUE(auth.allows(header("alice:s3cr3t")));  // again, from what was remembered
  EXPECT_TRUE(auth.allows(header("bob:hunter2")));
  EXPECT_FALSE(auth.allows(header("alice:hunter2")));
  EXPECT_FALSE(auth.allows(header("bob:s3cr3t")));
  EXPECT_FALSE(auth.allows(header("alice:s3cr3t ")));
  EXPECT_FALSE(auth.allows(header("Alice:s3cr3t")));
  EXPECT_FALSE(auth.allows(header("carol:s3cr3t")));  // unknown, even with alice's password
  EXPECT_FALSE(auth.allows(header("alice:s3cr3t").substr(1)));
  EXPECT_FALSE(auth.allows(""));
}

TEST(HttpBasicAuth, UnknownUsersCostAsMuchAsKnownOnes) {
  BasicAuth auth({{"alice", bcrypt("s3cr3t", "$2b$", 8)}});
  auto time = [&](const std::string& credentials) {
    auto started = std::chrono::steady_clock::now();
    EXPECT_FALSE(auth.allows(header(credentials)));
    return std::chrono::steady_clock::now() - started;
  };
  auto known = time("alice:wrong");
  auto unknown = time("mallory:wrong");
  EXPECT_GT(unknown, known / 3);  // both do a cost-8 bcrypt; a shortcut would be ~1000x faster
}

// What the server asks on its I/O thread, without a bcrypt: only credentials that passed
// verify() are allowed; anything else is either refused outright or left to verify().
TEST(HttpBasicAuth, RemembersOnlyCredentialsThatPassed) {
  BasicAuth auth({{"alice", bcrypt("s3cr3t")}});
  using V = BasicAuth::Verdict;
  EXPECT_EQ(auth.remembered(""), V::denied);
  EXPECT_EQ(auth.remembered("Bearer abc"), V::denied);
  EXPECT_EQ(auth.remembered(header("alice:s3cr3t")), V::unverified);
  EXPECT_FALSE(auth.verify(header("alice:wrong")));
  EXPECT_EQ(auth.remembered(header("alice:wrong")), V::unverified) << "a failure is not remembered";
  EXPECT_FALSE(auth.verify(header("mallory:s3cr3t")));
  EXPECT_EQ(auth.remembered(header("mallory:s3cr3t")), V::unverified);
  EXPECT_TRUE(auth.verify(header("alice:s3cr3t")));
  EXPECT_EQ(auth.remembered(header("alice:s3cr3t")), V::allowed);
  EXPECT_EQ(auth.remembered(header("alice:s3cr3t!")), V::unverified);
}

}  // namespace
}  // namespace composewatch::http
