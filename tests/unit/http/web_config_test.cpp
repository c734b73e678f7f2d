#include "../../../agent/http/web_config.h"

#include "composewatch/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace composewatch::http {
namespace {

using ::testing::HasSubstr;

// A real bcrypt hash ("$2y$" as htpasswd writes them).
const std::string kHash = "$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG";

std::string error_of(const std::string& yaml) {
  try {
    parse_web_config(yaml, "web.yml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(HttpWebConfig, EmptyFileMeansPlainHttpWithoutAuth) {
  auto config = parse_web_config("", "web.yml");
  EXPECT_FALSE(config.tls);
  EXPECT_TRUE(config.basic_auth_users.empty());
  EXPECT_TRUE(config.headers.empty());
  EXPECT_FALSE(parse_web_config("tls_server_config:\n", "web.yml").tls);
}

// Fuzz finding: yaml-cpp returned null for a file that is a stray ',' (and ignored what
// followed the first document), so a broken web config meant plain HTTP without auth.
TEST(HttpWebConfig, StrayTokensAndSecondDocumentsAreErrors) {
  EXPECT_EQ(error_of(","), "web.yml:1: unexpected ',' (outside of a [list] or {mapping})");
  EXPECT_EQ(error_of("basic_auth_users: {}\n---\ntls_server_config: {}\n"),
            "web.yml:3: more than one YAML document; expected one");
}

TEST(HttpWebConfig, ParsesTheToolkitFormat) {
  auto config = parse_web_config(R"(
tls_server_config:
  cert_file: server.crt
  key_file: /etc/composewatch/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.pem
  min_version: TLS13
  prefer_server_cipher_suites: false
http_server_config:
  http2: true
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
    Content-Security-Policy: ""
basic_auth_users:
  alice: )" + kHash + R"(
  bob: ')" + kHash + R"('
)",
                                 "web.yml", "/etc/composewatch");
  ASSERT_TRUE(config.tls);
  EXPECT_EQ(config.tls->cert_file, "/etc/composewatch/server.crt");
  EXPECT_EQ(config.tls->key_file, "/etc/composewatch/server.key");
  EXPECT_EQ(config.tls->client_ca_file, "/etc/composewatch/ca.pem");
  EXPECT_EQ(config.tls->client_auth, ClientAuth::require_and_verify);
  EXPECT_EQ(config.tls->min_version, TlsVersion::tls13);
  EXPECT_EQ(config.tls->max_version, TlsVersion::tls13);
  EXPECT_FALSE(config.tls->prefer_server_cipher_suites);
  ASSERT_EQ(config.headers.size(), 2u);  // the blank one is unset
  EXPECT_EQ(config.headers[0].first, "X-Frame-Options");
  EXPECT_EQ(config.headers[1].second, "max-age=31536000");
  EXPECT_EQ(config.basic_auth_users.size(), 2u);
  EXPECT_EQ(config.basic_auth_users.at("alice"), kHash);
}

TEST(HttpWebConfig, InlinePem) {
  auto config = parse_web_config(
      "tls_server_config:\n  cert: |\n    -----BEGIN CERTIFICATE-----\n    abc\n"
      "    -----END CERTIFICATE-----\n  key: secret\n",
      "web.yml");
  ASSERT_TRUE(config.tls);
  EXPECT_EQ(config.tls->cert, "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(config.tls->key, "secret");
  EXPECT_EQ(config.tls->cert_file, "");
}

TEST(HttpWebConfig, UnknownKeysNameTheKeyAndLine) {
  EXPECT_EQ(error_of("basic_auth_users: {}\ntls_config:\n  cert_file: a\n"),
            "web.yml:2: tls_config: unknown key");
  EXPECT_EQ(error_of("tls_server_config:\n  cert_file: a\n  key_file: b\n  certfile: c\n"),
            "web.yml:4: tls_server_config.certfile: unknown key");
  EXPECT_EQ(
      error_of("http_server_config:\n  headers:\n    X-Powered-By: me\n"),
      "web.yml:3: http_server_config.headers.X-Powered-By: this header can not be configured");
}

TEST(HttpWebConfig, ToolkitOptionsWeDoNotImplementAreErrorsNotIgnored) {
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [x]\n"),
              HasSubstr("web.yml:4: tls_server_config.cipher_suites: not supported"));
  EXPECT_THAT(error_of("rate_limit:\n  interval: 1s\n"),
              HasSubstr("web.yml:1: rate_limit: not supported"));
  EXPECT_THAT(
      error_of("tls_server_config:\n  cert_file: a\n  key_file: b\n"
               "  client_auth_type: RequireAnyClientCert\n  client_ca_file: c\n"),
      HasSubstr(
          "web.yml:4: tls_server_config.client_auth_type: RequireAnyClientCert is not supported"));
}

TEST(HttpWebConfig, BadValues) {
  EXPECT_THAT(error_of("basic_auth_users:\n  alice: hunter2\n"),
              HasSubstr("web.yml:2: basic_auth_users.alice: not a bcrypt hash"));
  EXPECT_THAT(error_of("basic_auth_users:\n  alice: $1$abcdefgh$0123456789012345678901\n"),
              HasSubstr("not a bcrypt hash"));
  EXPECT_THAT(error_of("basic_auth_users: [alice]\n"),
              HasSubstr("web.yml:1: basic_auth_users: expected a mapping"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: [a]\n  key_file: b\n"),
              HasSubstr("web.yml:2: tls_server_config.cert_file: expected a string"));
  EXPECT_THAT(
      error_of("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS1.2\n"),
      HasSubstr("web.yml:4: tls_server_config.min_version: \"TLS1.2\" is not one of"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n"
                       "  max_version: TLS12\n"),
              HasSubstr("min_version is above max_version"));
  EXPECT_THAT(error_of("http_server_config:\n  http2: maybe\n"),
              HasSubstr("web.yml:2: http_server_config.http2: expected true or false"));
  EXPECT_THAT(error_of("tls_server_config: [\n"), HasSubstr("web.yml:2: "));  // YAML syntax
}

// A hash of a high cost makes every check of a new credential take seconds to days of CPU
// (cost 31: 2^31 rounds): refused where the file is loaded, not discovered under load.
TEST(HttpWebConfig, BcryptCostsAbove14AreRefused) {
  auto hash_of_cost = [](const char* cost) {
    std::string h = kHash;
    return h.replace(4, 2, cost);
  };
  EXPECT_EQ(parse_web_config("basic_auth_users:\n  alice: " + hash_of_cost("14") + "\n", "web.yml")
                .basic_auth_users.at("alice"),
            hash_of_cost("14"));
  EXPECT_EQ(parse_web_config("basic_auth_users:\n  alice: " + hash_of_cost("04") + "\n", "web.yml")
                .basic_auth_users.size(),
            1u);
  for (const char* cost : {"15", "20", "31"}) {
    EXPECT_EQ(error_of("basic_auth_users:\n  bob: " + kHash + "\n  alice: " + hash_of_cost(cost) + "\n"),
              std::string("web.yml:3: basic_auth_users.alice: bcrypt cost ") + cost +
                  " is above 14: each check would take seconds of CPU (make the hash with htpasswd -nBC 10 \"\")");
  }
}

TEST(HttpWebConfig, IncompleteTls) {
  EXPECT_THAT(error_of("tls_server_config:\n  key_file: b\n"),
              HasSubstr("web.yml:1: tls_server_config: missing cert_file"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: a\n"), HasSubstr("missing key_file"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: a\n  cert: x\n  key_file: b\n"),
              HasSubstr("either cert or cert_file"));
  EXPECT_THAT(
      error_of("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n"),
      HasSubstr(
          "web.yml:4: tls_server_config: a client CA is set but client_auth_type is NoClientCert"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                       "  client_auth_type: VerifyClientCertIfGiven\n"),
              HasSubstr("needs client_ca_file"));
}

TEST(HttpWebConfig, LoadResolvesPathsAgainstTheFilesDirectory) {
  auto dir = std::filesystem::temp_directory_path() / "composewatch_web_config_test";
  std::filesystem::create_directories(dir);
  auto path = dir / "web.yml";
  std::ofstream(path)
      << "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n";
  auto config = load_web_config(path.string());
  ASSERT_TRUE(config.tls);
  EXPECT_EQ(config.tls->cert_file, (dir / "tls/server.crt").string());
  std::filesystem::remove_all(dir);

  EXPECT_THROW(load_web_config((dir / "missing.yml").string()), config::ConfigError);
}

// A key the agent may not read (0600 root under the unit's dynamic user): one line naming
// the file, the cause and the fix, the credentials way. The tests run as root, whom no mode
// stops, so the message is checked here for EACCES and the unit's real refusal in
// tests/systemd.
TEST(HttpWebConfig, AnUnreadableFileNamesItselfTheCauseAndTheCredentialsFix) {
  const std::string m = unreadable_file_message("/etc/composewatch/tls/key.pem", EACCES);
  EXPECT_THAT(m, ::testing::StartsWith("/etc/composewatch/tls/key.pem: Permission denied: "));
  EXPECT_THAT(m, HasSubstr("LoadCredential=NAME:/etc/composewatch/tls/key.pem"));
  EXPECT_THAT(m, HasSubstr("/run/credentials/composewatch.service/NAME"));
  EXPECT_THAT(m, HasSubstr("systemctl edit composewatch"));
  EXPECT_EQ(m.find('\n'), std::string::npos) << "one line";
  // A missing file is not a permission problem: no advice about credentials.
  EXPECT_EQ(unreadable_file_message("/etc/x.pem", ENOENT), "/etc/x.pem: No such file or directory");
}

TEST(HttpWebConfig, LoadingErrorsAreConfigErrors) {
  auto dir = std::filesystem::temp_directory_path() / "composewatch_web_config_errors";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "web.yml") << "tls_server_config:\n  certfile: a\n";
  try {
    load_web_config((dir / "web.yml").string());
    ADD_FAILURE() << "no error";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("web.yml:2: tls_server_config.certfile: unknown key"));
  }
  try {
    check_readable((dir / "missing.pem").string());
    ADD_FAILURE() << "no error";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "missing.pem").string() + ": No such file or directory");
  }
  EXPECT_NO_THROW(check_readable((dir / "web.yml").string()));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace composewatch::http
