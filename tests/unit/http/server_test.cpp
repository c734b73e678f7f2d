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
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <stdexcept>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace composewatch::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Reply = bhttp::response<bhttp::string_body>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
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

// One client connection, plain or TLS, driven synchronously: each call runs the client's
// own io_context until that step is done.
template <class Stream>
class BasicClient {
  // Runs the coroutine `make()` returns to completion; rethrows what it throws.
  template <class F>
  auto run(F make) {
    auto done = asio::co_spawn(io_, make(), asio::use_future);
    io_.restart();
    io_.run();
    return done.get();
  }

 public:
  // `from`: the local address to connect from (another loopback address is another client).
  explicit BasicClient(const std::string& address, const std::string& from = "")
    requires std::same_as<Stream, beast::tcp_stream>
      : stream_(io_) {
    if (!from.empty()) {
      socket().socket().open(tcp::v4());
      socket().socket().bind({asio::ip::make_address(from), 0});
    }
    connect(address);
  }

  BasicClient(const std::string& address,
              asio::ssl::context& tls) requires std::same_as<Stream, TlsStream>
      : stream_(io_, tls) {
    connect(address);
    run([&]() -> asio::awaitable<void> {
      socket().expires_after(kClientTimeout);
      co_await stream_.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    });
  }

  void send(const std::string& raw) {
    run([&]() -> asio::awaitable<void> {
      socket().expires_after(kClientTimeout);
      co_await asio::async_write(stream_, asio::buffer(raw), asio::use_awaitable);
    });
  }

  Reply read(bool head = false) {
    return run([&]() -> asio::awaitable<Reply> {
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(boost::none);
      parser.skip(head);  // a response to HEAD has no body whatever Content-Length says
      socket().expires_after(kClientTimeout);
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
              co_await asio::async_write(socket().socket(), asio::buffer(drip),
                                         asio::use_awaitable);
            }
          },
          asio::detached);
    }
    run([&]() -> asio::awaitable<void> {
      socket().expires_after(kClientTimeout);
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
  beast::tcp_stream& socket() { return beast::get_lowest_layer(stream_); }

  void connect(const std::string& address) {
    run([&]() -> asio::awaitable<void> {
      socket().expires_after(kClientTimeout);
      co_await socket().async_connect(endpoint_of(address), asio::use_awaitable);
    });
  }

  asio::io_context io_;
  Stream stream_;
  beast::flat_buffer buffer_;
};

using Client = BasicClient<beast::tcp_stream>;
using TlsClient = BasicClient<TlsStream>;

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

// A listening TCP socket on 127.0.0.1 and a free port, as systemd passes it.
int listening_socket() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/listen");
  }
  return fd;
}

std::string address_of(int fd) {
  sockaddr_in a{};
  socklen_t length = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
  return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

// Socket activation (systemd's composewatch.socket): the server serves every socket it
// is given, binds nothing, and names them all.
TEST(HttpServer, ServesOnEveryInheritedSocketInsteadOfBinding) {
  Server taken(loopback(), [](const Request&) { return Response{}; });
  taken.start();
  const int first = listening_socket();
  const int second = listening_socket();
  const std::string first_address = address_of(first), second_address = address_of(second);
  auto options = loopback();
  options.listen_address = taken.local_address();  // would fail with "Address already in use"
  options.listen_fds = {first, second};
  Server server(options, [](const Request& r) { return Response{200, "text/plain", "inherited " + r.path}; });
  ASSERT_NO_THROW(server.start());
  EXPECT_EQ(server.local_address(), first_address + ", " + second_address);
  for (const auto& address : {first_address, second_address}) {
    const Reply reply = get(address, "/metrics");
    EXPECT_EQ(reply.result_int(), 200) << address;
    EXPECT_EQ(reply.body(), "inherited /metrics") << address;
  }
  server.stop();
  // The server owned them: closed by stop().
  EXPECT_EQ(::fcntl(first, F_GETFD), -1);
  EXPECT_EQ(::fcntl(second, F_GETFD), -1);
}

TEST(HttpServer, StartFailsOnAnInheritedSocketThatIsNotTcp) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  auto options = loopback();
  options.listen_fds = {pair[0]};
  Server server(options, [](const Request&) { return Response{}; });
  try {
    server.start();
    FAIL() << "start() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "inherited socket " + std::to_string(pair[0]) + ": not a TCP socket");
  }
  ::close(pair[0]);
  ::close(pair[1]);
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

// --web.config.file: TLS and basic auth.

// A scratch directory for one test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "composewatch-http-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    auto path = path_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

 private:
  std::filesystem::path path_;
};

