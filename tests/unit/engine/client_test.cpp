// The engine client against a fake engine on a unix socket. A fake is used only for what
// the real engine cannot do on demand: refuse our API version, stall, answer garbage.
// Everything else is tested against the real dockerd in tests/integration/.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "composewatch/engine/client.h"
#include "fake_engine.h"

using namespace composewatch;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

using test_support::FakeEngine;
using test_support::ping;

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
  FakeEngine fake([](int fd, const std::string&) { FakeEngine::write_all(fd, ping("1.12")); });
  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()));
  EXPECT_EQ(error_kind([&] { run_sync(ioc, client.negotiate()); }), engine::EngineError::Kind::api_refused);
}

TEST(EngineClient, UsesTheLowerApiVersionAndReportsAnEngineThatRefusesIt) {
  // A newer engine (Docker 29) rejects clients below 1.44 with 400.
  FakeEngine fake([](int fd, const std::string& target) {
    if (target == "/_ping")
      FakeEngine::write_all(fd, ping("1.52"));
    else
      FakeEngine::write_all(
          fd, FakeEngine::json_response(
                  400, R"({"message":"client version 1.47 is too old. Minimum supported API version is 1.48"})"));
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
  EXPECT_EQ(fake.targets().back(), "/v1.47/containers/json?all=1");
}

TEST(EngineClient, AStalledEngineTimesOut) {
  std::atomic<bool> release{false};
  FakeEngine fake([&](int, const std::string&) {
    while (!release) std::this_thread::sleep_for(10ms);  // accepts, never answers
  });
  asio::io_context ioc;
  engine::ClientOptions opts;
  opts.request_timeout = 300ms;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()), opts);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(error_kind([&] { run_sync(ioc, client.negotiate()); }), engine::EngineError::Kind::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  release = true;
}

TEST(EngineClient, InspectOfAGoneContainerIsEmpty) {
  FakeEngine fake([](int fd, const std::string& target) {
    if (target == "/_ping")
      FakeEngine::write_all(fd, ping("1.41"));
    else
      FakeEngine::write_all(fd, FakeEngine::json_response(404, R"({"message":"No such container: x"})"));
  });
  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()));
  EXPECT_FALSE(run_sync(ioc, client.inspect("x")));
}

TEST(EngineClient, GarbageJsonIsAProtocolError) {
  FakeEngine fake([](int fd, const std::string& target) {
    FakeEngine::write_all(fd, target == "/_ping" ? ping("1.41") : FakeEngine::json_response(200, "[{\"Id\":"));
  });
  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()));
  EXPECT_EQ(error_kind([&] { run_sync(ioc, client.list_container_ids()); }), engine::EngineError::Kind::protocol);
}

// On tcp:// the event stream's socket carries keepalive and TCP_USER_TIMEOUT, so a
// half-open connection ends the stream by itself. A real dockerd on tcp:// is not
// configured here (the machine's engine listens on its unix socket only): a bare TCP
// listener answers the two requests, and the client's socket is found in this process.
TEST(EngineClient, TheTcpEventStreamHasKeepaliveAndAUserTimeout) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  std::thread server([listener] {
    for (int i = 0; i < 2; ++i) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::string head;
      char c;
      while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) head.push_back(c);
      if (head.rfind("GET /_ping", 0) == 0) {
        test_support::FakeEngine::write_all(fd, test_support::ping("1.41"));
      } else {
        test_support::FakeEngine::write_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        test_support::FakeEngine::wait_for_close(fd);
      }
      ::close(fd);
    }
  });

  asio::io_context ioc;
  engine::ClientOptions opts;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint("tcp://127.0.0.1:" + std::to_string(port)), opts);
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
  ::shutdown(listener, SHUT_RDWR);
  ::close(listener);
  server.join();
}
