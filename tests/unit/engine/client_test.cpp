// The engine client against the fake engine (tests/support/fake_engine.h). A fake is used only for what
// the real engine cannot do on demand: refuse our API version, stall, answer garbage.
// Everything else is tested against the real dockerd in tests/integration/.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <filesystem>
#include <functional>

#include "composewatch/engine/client.h"
#include "fake_engine.h"

using namespace composewatch;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

using test_support::Exchange;
using test_support::FakeEngine;

template <class T>
T run_sync(asio::io_context& ioc, asio::awaitable<T> aw) {
  auto fut = asio::co_spawn(ioc, std::move(aw), asio::use_future);
  ioc.run();
  ioc.restart();
  return fut.get();
}

engine::EngineError::Kind error_kind(const std::function<void()>& f) {
  try {
    f();
  } catch (const engine::EngineError& e) {
    return e.kind;
  }
  ADD_FAILURE() << "no EngineError thrown";
  return engine::EngineError::Kind::protocol;
}

}  // namespace

TEST(EngineClient, NoEngineIsAClearUnreachableError) {
  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint("unix:///nonexistent/cw/docker.sock"));
  try {
    run_sync(ioc, client.negotiate());
    FAIL() << "expected an error";
  } catch (const engine::EngineError& e) {
    EXPECT_EQ(e.kind, engine::EngineError::Kind::unreachable);
    EXPECT_NE(std::string(e.what()).find("unix:///nonexistent/cw/docker.sock"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("is dockerd running?"), std::string::npos) << e.what();
  }
}

TEST(EngineClient, RefusesAnEngineOlderThanWeSupport) {
  FakeEngine fake({.api_version = "1.12"});
  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()));
  EXPECT_EQ(error_kind([&] { run_sync(ioc, client.negotiate()); }), engine::EngineError::Kind::api_refused);
}

TEST(EngineClient, UsesTheLowerApiVersionAndReportsAnEngineThatRefusesIt) {
  // A newer engine (Docker 29) rejects clients below 1.44 with 400.
  FakeEngine fake({.api_version = "1.53"});
  fake.otherwise([](Exchange& x) {
    x.json(400, R"({"message":"client version 1.51 is too old. Minimum supported API version is 1.52"})");
  });
  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()));
  run_sync(ioc, client.negotiate());
  EXPECT_EQ(client.api_version(), engine::kMaxApiVersion.str());
  try {
    run_sync(ioc, client.list_container_ids());
    FAIL();
  } catch (const engine::EngineError& e) {
    EXPECT_EQ(e.kind, engine::EngineError::Kind::api_refused);
    EXPECT_NE(std::string(e.what()).find("too old"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fake.targets().back(), "/v" + engine::kMaxApiVersion.str() + "/containers/json?all=1");
}

TEST(EngineClient, AStalledEngineTimesOut) {
  FakeEngine fake;
  fake.on("/_ping", [](Exchange& x) { x.stall(); }).otherwise([](Exchange& x) { x.stall(); });  // accepts, never answers
  asio::io_context ioc;
  engine::ClientOptions opts;
  opts.request_timeout = 300ms;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()), opts);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(error_kind([&] { run_sync(ioc, client.negotiate()); }), engine::EngineError::Kind::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(EngineClient, InspectOfAGoneContainerIsEmpty) {
  FakeEngine fake;
  fake.on("/v1.41/containers/x/json", 404, R"({"message":"No such container: x"})");
  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()));
  EXPECT_FALSE(run_sync(ioc, client.inspect("x")));
}

TEST(EngineClient, GarbageJsonIsAProtocolError) {
  FakeEngine fake;
  fake.on("/v1.41/containers/json?all=1", 200, "[{\"Id\":");
  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()));
  EXPECT_EQ(error_kind([&] { run_sync(ioc, client.list_container_ids()); }), engine::EngineError::Kind::protocol);
}

// On tcp:// the event stream's socket carries keepalive and TCP_USER_TIMEOUT, so a
// half-open connection ends the stream by itself. A real dockerd on tcp:// is not
// configured here (the machine's engine listens on its unix socket only): the fake engine
// on loopback TCP answers the ping and opens a quiet stream, and the client's socket is
// found in this process.
TEST(EngineClient, TheTcpEventStreamHasKeepaliveAndAUserTimeout) {
  FakeEngine fake({.tcp = true});
  fake.on("/v1.41/events", [](Exchange& x) {
    x.begin_stream();
    x.stall();
  });
  const int port = fake.port();

  asio::io_context ioc;
  engine::ClientOptions opts;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()), opts);
  auto fut = asio::co_spawn(ioc, client.events(std::nullopt), asio::use_future);
  ioc.run();
  std::unique_ptr<engine::EventStream> stream = fut.get();

  // The client's socket: the one whose peer is the listener.
  int found = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(e.path().filename().string());
    sockaddr_in peer{};
    socklen_t plen = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0 || peer.sin_family != AF_INET ||
        ntohs(peer.sin_port) != port)
      continue;
    ++found;
    int keepalive = 0, idle = 0, interval = 0, count = 0;
    unsigned user_timeout = 0;
    socklen_t n = sizeof(int);
    ::getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &keepalive, &n);
    ::getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &n);
    ::getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, &n);
    ::getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, &n);
    n = sizeof user_timeout;
    ::getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, &n);
    EXPECT_EQ(keepalive, 1);
    EXPECT_EQ(idle, int(opts.tcp_keepalive_idle.count()));
    EXPECT_EQ(interval, int(opts.tcp_keepalive_interval.count()));
    EXPECT_EQ(count, opts.tcp_keepalive_count);
    EXPECT_EQ(user_timeout, unsigned(opts.tcp_user_timeout.count()));
  }
  EXPECT_EQ(found, 1);
  stream->close();
}
