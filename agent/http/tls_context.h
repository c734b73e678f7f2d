#pragma once
// The OpenSSL server context for tls_server_config. Private to agent/http: it pulls in
// Asio's SSL headers.

#include "web_config.h"

#include <boost/asio/ssl/context.hpp>

namespace composewatch::http {

// Loads the certificate chain, the key and the client CA and applies the version and
// client-auth policy. Throws config::ConfigError "tls_server_config.KEY: reason" when a
// file can not be read or parsed, or when the key does not match the certificate.
boost::asio::ssl::context make_tls_context(const TlsServerConfig& config);

}  // namespace composewatch::http