struct Pem {
  std::string cert;
  std::string key;
};

// A self-signed P-256 certificate for 127.0.0.1, made with the OpenSSL API.
Pem self_signed_certificate() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) throw std::runtime_error("openssl: out of memory");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("composewatch test"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    if (!extension) throw std::runtime_error("openssl: bad extension");
    X509_add_ext(cert.get(), extension, -1);
    X509_EXTENSION_free(extension);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    throw std::runtime_error("X509_sign failed");

  auto to_pem = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (write(bio.get()) != 1) throw std::runtime_error("openssl: PEM write failed");
    char* data = nullptr;
    auto size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
  };
  return {to_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); }),
          to_pem([&](BIO* bio) {
            return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
          })};
}

// A client context that trusts only `cert` and checks it names 127.0.0.1.
asio::ssl::context trusting(const std::string& cert) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.add_certificate_authority(asio::buffer(cert));
  context.set_verify_mode(asio::ssl::verify_peer);
  context.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  return context;
}

std::string bcrypt(const std::string& password, unsigned long cost = 10) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", cost, nullptr, 0, salt, sizeof salt))
    throw std::runtime_error("gensalt");
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), salt, data.get(), sizeof(crypt_data));
  if (!hash) throw std::runtime_error("crypt_rn");
  return hash;
}

