#pragma once
// The fake engine (fake_engine.h) playing a small healthy host — one running container, a
// quiet event stream — and, on demand, one fault at a time: what the real engine cannot be
// made to do at a chosen moment (stall a listing halfway, answer 500 / 409 / "client
// version too new", hang up on every connection, send garbage, cut a line, hang its
// listings while `/_ping` and the stream still answer). Thread-safe: the test switches
// the fault while the fake's threads answer.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>

#include "fake_engine.h"

namespace composewatch::test_support {

enum class Fault {
  none,               // healthy: every call answered, the stream stays open and quiet
  listings_hang,      // /_ping, /version and the stream fine; GET /containers/json never answers
  probe_slow,         // the probe answers after `slow_probe`, within its deadline
  probe_fails_once,   // the next probe fails (500), the ones after answer
  listing_stalls,     // GET /containers/json?all=1: headers and half a body, then nothing
  listing_500,        // the listing answers 500
  listing_409,        // the listing answers 409
  client_too_new,     // every versioned call: 400 "client version 1.41 is too new"
  close_at_once,      // every connection is closed before anything is written
  stream_cut,         // the event stream ends in the middle of a line
  stream_garbage,     // the stream sends a line that is not JSON and an oversized one
  stream_stalls,      // the stream sends half a line, then nothing (the connection stays)
  stream_ends,        // the stream sends its headers and one event, then ends
};

class FaultyHost : public FakeEngine {
 public:
  // `container_id`/`inspect` describe the one container; `oversized` is the size of the
  // oversized line (above the client's line limit); `socket_path` as in FakeEngineOptions.
  FaultyHost(std::string container_id, std::string inspect, std::size_t oversized = 4096,
             std::filesystem::path socket_path = {});
  ~FaultyHost();

  void set(Fault f);
  Fault fault() const { return fault_; }
  // Event streams and liveness probes (GET /containers/json?limit=1) answered so far.
  int streams() const { return streams_; }
  int probes() const { return probes_; }
  // How long a probe takes under Fault::probe_slow.
  std::chrono::milliseconds slow_probe{150};

  // Ends the open event streams (as an engine restart would), so that the agent reconnects
  // into whatever fault is set.
  void drop_streams() { drop("/v1.41/events"); }

 private:
  void listing(Exchange& x);
  void probe(Exchange& x);
  void stream(Exchange& x);

  std::string id_, inspect_;
  std::size_t oversized_;
  std::atomic<Fault> fault_{Fault::none};
  std::atomic<int> streams_{0}, probes_{0};
};

}  // namespace composewatch::test_support
