#include "faulty_host.h"

#include <thread>

namespace composewatch::test_support {

FaultyHost::FaultyHost(std::string container_id, std::string inspect, std::size_t oversized,
                       std::filesystem::path socket_path)
    : FakeEngine({.socket_path = std::move(socket_path)}),
      id_(std::move(container_id)),
      inspect_(std::move(inspect)),
      oversized_(oversized) {
  // Every versioned call answers 400 while the engine refuses our version; /_ping (the
  // fake's own route) still answers.
  auto versioned = [this](Handler h) {
    return [this, h = std::move(h)](Exchange& x) {
      if (fault_ == Fault::client_too_new)
        return x.json(400, R"({"message":"client version 1.41 is too new. Maximum supported API version is 1.40"})");
      h(x);
    };
  };
  on("/v1.41/version", versioned([](Exchange& x) { x.json(200, R"({"Version":"99.0","ApiVersion":"1.41"})"); }));
  on("/v1.41/containers/json?limit=1", versioned([this](Exchange& x) { probe(x); }));
  on("/v1.41/containers/json?all=1", versioned([this](Exchange& x) { listing(x); }));
  on("/v1.41/containers/" + id_ + "/json", versioned([this](Exchange& x) { x.json(200, inspect_); }));
  on("/v1.41/events*", versioned([this](Exchange& x) {
       // The bounded replay after a reconnect (since=…&until=…): nothing was missed here.
       if (x.target().find("&until=") != std::string::npos) return x.json(200, "");
       stream(x);
     }));
  otherwise(versioned([](Exchange& x) { x.json(404, R"({"message":"fake: not here"})"); }));
}

// The routes use this object's members: the fake stops answering before they are destroyed.
FaultyHost::~FaultyHost() { stop(); }

void FaultyHost::set(Fault f) {
  fault_ = f;
  hang_up(f == Fault::close_at_once);
}

void FaultyHost::listing(Exchange& x) {
  const Fault f = fault_;
  if (f == Fault::listings_hang) return x.stall();
  if (f == Fault::listing_500) return x.json(500, R"({"message":"fake: internal error"})");
  if (f == Fault::listing_409) return x.json(409, R"({"message":"fake: conflict"})");
  const std::string body = R"([{"Id":")" + id_ + R"("}])";
  if (f == Fault::listing_stalls) {
    x.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body.substr(0, body.size() / 2));
    return x.stall();
  }
  x.json(200, body);
}

void FaultyHost::probe(Exchange& x) {
  ++probes_;
  const Fault f = fault_;
  if (f == Fault::listings_hang) return x.stall();
  if (f == Fault::probe_slow) std::this_thread::sleep_for(slow_probe);
  if (f == Fault::probe_fails_once) {
    fault_ = Fault::none;
    return x.json(500, R"({"message":"fake: once"})");
  }
  x.json(200, "[]");
}

void FaultyHost::stream(Exchange& x) {
  const int n = ++streams_;
  const Fault f = fault_;
  x.begin_stream();
  const std::string event = R"({"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{"name":"n"}},"timeNano":)" +
                            std::to_string(1000 + n) + "}\n";
  switch (f) {
    case Fault::stream_cut:
      return x.chunk(event + event.substr(0, 25));
    case Fault::stream_stalls:
      x.chunk(event.substr(0, 25));
      return x.stall();
    case Fault::stream_ends:
      x.chunk(event);
      return x.end_stream();
    case Fault::stream_garbage:
      x.chunk("this is not json\n");
      x.chunk("{\"Type\":\"" + std::string(oversized_, 'x') + "\"}\n");
      x.chunk(event);
      return x.stall();
    default:
      return x.stall();  // open and quiet
  }
}

}  // namespace composewatch::test_support
