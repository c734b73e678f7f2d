// The HTTP server against a small blocking client on loopback.
#include <composewatch/http/server.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace composewatch::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Reply = bhttp::response<bhttp::string_body>;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// No client operation may hang a test run.
constexpr auto kClientTimeout = 3s;

tcp::endpoint endpoint_of(const std::string& address) {
  auto colon = address.rfind(':');
  return {asio::ip::make_address(address.substr(0, colon)),
          static_cast<unsigned short>(std::stoi(address.substr(colon + 1)))};
}

// One client connection, driven synchronously: each call runs the client's own
// io_context until that step is done.
class Client {
  // Runs the coroutine `make()` returns to completion; rethrows what it throws.
  template <class F>
  auto run(F make) {
    auto done = asio::co_spawn(io_, make(), asio::use_future);
    io_.restart();
    io_.run();
    return done.get();
  }

 public:
  explicit Client(const std::string& address) {
    run([&]() -> asio::awaitable<void> {
      stream_.expires_after(kClientTimeout);
      co_await stream_.async_connect(endpoint_of(address), asio::use_awaitable);
    });
  }

  void send(const std::string& raw) {
    run([&]() -> asio::awaitable<void> {
      stream_.expires_after(kClientTimeout);
      co_await asio::async_write(stream_, asio::buffer(raw), asio::use_awaitable);
    });
  }

  Reply read(bool head = false) {
    return run([&]() -> asio::awaitable<Reply> {
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(boost::none);
      parser.skip(head);  // a response to HEAD has no body whatever Content-Length says
      stream_.expires_after(kClientTimeout);
      co_await bhttp::async_read(stream_, buffer_, parser, asio::use_awaitable);
      co_return parser.release();
    });
  }

  Reply request(const std::string& raw, bool head = false) {
    send(raw);
    return read(head);
  }

  // Waits until the server closes the connection and returns how long that took. With
  // `drip`, keeps sending it every `interval` meanwhile, as a slow client would.
  Clock::duration wait_closed(std::string drip = "", Clock::duration interval = 50ms) {
    auto started = Clock::now();
    auto closed = std::make_shared<bool>(false);
    if (!drip.empty()) {
      asio::co_spawn(
          io_,
          [this, drip, interval, closed]() -> asio::awaitable<void> {
            asio::steady_timer timer(io_);
            while (!*closed) {
              timer.expires_after(interval);
              co_await timer.async_wait(asio::use_awaitable);
              if (*closed) break;
              co_await asio::async_write(stream_.socket(), asio::buffer(drip), asio::use_awaitable);
            }
          },
          asio::detached);
    }
    run([&]() -> asio::awaitable<void> {
      stream_.expires_after(kClientTimeout);
      std::array<char, 1024> scratch;
      beast::error_code ec;
      while (!ec) {
        co_await stream_.async_read_some(asio::buffer(scratch),
                                         asio::redirect_error(asio::use_awaitable, ec));
      }
      *closed = true;
      if (ec == beast::error::timeout) throw std::runtime_error("connection still open");
    });
    return Clock::now() - started;
  }

 private:
  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
};

std::string get_request(const std::string& target, const std::string& headers = "",
                        const std::string& method = "GET") {
  return method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + headers + "\r\n";
}

Reply get(const std::string& address, const std::string& target, const std::string& headers = "") {
  Client client(address);
  return client.request(get_request(target, headers + "Connection: close\r\n"));
}

std::string gunzip(const std::string& data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  std::array<char, 16384> chunk;
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(chunk.data(), chunk.size() - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || zs.avail_in != 0) throw std::runtime_error("not one gzip stream");
  return out;
}

ServerOptions loopback() {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  return options;
}

// Holds handlers until opened. Declare a Gate::OpenOnExit after the server, so that a
// failing test cannot leave a handler blocked: stop() waits for running handlers.
class Gate {
 public:
  struct OpenOnExit {
    Gate& gate;
    ~OpenOnExit() { gate.open(); }
  };

