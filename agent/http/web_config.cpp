#include "web_config.h"

#include "composewatch/config/config.h"
#include "composewatch/yaml/document.h"

#include <crypt.h>
#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace composewatch::http {
namespace {

class Parser {
 public:
  Parser(std::string file_name, std::string base_dir)
      : file_name_(std::move(file_name)), base_dir_(std::move(base_dir)) {}

  WebConfig parse(const std::string& text) {
    YAML::Node root;
    try {
      root = yaml::load_one_document(text);
    } catch (const YAML::ParserException& e) {
      throw std::runtime_error(file_name_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    WebConfig config;
    if (root.IsNull()) return config;  // an empty file: plain HTTP, no auth
    for_each_key(root, "", [&](const std::string& key, const YAML::Node& value, int line) {
      if (key == "tls_server_config") {
        if (!value.IsNull()) config.tls = parse_tls(value, line);
      } else if (key == "http_server_config") {
        parse_http(value, config);
      } else if (key == "basic_auth_users") {
        parse_users(value, config);
      } else if (key == "rate_limit") {
        fail(line, key, "not supported by composewatch");
      } else {
        fail(line, key, "unknown key");
      }
    });
    return config;
  }

 private:
  using KeyHandler = std::function<void(const std::string&, const YAML::Node&, int)>;

  [[noreturn]] void fail(int line, const std::string& key, const std::string& reason) const {
    throw std::runtime_error(file_name_ + ":" + std::to_string(line) + ": " + key + ": " + reason);
  }

  static int line_of(const YAML::Node& node) { return node.Mark().line + 1; }

  // Calls `handle` with "parent.key" for every entry of the mapping `node`.
  void for_each_key(const YAML::Node& node, const std::string& parent,
                    const KeyHandler& handle) const {
    if (!node.IsMap())
      fail(line_of(node), parent.empty() ? "web config" : parent, "expected a mapping");
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) fail(line_of(entry.first), parent, "keys must be strings");
      auto key = entry.first.Scalar();
      handle(parent.empty() ? key : parent + "." + key, entry.second, line_of(entry.first));
    }
  }

  std::string string_of(const YAML::Node& value, const std::string& key, int line) const {
    if (value.IsNull()) return "";
    if (!value.IsScalar()) fail(line, key, "expected a string");
    return value.Scalar();
  }

