#include "tls_context.h"

#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/system/system_error.hpp>

#include <functional>

#include "composewatch/config/config.h"
#include <stdexcept>

namespace composewatch::http {
namespace {

namespace ssl = boost::asio::ssl;

int openssl_version(TlsVersion version) {
  switch (version) {
    case TlsVersion::tls10:
      return TLS1_VERSION;
    case TlsVersion::tls11:
      return TLS1_1_VERSION;
    case TlsVersion::tls12:
      return TLS1_2_VERSION;
    case TlsVersion::tls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// Runs one loading step and turns its failure into "tls_server_config.KEY: reason". A file
// that can not be opened says why, and how to hand a root-only key to the unit
// (unreadable_file_message), before OpenSSL turns it into a bare "system lib".
void step(const std::string& key, const std::string& source, const std::function<void()>& load) {
  if (!source.empty()) {
    try {
      check_readable(source);
    } catch (const config::ConfigError& e) {
      throw config::ConfigError("tls_server_config." + key + " " + e.what());
    }
  }
  try {
    load();
  } catch (const boost::system::system_error& e) {
    throw config::ConfigError("tls_server_config." + key + (source.empty() ? "" : " " + source) +
                              ": " + e.code().message());
  }
}

}  // namespace

ssl::context make_tls_context(const TlsServerConfig& config) {
  ssl::context context(ssl::context::tls_server);
  context.set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                      ssl::context::single_dh_use);
  SSL_CTX* native = context.native_handle();
  SSL_CTX_set_min_proto_version(native, openssl_version(config.min_version));
  SSL_CTX_set_max_proto_version(native, openssl_version(config.max_version));
  if (config.prefer_server_cipher_suites)
    SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);

  if (config.cert_file.empty()) {
    step("cert", "", [&] { context.use_certificate_chain(boost::asio::buffer(config.cert)); });
  } else {
    step("cert_file", config.cert_file,
         [&] { context.use_certificate_chain_file(config.cert_file); });
  }
  if (config.key_file.empty()) {
    step("key", "",
         [&] { context.use_private_key(boost::asio::buffer(config.key), ssl::context::pem); });
  } else {
    step("key_file", config.key_file,
         [&] { context.use_private_key_file(config.key_file, ssl::context::pem); });
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    throw config::ConfigError("tls_server_config: the key does not match the certificate");
  }

  if (config.client_auth == ClientAuth::none) return context;
  if (config.client_ca_file.empty()) {
    step("client_ca", "",
         [&] { context.add_certificate_authority(boost::asio::buffer(config.client_ca)); });
  } else {
    step("client_ca_file", config.client_ca_file, [&] {
      context.load_verify_file(config.client_ca_file);
      // Tells clients which CAs we accept, so they pick the right certificate.
      if (auto* names = SSL_load_client_CA_file(config.client_ca_file.c_str())) {
        SSL_CTX_set_client_CA_list(native, names);
      }
    });
  }
  // Without it OpenSSL refuses to resume sessions once client certificates are verified.
  static constexpr unsigned char kSessionContext[] = "composewatch";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  auto mode = ssl::verify_peer;
  if (config.client_auth == ClientAuth::require_and_verify)
    mode |= ssl::verify_fail_if_no_peer_cert;
  context.set_verify_mode(mode);
  return context;
}

}  // namespace composewatch::http
