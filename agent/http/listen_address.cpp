#include "listen_address.h"

#include <charconv>
#include <stdexcept>

namespace composewatch::http {

ListenAddress parse_listen_address(std::string_view text) {
  ListenAddress address;
  std::string_view port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("missing ']' in address");
    address.host = std::string(text.substr(1, close - 1));
    if (address.host.empty()) throw std::invalid_argument("empty IPv6 address in brackets");
    auto rest = text.substr(close + 1);
    if (!rest.starts_with(':')) throw std::invalid_argument("missing port in address");
    port = rest.substr(1);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) throw std::invalid_argument("missing port in address");
    address.host = std::string(text.substr(0, colon));
    if (address.host.find(':') != std::string::npos) {
      throw std::invalid_argument("too many colons in address (put an IPv6 address in brackets)");
    }
    port = text.substr(colon + 1);
  }
  if (port.empty()) throw std::invalid_argument("missing port in address");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    throw std::invalid_argument("invalid port \"" + std::string(port) + "\"");
  }
  address.port = static_cast<std::uint16_t>(value);
  return address;
}

}  // namespace composewatch::http
