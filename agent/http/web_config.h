#pragma once
// --web.config.file: the Prometheus exporter-toolkit web configuration (TLS and basic
// auth). Parsing is pure; certificates and keys are only read when the TLS context is
// made (tls_context.h).

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace composewatch::http {

enum class TlsVersion { tls10, tls11, tls12, tls13 };

// The client certificate policies we support, named as in the toolkit.
enum class ClientAuth {
  none,                // NoClientCert
  verify_if_given,     // VerifyClientCertIfGiven
  require_and_verify,  // RequireAndVerifyClientCert
};

struct TlsServerConfig {
  // Each PEM comes either from a file (paths made absolute against the config file's
  // directory) or inline; exactly one of cert/cert_file and of key/key_file is set.
  std::string cert_file, cert;
  std::string key_file, key;
  std::string client_ca_file, client_ca;  // set when client_auth is not none
  ClientAuth client_auth = ClientAuth::none;
  TlsVersion min_version = TlsVersion::tls12;
  TlsVersion max_version = TlsVersion::tls13;
  bool prefer_server_cipher_suites = true;
};

// The highest bcrypt cost basic_auth_users may use. Cost 14 is about a second per check
// on a small VPS; the toolkit's htpasswd advice is 10.
inline constexpr int kMaxBcryptCost = 14;

struct WebConfig {
  std::optional<TlsServerConfig> tls;                        // none: plain HTTP
  std::map<std::string, std::string> basic_auth_users;       // user -> bcrypt hash; empty: no auth
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response
};

// Parses the YAML text of a web config. Unknown keys, wrong types, bad values (a bcrypt
// cost above kMaxBcryptCost among them) and options of the toolkit that composewatch does
// not implement are errors; throws std::runtime_error "FILE:LINE: key: reason". Relative
// paths are resolved against `base_dir` when it is not empty.
WebConfig parse_web_config(const std::string& text, const std::string& file_name,
                           const std::string& base_dir = "");

// Reads and parses `path`; relative paths inside resolve against its directory, as the
// toolkit does. Throws config::ConfigError (a std::runtime_error) with the message above,
// or the one of unreadable_file_message when the file can not be read.
WebConfig load_web_config(const std::string& path);

// The one-line reason for a web config, certificate, key or client CA the agent could not
// open (`error` is the errno): "PATH: strerror", and for a permission error the fix as
// well: under the packaged unit the agent is a dynamic user, so a file readable by root
// alone reaches it through LoadCredential= (docs/install.md).
std::string unreadable_file_message(const std::string& path, int error);

// Opens `path` for reading and closes it; throws config::ConfigError with
// unreadable_file_message when that fails (OpenSSL's own errors do not name the cause).
void check_readable(const std::string& path);

}  // namespace composewatch::http