  bool bool_of(const YAML::Node& value, const std::string& key, int line) const {
    bool result = false;
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, result)) {
      fail(line, key, "expected true or false");
    }
    return result;
  }

  std::string path_of(const YAML::Node& value, const std::string& key, int line) const {
    auto path = string_of(value, key, line);
    if (path.empty() || base_dir_.empty() || std::filesystem::path(path).is_absolute()) return path;
    return (std::filesystem::path(base_dir_) / path).lexically_normal().string();
  }

  TlsVersion version_of(const YAML::Node& value, const std::string& key, int line) const {
    auto text = string_of(value, key, line);
    if (text == "TLS10") return TlsVersion::tls10;
    if (text == "TLS11") return TlsVersion::tls11;
    if (text == "TLS12") return TlsVersion::tls12;
    if (text == "TLS13") return TlsVersion::tls13;
    fail(line, key, "\"" + text + "\" is not one of TLS10, TLS11, TLS12, TLS13");
  }

  TlsServerConfig parse_tls(const YAML::Node& node, int section_line) const {
    TlsServerConfig tls;
    const std::string section = "tls_server_config";
    std::optional<int> client_ca_line;
    for_each_key(node, section, [&](const std::string& key, const YAML::Node& value, int line) {
      auto name = key.substr(section.size() + 1);
      if (name == "cert_file") {
        tls.cert_file = path_of(value, key, line);
      } else if (name == "cert") {
        tls.cert = string_of(value, key, line);
      } else if (name == "key_file") {
        tls.key_file = path_of(value, key, line);
      } else if (name == "key") {
        tls.key = string_of(value, key, line);
      } else if (name == "client_ca_file") {
        tls.client_ca_file = path_of(value, key, line);
        client_ca_line = line;
      } else if (name == "client_ca") {
        tls.client_ca = string_of(value, key, line);
        client_ca_line = line;
      } else if (name == "client_auth_type") {
        auto type = string_of(value, key, line);
        if (type == "NoClientCert") {
          tls.client_auth = ClientAuth::none;
        } else if (type == "VerifyClientCertIfGiven") {
          tls.client_auth = ClientAuth::verify_if_given;
        } else if (type == "RequireAndVerifyClientCert") {
          tls.client_auth = ClientAuth::require_and_verify;
        } else if (type == "RequestClientCert" || type == "RequireAnyClientCert") {
          fail(line, key,
               type + " is not supported by composewatch (it accepts unverified certificates)");
        } else {
          fail(line, key, "\"" + type + "\" is not a client auth type");
        }
      } else if (name == "min_version") {
        tls.min_version = version_of(value, key, line);
      } else if (name == "max_version") {
        tls.max_version = version_of(value, key, line);
      } else if (name == "prefer_server_cipher_suites") {
        tls.prefer_server_cipher_suites = bool_of(value, key, line);
      } else if (name == "cipher_suites" || name == "curve_preferences" ||
                 name == "client_allowed_sans") {
        fail(line, key, "not supported by composewatch");
      } else {
        fail(line, key, "unknown key");
      }
    });

    auto both = [&](const std::string& a, const std::string& b) {
      fail(section_line, section, "set either " + a + " or " + b + ", not both");
    };
    if (!tls.cert.empty() && !tls.cert_file.empty()) both("cert", "cert_file");
    if (!tls.key.empty() && !tls.key_file.empty()) both("key", "key_file");
    if (!tls.client_ca.empty() && !tls.client_ca_file.empty()) both("client_ca", "client_ca_file");
    if (tls.cert.empty() && tls.cert_file.empty()) fail(section_line, section, "missing cert_file");
    if (tls.key.empty() && tls.key_file.empty()) fail(section_line, section, "missing key_file");
    const bool has_ca = !tls.client_ca.empty() || !tls.client_ca_file.empty();
    if (has_ca && tls.client_auth == ClientAuth::none) {
      fail(client_ca_line.value_or(section_line), section,
           "a client CA is set but client_auth_type is NoClientCert");
    }
    if (!has_ca && tls.client_auth != ClientAuth::none) {
      fail(section_line, section, "client_auth_type needs client_ca_file to verify certificates");
    }
    if (tls.min_version > tls.max_version) {
      fail(section_line, section, "min_version is above max_version");
    }
    return tls;
  }

  void parse_http(const YAML::Node& node, WebConfig& config) const {
    if (node.IsNull()) return;
    for_each_key(node, "http_server_config",
                 [&](const std::string& key, const YAML::Node& value, int line) {
                   if (key == "http_server_config.http2") {
                     // Accepted for compatibility; we serve HTTP/1.1, which every HTTP/2
                     // client falls back to.
                     bool_of(value, key, line);
                   } else if (key == "http_server_config.headers") {
                     parse_headers(value, config);
                   } else {
                     fail(line, key, "unknown key");
                   }
                 });
  }

  void parse_headers(const YAML::Node& node, WebConfig& config) const {
    if (node.IsNull()) return;
    static const std::vector<std::string> allowed = {"Content-Security-Policy", "X-Frame-Options",
                                                     "X-Content-Type-Options", "X-XSS-Protection",
                                                     "Strict-Transport-Security"};
    const std::string section = "http_server_config.headers";
    for_each_key(node, section, [&](const std::string& key, const YAML::Node& value, int line) {
      auto name = key.substr(section.size() + 1);
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        fail(line, key, "this header can not be configured");
      }
      auto text = string_of(value, key, line);
      if (name == "X-Frame-Options" && !text.empty() && text != "deny" && text != "sameorigin") {
        fail(line, key, "must be deny or sameorigin");
      }
      if (name == "X-Content-Type-Options" && !text.empty() && text != "nosniff") {
        fail(line, key, "must be nosniff");
      }
      if (!text.empty()) config.headers.emplace_back(name, text);  // blank: unset
    });
  }

  void parse_users(const YAML::Node& node, WebConfig& config) const {
    if (node.IsNull()) return;
    for_each_key(
        node, "basic_auth_users", [&](const std::string& key, const YAML::Node& value, int line) {
          auto user = key.substr(std::string("basic_auth_users.").size());
          auto hash = string_of(value, key, line);
          // Only bcrypt, as in the toolkit; crypt_checksalt rejects what libxcrypt
          // cannot verify.
          const bool bcrypt =
              hash.size() == 60 &&
              (hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$"));
          if (!bcrypt || crypt_checksalt(hash.c_str()) != CRYPT_SALT_OK) {
            fail(line, key, "not a bcrypt hash (make one with htpasswd -nBC 10 \"\")");
          }
          // "$2b$NN$": every new credential costs 2^NN rounds on the server; one at cost
          // 31 takes days, and even the bounded password worker (basic_auth.h) must not
          // be held that long by a single guess.
          const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
          if (cost > kMaxBcryptCost) {
            fail(line, key,
                 "bcrypt cost " + std::to_string(cost) + " is above " + std::to_string(kMaxBcryptCost) +
                     ": each check would take seconds of CPU (make the hash with htpasswd -nBC 10 \"\")");
          }
          if (user.find(':') != std::string::npos)
            fail(line, key, "user names can not contain ':'");
          config.basic_auth_users[user] = hash;
        });
  }

  std::string file_name_;
  std::string base_dir_;
};

}  // namespace

WebConfig parse_web_config(const std::string& text, const std::string& file_name,
                           const std::string& base_dir) {
  return Parser(file_name, base_dir).parse(text);
}

std::string unreadable_file_message(const std::string& path, int error) {
  std::string message = path + ": " + std::strerror(error);
  if (error == EACCES || error == EPERM)
    message +=
        ": the agent's user can not read it (the composewatch unit runs as a dynamic user); keep the "
        "file 0600 root and hand it to the unit as a credential: LoadCredential=NAME:" +
        path + " in `systemctl edit composewatch`, and name /run/credentials/composewatch.service/NAME "
        "in the web config (docs/install.md, TLS)";
  return message;
}

void check_readable(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw config::ConfigError(unreadable_file_message(path, errno));
  ::close(fd);
}

WebConfig load_web_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw config::ConfigError(unreadable_file_message(path, errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw config::ConfigError(path + ": can not be read");
  auto dir = std::filesystem::absolute(path).parent_path().string();
  try {
    return parse_web_config(text.str(), path, dir);
  } catch (const std::runtime_error& e) {
    throw config::ConfigError(e.what());
  }
}

}  // namespace composewatch::http
