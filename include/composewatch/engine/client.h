#pragma once
// Engine API client over HTTP/1.1 on a unix socket or TCP (Boost.Beast, C++20 coroutines).
// Included only by the engine and app layers; Asio stays out of widely included headers.
//
// Error policy: every coroutine throws EngineError with a one-line reason. Every request
// has a deadline (name resolution and connect, then the request); the event stream has one
// until its headers arrive and none after (a quiet stream is normal: the engine sends no
// heartbeats): engine::Liveness probes the engine beside it. On tcp:// the socket also has
// TCP keepalive and TCP_USER_TIMEOUT, so a half-open connection errors out by itself.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/docker/container.h"
#include "composewatch/docker/info.h"
#include "composewatch/engine/endpoint.h"

namespace composewatch::engine {

struct EngineError : std::runtime_error {
  enum class Kind { unreachable, permission_denied, api_refused, timeout, protocol, http_status };
  EngineError(Kind k, const std::string& what, unsigned status = 0)
      : std::runtime_error(what), kind(k), http_status(status) {}
  Kind kind;
  unsigned http_status;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{30'000};  // whole request, connect included
  std::size_t header_limit = 64 * 1024;
  std::size_t body_limit = 64 * 1024 * 1024;  // a listing of thousands of containers fits
  std::size_t event_line_limit = 1024 * 1024;
  // tcp:// only. Keepalive probes after `tcp_keepalive_idle` of silence, every
  // `tcp_keepalive_interval`, `tcp_keepalive_count` of them; TCP_USER_TIMEOUT drops a
  // connection whose sent data stays unacknowledged that long. Together: a peer that
  // vanished (host down, NAT state lost) shows as an error on the stream within about a
  // minute instead of the kernel's two hours.
  std::chrono::seconds tcp_keepalive_idle{30};
  std::chrono::seconds tcp_keepalive_interval{10};
  int tcp_keepalive_count = 3;
  std::chrono::milliseconds tcp_user_timeout{60'000};
};

using docker::VersionInfo;

// Request paths with an engine-named object in them. An id, a name or an image reference
// from the engine (or a user) goes into a path only through these: a '/', '?', '#', '%',
// ".." or a control byte would make the request mean another object or another endpoint
// than the one meant. A segment is what ids, container, volume and network names and
// image references are made of: letters, digits, '.', '_', '-', ':', '@' (and '/' in an
// image reference, which the engine takes in the path as it is), 1 to 512 bytes, no "..".
// Anything else throws UnsafePathError and no request is made.
struct UnsafePathError : EngineError {
  explicit UnsafePathError(std::string_view segment);
};
bool path_safe(std::string_view segment, bool reference = false);
// The segment itself; throws UnsafePathError when it is not path_safe.
std::string path_segment(std::string_view segment, bool reference = false);
// "/containers/{id}{suffix}", "/images/{reference}{suffix}", "/volumes/{name}{suffix}",
// "/networks/{id}{suffix}"; `suffix` is ours ("/json", "/stats?stream=false").
std::string container_path(std::string_view id_or_name, std::string_view suffix = {});
std::string image_path(std::string_view id_or_reference, std::string_view suffix = {});
std::string volume_path(std::string_view name, std::string_view suffix = {});
std::string network_path(std::string_view id_or_name, std::string_view suffix = {});

class EventStream;

class Client {
 public:
  Client(boost::asio::any_io_executor ex, Endpoint endpoint, ClientOptions options = {});
  ~Client();

  const Endpoint& endpoint() const { return endpoint_; }
  // The negotiated API version ("1.41"); empty before negotiate().
  std::string api_version() const;

  // GET /_ping; fixes the API version prefix as min(ours, engine's).
  boost::asio::awaitable<void> negotiate();
  boost::asio::awaitable<VersionInfo> version();
  boost::asio::awaitable<std::vector<std::string>> list_container_ids();
  // nullopt when the container is gone (404).
  boost::asio::awaitable<std::optional<docker::ContainerInfo>> inspect(std::string id);
  // Lists every container and inspects each, one after the other; those removed in
  // between are left out.
  boost::asio::awaitable<std::vector<docker::ContainerInfo>> inspect_all();
  // Opens GET /events (optionally since a timeNano); returns once the headers are in.
  boost::asio::awaitable<std::unique_ptr<EventStream>> events(std::optional<std::int64_t> since_nano);

  // Raw requests for other components, `target` without the version prefix
  // ("/volumes/x"): the body of a 2xx answer; otherwise EngineError, kind http_status with
  // http_status set and the engine's message ("DELETE /v1.41/volumes/x: engine answered
  // 409: ..."). POST sends an empty body. Same deadline and limits for all three.
  boost::asio::awaitable<std::string> get(std::string target);
  // The same under a deadline of its own (for connect and request) instead of
  // request_timeout: for probes that must answer sooner than a listing.
  boost::asio::awaitable<std::string> get(std::string target, std::chrono::milliseconds deadline);
  boost::asio::awaitable<std::string> post(std::string target);
  boost::asio::awaitable<std::string> del(std::string target);

 private:
  enum class Method { get, post, del };
  boost::asio::awaitable<std::string> call(Method method, std::string target, ClientOptions options);

  boost::asio::any_io_executor ex_;
  Endpoint endpoint_;
  ClientOptions options_;
  std::string prefix_;  // "/v1.41"
};

// The open event stream. read() waits for the next data and calls on_line for each
// complete line; returns false at the end of the stream (the engine went away). close()
// makes a pending read() end (false) at once: how a watchdog beside it stops it.
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual boost::asio::awaitable<bool> read(const std::function<void(std::string_view)>& on_line) = 0;
  virtual void close() = 0;
  // Lines longer than ClientOptions::event_line_limit, dropped so far.
  virtual std::size_t dropped_lines() const = 0;
  // Bytes of a line not yet ended by '\n': after the end of the stream, a line cut short.
  virtual std::size_t pending_bytes() const = 0;
};

}  // namespace composewatch::engine