  void pass() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  bool wait_for_waiting(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 2s, [&] { return waiting_ >= n; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

const std::string kMetrics = [] {
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text += "composewatch_container_pids{project=\"shop\",service=\"api\",container=\"api-" +
            std::to_string(i) + "\"} " + std::to_string(i) + "\n";
  }
  return text;
}();

Response metrics_response() {
  return {200, "text/plain; version=0.0.4; charset=utf-8", kMetrics, true};
}

TEST(HttpServer, ServesTheHandlerResponse) {
  std::mutex mutex;
  std::vector<Request> seen;
  Server server(loopback(), [&](const Request& request) {
    std::lock_guard lock(mutex);
    seen.push_back(request);
    if (request.path != "/healthz")
      return Response{404, "text/plain; charset=utf-8", "not found\n"};
    return Response{200, "text/plain; version=0.0.4; charset=utf-8", "ok\n"};
  });
  server.start();
  ASSERT_THAT(server.local_address(), StartsWith("127.0.0.1:"));

  auto reply = get(server.local_address(), "/healthz?verbose=1&x=%20");
  EXPECT_EQ(reply.result_int(), 200);
  EXPECT_EQ(reply.body(), "ok\n");
  EXPECT_EQ(reply[bhttp::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(reply[bhttp::field::content_length], "3");
  EXPECT_EQ(reply.count(bhttp::field::content_encoding), 0u);

  EXPECT_EQ(get(server.local_address(), "/nope").result_int(), 404);

  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/healthz?verbose=1&x=%20");
  EXPECT_EQ(seen[0].path, "/healthz");
  EXPECT_EQ(seen[1].path, "/nope");
}

TEST(HttpServer, GzipsWhenTheClientAcceptsIt) {
  ASSERT_GE(kMetrics.size(), ServerOptions{}.gzip_min_bytes);
  Server server(loopback(), [](const Request&) { return metrics_response(); });
  server.start();

  auto zipped = get(server.local_address(), "/metrics", "Accept-Encoding: deflate, gzip;q=0.5\r\n");
  EXPECT_EQ(zipped.result_int(), 200);
  EXPECT_EQ(zipped[bhttp::field::content_encoding], "gzip");
  EXPECT_EQ(zipped[bhttp::field::vary], "Accept-Encoding");
  EXPECT_EQ(zipped[bhttp::field::content_length], std::to_string(zipped.body().size()));
  EXPECT_LT(zipped.body().size(), kMetrics.size());
  EXPECT_EQ(gunzip(zipped.body()), kMetrics);

  for (const std::string headers :
       {"", "Accept-Encoding: gzip;q=0\r\n", "Accept-Encoding: br\r\n"}) {
    auto plain = get(server.local_address(), "/metrics", headers);
    EXPECT_EQ(plain.count(bhttp::field::content_encoding), 0u) << headers;
    EXPECT_EQ(plain[bhttp::field::vary], "Accept-Encoding") << headers;
    EXPECT_EQ(plain.body(), kMetrics) << headers;
  }
}

TEST(HttpServer, LeavesSmallAndIncompressibleBodiesAlone) {
  Server server(loopback(), [](const Request& request) {
    auto response = metrics_response();
    if (request.path == "/small") response.body = "tiny\n";
    if (request.path == "/raw") response.compressible = false;
    return response;
  });
  server.start();
  for (const std::string path : {"/small", "/raw"}) {
    auto reply = get(server.local_address(), path, "Accept-Encoding: gzip\r\n");
    EXPECT_EQ(reply.count(bhttp::field::content_encoding), 0u) << path;
    EXPECT_EQ(reply.count(bhttp::field::vary), 0u) << path;
    EXPECT_EQ(reply.body(), path == "/small" ? "tiny\n" : kMetrics) << path;
  }
}

TEST(HttpServer, AnswersBusyBeyondMaxRequestsWithoutCallingTheHandler) {
  auto options = loopback();
  options.max_requests = 2;
  Gate gate;
  std::atomic<int> calls{0};
  Server server(options, [&](const Request& request) {
    ++calls;
    if (request.path == "/hold") gate.pass();
    return Response{200, "text/plain", "done\n"};
  });
  Gate::OpenOnExit release{gate};
  server.start();
  const auto address = server.local_address();

  auto first = std::async(std::launch::async, [&] { return get(address, "/hold"); });
  auto second = std::async(std::launch::async, [&] { return get(address, "/hold"); });
  ASSERT_TRUE(gate.wait_for_waiting(2));

  auto busy = get(address, "/fast");
  EXPECT_EQ(busy.result_int(), 503);
  EXPECT_FALSE(busy.body().empty());
  EXPECT_EQ(calls.load(), 2);

  gate.open();
  EXPECT_EQ(first.get().result_int(), 200);
  EXPECT_EQ(second.get().result_int(), 200);
  EXPECT_EQ(get(address, "/fast").result_int(), 200);  // the slots came back
}

TEST(HttpServer, SlowHandlerDoesNotStallOtherRequests) {
  Gate gate;
  Server server(loopback(), [&](const Request& request) {
    if (request.path == "/hold") gate.pass();
    return Response{200, "text/plain", request.path};
  });
  Gate::OpenOnExit release{gate};
  server.start();
  const auto address = server.local_address();
  auto held = std::async(std::launch::async, [&] { return get(address, "/hold"); });
  ASSERT_TRUE(gate.wait_for_waiting(1));
  EXPECT_EQ(get(address, "/fast").body(), "/fast");
  EXPECT_NE(held.wait_for(0s), std::future_status::ready);
  gate.open();
  EXPECT_EQ(held.get().body(), "/hold");
}

TEST(HttpServer, DropsASilentClientWhileServingOthers) {
  auto options = loopback();
  options.read_timeout = 300ms;
  Server server(options, [](const Request&) { return Response{200, "text/plain", "ok"}; });
  server.start();
  const auto address = server.local_address();

  Client silent(address);
  auto closed_after = std::async(std::launch::async, [&] { return silent.wait_closed(); });
  EXPECT_EQ(get(address, "/").result_int(), 200);
  EXPECT_NE(closed_after.wait_for(0s), std::future_status::ready);
  auto elapsed = closed_after.get();
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 1500ms);
}

TEST(HttpServer, TheWholeRequestHeadMustArriveWithinTheReadTimeout) {
  auto options = loopback();
  options.read_timeout = 300ms;
  Server server(options, [](const Request&) { return Response{200, "text/plain", "ok"}; });
  server.start();
  Client slow(server.local_address());
  slow.send("GET / HTTP/1.1\r\n");
  // A header line every 50 ms keeps each read short, but not the whole head.
  auto elapsed = slow.wait_closed("X-Drip: 1\r\n", 50ms);
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 1500ms);
}

TEST(HttpServer, ClosesIdleKeepAliveConnections) {
  auto options = loopback();
  options.idle_timeout = 300ms;
  Server server(options, [](const Request&) { return Response{200, "text/plain", "ok"}; });
  server.start();
  Client client(server.local_address());
  EXPECT_EQ(client.request(get_request("/")).result_int(), 200);
  EXPECT_EQ(client.request(get_request("/")).result_int(), 200);  // kept alive
  auto elapsed = client.wait_closed();
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 1500ms);
}

TEST(HttpServer, RejectsOversizedAndMalformedRequests) {
  auto options = loopback();
  options.header_limit = 4096;
  options.body_limit = 1024;
  std::atomic<int> calls{0};
  Server server(options, [&](const Request&) {
    ++calls;
    return Response{200, "text/plain", "ok"};
  });
  server.start();
  const auto address = server.local_address();

  {
    Client client(address);
    auto reply = client.request(get_request("/", "X-Big: " + std::string(6 * 1024, 'a') + "\r\n"));
    EXPECT_EQ(reply.result_int(), 431);
    EXPECT_FALSE(reply.keep_alive());
    EXPECT_LT(client.wait_closed(), 1500ms);
  }
  {
    Client client(address);
    auto reply =
        client.request(get_request("/", "Content-Length: 5000\r\n") + std::string(5000, 'b'));
    EXPECT_EQ(reply.result_int(), 413);
    EXPECT_FALSE(reply.keep_alive());
  }
  {
    Client client(address);
    EXPECT_EQ(client.request("NOT HTTP AT ALL\r\n\r\n").result_int(), 400);
  }
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(get(address, "/").result_int(), 200);  // a request within the limits still works
}

TEST(HttpServer, HeadHasTheHeadersOfGetAndNoBody) {
  Server server(loopback(), [](const Request&) { return metrics_response(); });
  server.start();
  Client client(server.local_address());
  auto head = client.request(get_request("/metrics", "", "HEAD"), /*head=*/true);
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[bhttp::field::content_length], std::to_string(kMetrics.size()));
  EXPECT_EQ(head[bhttp::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  // Any body bytes sent after the HEAD response would corrupt this next response.
  auto next = client.request(get_request("/metrics", "Connection: close\r\n"));
  EXPECT_EQ(next.result_int(), 200);
  EXPECT_EQ(next.body(), kMetrics);
}

TEST(HttpServer, OnlyGetAndHeadReachTheHandler) {
  std::atomic<int> calls{0};
  Server server(loopback(), [&](const Request&) {
    ++calls;
    return Response{200, "text/plain", "ok"};
  });
  server.start();
  for (const std::string method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    Client client(server.local_address());
    auto reply = client.request(get_request("/metrics", "Content-Length: 3\r\n", method) + "x=1");
    EXPECT_EQ(reply.result_int(), 405) << method;
    EXPECT_EQ(reply[bhttp::field::allow], "GET, HEAD") << method;
    EXPECT_TRUE(reply.keep_alive()) << method;  // the request was read in full
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServer, AHandlerExceptionIsA500AndTheServerCarriesOn) {
  Server server(loopback(), [](const Request& request) {
    if (request.path == "/boom") throw std::runtime_error("collector exploded");
    return Response{200, "text/plain", "ok"};
  });
  server.start();
  EXPECT_EQ(get(server.local_address(), "/boom").result_int(), 500);
  EXPECT_EQ(get(server.local_address(), "/").result_int(), 200);
}

TEST(HttpServer, StartFailsWithTheAddressWhenThePortIsTaken) {
  Server first(loopback(), [](const Request&) { return Response{}; });
  first.start();
  auto options = loopback();
  options.listen_address = first.local_address();
  Server second(options, [](const Request&) { return Response{}; });
  try {
    second.start();
    FAIL() << "start() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "listen " + first.local_address() + ": Address already in use");
  }
  EXPECT_EQ(get(first.local_address(), "/").result_int(), 200);  // the first one is unharmed
}

TEST(HttpServer, StartFailsOnAnInvalidAddress) {
  auto options = loopback();
  options.listen_address = "127.0.0.1:99999";
  Server server(options, [](const Request&) { return Response{}; });
  try {
    server.start();
    FAIL() << "start() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), StartsWith("listen 127.0.0.1:99999: "));
  }
}

TEST(HttpServer, ResolvesHostNames) {
  auto options = loopback();
  options.listen_address = "localhost:0";
  Server server(options, [](const Request&) { return Response{200, "text/plain", "ok"}; });
  server.start();
  ASSERT_THAT(server.local_address(), StartsWith("127.0.0.1:"));
  EXPECT_EQ(get(server.local_address(), "/").body(), "ok");
}

TEST(HttpServer, StopIsFastAndIdempotent) {
  Server never_started(loopback(), [](const Request&) { return Response{}; });
  never_started.stop();

  Server server(loopback(), [](const Request&) { return Response{200, "text/plain", "ok"}; });
  server.start();
  Client idle(server.local_address());
  EXPECT_EQ(idle.request(get_request("/")).result_int(), 200);  // kept alive, now idle

  auto started = Clock::now();
  server.stop();
  EXPECT_LT(Clock::now() - started, 500ms);
  EXPECT_LT(idle.wait_closed(), 500ms);  // open connections are dropped
  server.stop();
  EXPECT_THROW(server.start(), std::logic_error);
}

}  // namespace
}  // namespace composewatch::http