TEST(HttpServer, ServesTlsWithTheConfiguredCertificate) {
  TempDir dir;
  auto pem = self_signed_certificate();
  dir.write("server.crt", pem.cert);
  dir.write("server.key", pem.key);
  auto options = loopback();
  // Relative paths resolve against the web config's directory.
  options.web_config_file = dir.write("web.yml",
                                      "tls_server_config:\n"
                                      "  cert_file: server.crt\n"
                                      "  key_file: server.key\n"
                                      "http_server_config:\n"
                                      "  headers:\n"
                                      "    X-Content-Type-Options: nosniff\n");
  Server server(options, [](const Request&) { return metrics_response(); });
  server.start();

  auto tls = trusting(pem.cert);
  TlsClient client(server.local_address(), tls);
  auto reply = client.request(get_request("/metrics", "Accept-Encoding: gzip\r\n"));
  EXPECT_EQ(reply.result_int(), 200);
  EXPECT_EQ(reply[bhttp::field::content_encoding], "gzip");
  EXPECT_EQ(gunzip(reply.body()), kMetrics);
  EXPECT_EQ(reply["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(client.request(get_request("/metrics", "Connection: close\r\n")).body(), kMetrics);

  // Plain HTTP to the TLS port gets no answer, and costs only that connection.
  Client plain(server.local_address());
  EXPECT_ANY_THROW(plain.request(get_request("/metrics", "Connection: close\r\n")));
  TlsClient again(server.local_address(), tls);
  EXPECT_EQ(again.request(get_request("/healthz")).result_int(), 200);

  // A client that does not trust this certificate refuses it.
  auto other = trusting(self_signed_certificate().cert);
  EXPECT_ANY_THROW(TlsClient(server.local_address(), other));
}

TEST(HttpServer, BasicAuthGuardsEveryRequest) {
  TempDir dir;
  auto options = loopback();
  options.web_config_file =
      dir.write("web.yml", "basic_auth_users:\n  prometheus: " + bcrypt("correct horse") + "\n");
  std::atomic<int> calls{0};
  Server server(options, [&](const Request&) {
    ++calls;
    return Response{200, "text/plain", "ok"};
  });
  server.start();
  const auto address = server.local_address();

  auto anonymous = get(address, "/metrics");
  EXPECT_EQ(anonymous.result_int(), 401);
  EXPECT_EQ(anonymous[bhttp::field::www_authenticate], "Basic");
  // "prometheus:wrong" and "nobody:correct horse"
  EXPECT_EQ(
      get(address, "/metrics", "Authorization: Basic cHJvbWV0aGV1czp3cm9uZw==\r\n").result_int(),
      401);
  EXPECT_EQ(get(address, "/", "Authorization: Basic bm9ib2R5OmNvcnJlY3QgaG9yc2U=\r\n").result_int(),
            401);
  EXPECT_EQ(calls.load(), 0);

  // "prometheus:correct horse"
  auto allowed =
      get(address, "/metrics", "Authorization: Basic cHJvbWV0aGV1czpjb3JyZWN0IGhvcnNl\r\n");
  EXPECT_EQ(allowed.result_int(), 200);
  EXPECT_EQ(allowed.body(), "ok");
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServer, StartFailsOnABadWebConfig) {
  TempDir dir;
  auto options = loopback();
  options.web_config_file = dir.write("web.yml",
                                      "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n"
                                      "basic_auth_user:\n  x: y\n");
  Server typo(options, [](const Request&) { return Response{}; });
  try {
    typo.start();
    FAIL() << "start() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), options.web_config_file + ":4: basic_auth_user: unknown key");
  }

  options.web_config_file = dir.write(
      "web.yml", "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n");
  Server missing(options, [](const Request&) { return Response{}; });
  try {
    missing.start();
    FAIL() << "start() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("tls_server_config.cert_file"));
    EXPECT_THAT(e.what(), HasSubstr("missing.crt"));
  }

  auto mismatched = self_signed_certificate();
  dir.write("a.crt", mismatched.cert);
  dir.write("a.key", self_signed_certificate().key);
  options.web_config_file =
      dir.write("web.yml", "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n");
  Server wrong_key(options, [](const Request&) { return Response{}; });
  EXPECT_THROW(wrong_key.start(), std::runtime_error);
}

// "Authorization: Basic base64(user:password)\r\n".
std::string authorization(const std::string& user_and_password) {
  std::string encoded(4 * ((user_and_password.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(user_and_password.data()),
                                static_cast<int>(user_and_password.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Authorization: Basic " + encoded + "\r\n";
}

// Strangers guessing passwords (any user name) must not take what an authorised scrape
// needs: each guess costs a bcrypt, but on the password worker, at most
// max_password_checks at once, beyond that 429 at once, and never a request slot or a
// handler thread; a credential that passed before is let through on a hash lookup.
TEST(HttpServer, PasswordGuessesNeverHoldTheSlotsOfARememberedCredential) {
  TempDir dir;
  auto options = loopback();
  options.max_requests = 4;
  options.max_password_checks = 2;
  // Cost 12: a quarter of a second or more per check, so that the guesses pile up.
  options.web_config_file =
      dir.write("web.yml", "basic_auth_users:\n  prometheus: " + bcrypt("correct horse", 12) + "\n");
  std::atomic<int> calls{0};
  Server server(options, [&](const Request&) {
    ++calls;
    return Response{200, "text/plain", "ok"};
  });
  server.start();
  const auto address = server.local_address();
  const auto right = authorization("prometheus:correct horse");
  ASSERT_EQ(get(address, "/metrics", right).result_int(), 200);  // checked once, remembered

  // 24 guesses at once, a wrong password for the real user or an unknown user each.
  std::vector<std::unique_ptr<Client>> strangers;
  for (int i = 0; i < 24; ++i) {
    strangers.push_back(std::make_unique<Client>(address));
    const std::string guess = (i % 2 ? "prometheus:guess-" : "mallory:guess-") + std::to_string(i);
    strangers.back()->send(get_request("/metrics", authorization(guess)));
  }
  std::this_thread::sleep_for(100ms);  // all of them read by the server

  // Before: the guesses held all four slots, each waiting for a bcrypt on a handler
  // thread, and this got 503.
  auto scrape = get(address, "/metrics", right);
  EXPECT_EQ(scrape.result_int(), 200);
  EXPECT_EQ(scrape.body(), "ok");

  std::map<int, int> answers;
  for (auto& s : strangers) ++answers[s->read().result_int()];
  EXPECT_EQ(answers[401] + answers[429], 24) << "only 401 and 429";
  EXPECT_GE(answers[401], 2) << "the first two were checked";
  EXPECT_GE(answers[429], 12) << "beyond two queued checks, 429 at once";
  EXPECT_EQ(calls.load(), 2) << "no guess reached the handler";
  // The worker is free again: a guess is checked (401), not turned away.
  EXPECT_EQ(get(address, "/metrics", authorization("prometheus:late")).result_int(), 401);
}

// Strangers on one host fill at most their share of the password worker's queue: a
// scraper on another host with a credential not seen yet still gets it checked.
TEST(HttpServer, StrangersOnOneHostLeavePlacesForANewCredentialFromAnother) {
  TempDir dir;
  auto options = loopback();
  options.max_password_checks = 6;
  options.max_password_checks_per_client = 2;
  options.web_config_file =
      dir.write("web.yml", "basic_auth_users:\n  prometheus: " + bcrypt("correct horse", 12) + "\n");
  Server server(options, [](const Request&) { return Response{200, "text/plain", "ok"}; });
  server.start();
  const auto address = server.local_address();
  std::vector<std::unique_ptr<Client>> strangers;
  for (int i = 0; i < 8; ++i) {
    strangers.push_back(std::make_unique<Client>(address));
    strangers.back()->send(get_request("/", authorization("prometheus:guess-" + std::to_string(i))));
  }
  std::this_thread::sleep_for(100ms);
  Client scraper(address, "127.0.0.2");  // before: 429, the queue held the strangers' guesses
  EXPECT_EQ(scraper.request(get_request("/", authorization("prometheus:correct horse"))).result_int(), 200);
  std::map<int, int> answers;
  for (auto& s : strangers) ++answers[s->read().result_int()];
  EXPECT_EQ(answers[401] + answers[429], 8) << "only 401 and 429";
  EXPECT_GE(answers[429], 4) << "beyond the share of their host (2), 429 at once";
}

TEST(HttpServer, A429SaysWhenToTryAgain) {
  TempDir dir;
  auto options = loopback();
  options.max_password_checks = 1;
  options.web_config_file =
      dir.write("web.yml", "basic_auth_users:\n  prometheus: " + bcrypt("correct horse", 12) + "\n");
  Server server(options, [](const Request&) { return Response{200, "text/plain", "ok"}; });
  server.start();
  Client first(server.local_address());
  first.send(get_request("/", authorization("prometheus:one")));
  std::this_thread::sleep_for(100ms);
  auto second = get(server.local_address(), "/", authorization("prometheus:two"));
  EXPECT_EQ(second.result_int(), 429);
  EXPECT_EQ(second[bhttp::field::retry_after], "1");
  EXPECT_EQ(first.read().result_int(), 401);
}

// Idle connections must not take every descriptor of the process (the engine client and
// the state saves need some): beyond max_connections a new one is closed at once.
TEST(HttpServer, ClosesNewConnectionsBeyondMaxConnectionsAtOnce) {
  auto options = loopback();
  options.max_connections = 3;
  Server server(options, [](const Request&) { return Response{200, "text/plain", "ok"}; });
  server.start();
  const auto address = server.local_address();
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<Client>(address));
    ASSERT_EQ(held.back()->request(get_request("/")).result_int(), 200);  // accepted, kept alive
  }
  Client extra(address);  // the kernel completes the handshake; the server closes it
  EXPECT_LT(extra.wait_closed(), 500ms);
  EXPECT_EQ(held[0]->request(get_request("/")).result_int(), 200) << "the open ones are served";

  held.pop_back();  // one closes: a new connection is served again
  EXPECT_TRUE([&] {
    for (auto until = Clock::now() + 2s; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
      try {
        if (get(address, "/").result_int() == 200) return true;
      } catch (const std::exception&) {
      }
    }
    return false;
  }());
}

// A response waiting for a slow reader keeps its slot: max_requests bounds the bodies
// held in memory, not only the handlers running.
TEST(HttpServer, ARequestHoldsItsSlotUntilItsResponseIsWritten) {
  auto options = loopback();
  options.max_requests = 1;
  const std::string big(32 << 20, 'x');  // more than the kernel buffers of both ends hold
  std::atomic<bool> big_served{false};
  Server server(options, [&](const Request& request) {
    if (request.path != "/big") return Response{200, "text/plain", "ok"};
    big_served = true;
    return Response{200, "text/plain", big, false};
  });
  server.start();
  const auto endpoint = endpoint_of(server.local_address());

  // A client with a tiny receive window that never reads.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  struct Closer {
    int fd;
    void close() {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
    ~Closer() { close(); }
  } closer{fd};
  const int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(endpoint.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request = get_request("/big");
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  for (auto until = Clock::now() + 2s; !big_served && Clock::now() < until;) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(big_served);
  std::this_thread::sleep_for(100ms);

  EXPECT_EQ(get(server.local_address(), "/small").result_int(), 503);
  closer.close();  // the slow reader goes (a reset, its data unread): its slot comes back
  EXPECT_TRUE([&] {
    for (auto until = Clock::now() + 2s; Clock::now() < until; std::this_thread::sleep_for(20ms))
      if (get(server.local_address(), "/small").result_int() == 200) return true;
    return false;
  }());
}

TEST(HttpServer, SendsTheHandlersHeaderFields) {
  Server server(loopback(), [](const Request&) {
    Response r{200, "text/html; charset=utf-8", "<p>hi</p>"};
    r.headers = {{"Cache-Control", "no-store"}, {"X-Frame-Options", "DENY"}};
    return r;
  });
  server.start();
  auto reply = get(server.local_address(), "/");
  EXPECT_EQ(reply[bhttp::field::cache_control], "no-store");
  EXPECT_EQ(reply["X-Frame-Options"], "DENY");
}

}  // namespace
}  // namespace composewatch::http
