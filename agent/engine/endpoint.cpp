#include "composewatch/engine/endpoint.h"

#include <charconv>

namespace composewatch::engine {

Endpoint parse_endpoint(std::string_view s) {
  Endpoint ep;
  ep.text = std::string(s);
  auto bad = [&](const char* why) {
    return std::invalid_argument("docker host '" + std::string(s) + "': " + why);
  };
  if (s.starts_with("unix://")) {
    ep.kind = Endpoint::Kind::unix_socket;
    ep.path = std::string(s.substr(7));
    if (ep.path.empty() || ep.path.front() != '/') throw bad("expected unix:///absolute/path.sock");
    return ep;
  }
  if (s.starts_with("tcp://")) {
    ep.kind = Endpoint::Kind::tcp;
    std::string_view rest = s.substr(6);
    if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
    std::string_view host, port;
    if (rest.starts_with("[")) {
      auto close = rest.find(']');
      if (close == std::string_view::npos) throw bad("unterminated IPv6 address");
      host = rest.substr(1, close - 1);
      if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
    } else {
      auto colon = rest.rfind(':');
      host = rest.substr(0, colon);
      if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    }
    if (host.empty()) throw bad("missing host");
    if (port.empty()) port = "2375";
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p <= 0 || p > 65535) throw bad("bad port");
    ep.host = std::string(host);
    ep.port = std::string(port);
    return ep;
  }
  throw bad("only unix:// and tcp:// are supported");
}

ApiVersion parse_api_version(std::string_view text) {
  ApiVersion v;
  auto dot = text.find('.');
  if (dot == std::string_view::npos) throw std::invalid_argument("bad API version '" + std::string(text) + "'");
  auto r1 = std::from_chars(text.data(), text.data() + dot, v.major);
  auto r2 = std::from_chars(text.data() + dot + 1, text.data() + text.size(), v.minor);
  if (r1.ec != std::errc() || r2.ec != std::errc() || r2.ptr != text.data() + text.size())
    throw std::invalid_argument("bad API version '" + std::string(text) + "'");
  return v;
}

ApiVersion negotiate(std::string_view engine_api_version) {
  ApiVersion engine = parse_api_version(engine_api_version);
  if (engine < kMinApiVersion)
    throw std::runtime_error("the engine speaks API " + engine.str() + ", composewatch needs at least " +
                             kMinApiVersion.str());
  return engine < kMaxApiVersion ? engine : kMaxApiVersion;
}

}  // namespace composewatch::engine
