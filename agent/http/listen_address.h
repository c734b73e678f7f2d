#pragma once
// Parsing --web.listen-address. Pure; no name resolution here.

#include <cstdint>
#include <string>
#include <string_view>

namespace composewatch::http {

struct ListenAddress {
  std::string host;  // empty: all interfaces; an IPv6 literal comes without brackets
  std::uint16_t port = 0;
};

// Accepts "host:port", "[v6addr]:port" and ":port" (all interfaces), as Go's net.Listen
// does. Throws std::invalid_argument with a one-line reason (no address prefix; the
// caller adds it).
ListenAddress parse_listen_address(std::string_view text);

}  // namespace composewatch::http
