#pragma once
// Where the engine listens: DOCKER_HOST / --docker.host. Pure parsing.

#include <stdexcept>
#include <string>
#include <string_view>

namespace composewatch::engine {

struct Endpoint {
  enum class Kind { unix_socket, tcp } kind = Kind::unix_socket;
  std::string path;  // unix socket path
  std::string host;  // tcp
  std::string port;  // tcp
  std::string text;  // as given, for messages
};

// "unix:///var/run/docker.sock", "tcp://127.0.0.1:2375", "tcp://[::1]:2375". Throws
// std::invalid_argument naming the value for anything else (ssh://, npipe://, no port).
Endpoint parse_endpoint(std::string_view docker_host);

// The API version used: min(ours, the engine's). Versions are "1.NN".
struct ApiVersion {
  int major = 1, minor = 41;
  bool operator<(const ApiVersion& o) const { return major != o.major ? major < o.major : minor < o.minor; }
  bool operator==(const ApiVersion& o) const = default;
  std::string str() const { return std::to_string(major) + "." + std::to_string(minor); }
};
// The newest the agent has been tested against: Docker 28.5 (ctest label engine-28). What
// differs between the versions we speak, and what we do about it: docs/engines.md.
inline constexpr ApiVersion kMaxApiVersion{1, 51};
inline constexpr ApiVersion kMinApiVersion{1, 24};  // oldest with what we read (health, events filters)

// Parses "1.41"; throws std::invalid_argument.
ApiVersion parse_api_version(std::string_view text);
// min(ours, engine's); throws std::runtime_error when the engine is older than we support.
ApiVersion negotiate(std::string_view engine_api_version);

}  // namespace composewatch::engine
