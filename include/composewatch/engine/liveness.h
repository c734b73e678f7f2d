#pragma once
// Liveness of the engine while its event stream is open. The stream itself proves
// nothing when it is quiet (the engine sends no heartbeats, and a quiet host has no
// events), and a hung dockerd or a half-open tcp:// connection keeps it "open" for hours.
// So, beside the stream, the engine is asked every `interval` for what the agent depends
// on, under a deadline; after `failures_to_fail` failed probes in a row the stream is
// closed, which ends the follower's connection: engine_up goes to 0 with the reason, and
// the reconnect loop takes over.
//
// The probe is GET /containers/json?limit=1: the listing the agent re-lists with after
// every reconnect, served from the same container store as the inspects that follow
// events. `/_ping` is not proof: it is answered without touching that store, and was seen
// answering while listings and `/info` hung for minutes during a mass `docker rm -f`.
// `/info` is not used: the agent does not depend on it, and it also walks images, the
// storage driver and plugins, the slowest parts of a loaded engine.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>

#include "composewatch/engine/client.h"

namespace composewatch::engine {

// The defaults notice a hung engine within interval + deadline + interval + deadline
// (70 s) and do not call a merely slow one dead: it has to miss two 20 s deadlines in a
// row, over 100 times what the probe took (0.15 s at most) on a 2-core machine while 150
// containers were created and then removed with `docker rm -f`, 16 at a time.
struct LivenessOptions {
  std::chrono::milliseconds interval{15'000};  // from the end of one probe to the next
  std::chrono::milliseconds deadline{20'000};  // per probe (connect, then the request)
  int failures_to_fail = 2;                    // failed probes in a row that end the stream
};

// The probe's target, without the API version prefix.
inline constexpr const char* kLivenessProbeTarget = "/containers/json?limit=1";

// One per open event stream; lives inside the follower's connection (not a job of its
// own: it watches that stream and ends with it). Not thread-safe: the writer's executor.
class Liveness {
 public:
  using OnLive = std::function<void(std::chrono::system_clock::time_point)>;
  // `client` is the connection's negotiated client; `on_live` is told the time of every
  // probe the engine answered.
  Liveness(boost::asio::any_io_executor ex, Client& client, LivenessOptions options, OnLive on_live = {});

  // Probes until the engine fails `failures_to_fail` probes in a row; then closes
  // `stream` (a read pending on it ends) and returns, failure() saying why. Each failed
  // probe is logged at warn with call=, failures= and error=. Also returns, with no
  // failure, when cancelled (the stream ended first).
  boost::asio::awaitable<void> guard(EventStream& stream);

  // After guard() returned: EngineError naming the call, the number of failures in a
  // row and the last reason (kind timeout when the engine did not answer); nullopt when
  // the engine answered.
  const std::optional<EngineError>& failure() const { return failure_; }

 private:
  boost::asio::any_io_executor ex_;
  Client& client_;
  LivenessOptions options_;
  OnLive on_live_;
  std::optional<EngineError> failure_;
};

}  // namespace composewatch::engine
