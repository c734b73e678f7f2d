#include "composewatch/engine/client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <variant>

#include "composewatch/docker/event.h"

namespace composewatch::engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

using UnixStream = beast::basic_stream<asio::local::stream_protocol>;
using TcpStream = beast::tcp_stream;
using AnyStream = std::variant<UnixStream, TcpStream>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

[[noreturn]] void throw_connect_error(const Endpoint& ep, const error_code& ec, std::chrono::milliseconds timeout) {
  using K = EngineError::Kind;
  const std::string where = "cannot connect to the Docker engine at " + ep.text + ": ";
  if (ec == beast::error::timeout)
    throw EngineError(K::timeout, where + "no answer within " + seconds_text(timeout));
  if (ec == asio::error::access_denied)
    throw EngineError(K::permission_denied,
                      "permission denied on " + (ep.path.empty() ? ep.text : ep.path) +
                          ": run composewatch as root or as a member of the docker group");
  if (ec == asio::error::connection_refused)
    throw EngineError(K::unreachable, where + "connection refused (is dockerd running?)");
  if (ec == boost::system::errc::no_such_file_or_directory)
    throw EngineError(K::unreachable, where + "no such socket (is dockerd running?)");
  throw EngineError(K::unreachable, where + ec.message());
}

// Keepalive and TCP_USER_TIMEOUT (see ClientOptions): without them a half-open connection
// (the engine's host gone, a NAT dropping state) keeps a quiet event stream "open" for
// hours. Best effort: a kernel without an option keeps its default.
void set_tcp_liveness(asio::ip::tcp::socket& socket, const ClientOptions& o) {
  error_code ignored;
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  const int fd = socket.native_handle();
  const int idle = int(o.tcp_keepalive_idle.count()), interval = int(o.tcp_keepalive_interval.count()),
            count = o.tcp_keepalive_count;
  const unsigned user_timeout = unsigned(o.tcp_user_timeout.count());
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
}

// getaddrinfo runs on a background thread and cannot be interrupted; cancelling the
// resolver completes our wait at the deadline (the lookup finishes unseen).
asio::awaitable<asio::ip::tcp::resolver::results_type> resolve(asio::any_io_executor ex, const Endpoint& ep,
                                                               std::chrono::milliseconds timeout) {
  asio::ip::tcp::resolver resolver(ex);
  asio::steady_timer deadline(ex);
  deadline.expires_after(timeout);
  deadline.async_wait([&resolver](const error_code& ec) {
    if (!ec) resolver.cancel();
  });
  auto [ec, results] = co_await resolver.async_resolve(ep.host, ep.port, use_tuple);
  deadline.cancel();
  if (ec == asio::error::operation_aborted) throw_connect_error(ep, beast::error::timeout, timeout);
  if (ec) throw_connect_error(ep, ec, timeout);
  co_return results;
}

asio::awaitable<AnyStream> connect(asio::any_io_executor ex, const Endpoint& ep, const ClientOptions& o) {
  const auto timeout = o.connect_timeout;
  if (ep.kind == Endpoint::Kind::unix_socket) {
    UnixStream s(ex);
    s.expires_after(timeout);
    auto [ec] = co_await s.async_connect(asio::local::stream_protocol::endpoint(ep.path), use_tuple);
    if (ec) throw_connect_error(ep, ec, timeout);
    co_return AnyStream(std::move(s));
  }
  auto results = co_await resolve(ex, ep, timeout);
  TcpStream s(ex);
  s.expires_after(timeout);
  auto [ec, endpoint] = co_await s.async_connect(results, use_tuple);
  if (ec) throw_connect_error(ep, ec, timeout);
  set_tcp_liveness(s.socket(), o);
  co_return AnyStream(std::move(s));
}

http::request<http::empty_body> make_request(http::verb method, const std::string& target) {
  http::request<http::empty_body> req{method, target, 11};
  req.set(http::field::host, "docker");
  req.set(http::field::user_agent, "composewatch");
  req.prepare_payload();  // "Content-Length: 0" on a POST
  return req;
}

// "DELETE /v1.41/volumes/x": how messages name a request.
std::string describe(http::verb method, const std::string& target) {
  return std::string(http::to_string(method)) + " " + target;
}

// The engine's error body is {"message": "..."}; fall back to the raw text.
std::string engine_message(std::string_view body) {
  if (std::optional<std::string> m = docker::parse_error_message(body)) return std::move(*m);
  std::string s(body.substr(0, 200));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

[[noreturn]] void throw_status(const Endpoint& ep, http::verb method, const std::string& target, unsigned status,
                              std::string_view body) {
  std::string msg = engine_message(body);
  // An engine that refuses our API version says so with 400 and "client version ... is too old".
  if (status == 400 && msg.find("client version") != std::string::npos)
    throw EngineError(EngineError::Kind::api_refused, "the engine at " + ep.text + " refused our API version: " + msg,
                      status);
  throw EngineError(EngineError::Kind::http_status,
                    describe(method, target) + ": engine answered " + std::to_string(status) +
                        (msg.empty() ? "" : ": " + msg),
                    status);
}

[[noreturn]] void throw_io(const Endpoint& ep, http::verb method, const std::string& target, const error_code& ec,
                           std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout)
    throw EngineError(EngineError::Kind::timeout,
                      describe(method, target) + " on " + ep.text + ": no answer within " + seconds_text(timeout));
  throw EngineError(EngineError::Kind::protocol, describe(method, target) + " on " + ep.text + ": " + ec.message());
}

// Starts the request's deadline (connect is bounded separately) and sends the request.
template <class Stream>
asio::awaitable<void> send_request(Stream& s, const Endpoint& ep, http::verb method, const std::string& target,
                                   const ClientOptions& o) {
  s.expires_after(o.request_timeout);
  auto req = make_request(method, target);
  auto [ec, n] = co_await http::async_write(s, req, use_tuple);
  if (ec) throw_io(ep, method, target, ec, o.request_timeout);
}

template <class Stream>
asio::awaitable<http::response<http::string_body>> exchange(Stream& s, const Endpoint& ep, http::verb method,
                                                             const std::string& target, const ClientOptions& o) {
  co_await send_request(s, ep, method, target, o);
  // Beast reads no more than the buffer's free space: without room made here, a large
  // answer (/system/df, a big listing) arrives 512 bytes per system call.
  beast::flat_buffer buf;
  buf.reserve(64 * 1024);
  http::response_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(o.header_limit));
  parser.body_limit(o.body_limit);
  auto [rec, rn] = co_await http::async_read(s, buf, parser, use_tuple);
  if (rec) throw_io(ep, method, target, rec, o.request_timeout);
  error_code ignored;
  s.socket().shutdown(asio::socket_base::shutdown_both, ignored);
  co_return parser.release();
}

asio::awaitable<http::response<http::string_body>> request(asio::any_io_executor ex, const Endpoint& ep,
                                                            http::verb method, const std::string& target,
                                                            const ClientOptions& o) {
  AnyStream stream = co_await connect(ex, ep, o);
  co_return co_await std::visit([&](auto& s) { return exchange(s, ep, method, target, o); }, stream);
}

template <class Stream>
class EventStreamImpl final : public EventStream {
 public:
  EventStreamImpl(Stream s, beast::flat_buffer buf, std::unique_ptr<http::response_parser<http::buffer_body>> p,
                  std::size_t line_limit)
      : stream_(std::move(s)), buf_(std::move(buf)), parser_(std::move(p)), splitter_(line_limit) {}

  asio::awaitable<bool> read(const std::function<void(std::string_view)>& on_line) override {
    if (parser_->is_done()) co_return false;
    auto& body = parser_->get().body();
    body.data = chunk_;
    body.size = sizeof chunk_;
    auto [ec, n] = co_await http::async_read_some(stream_, buf_, *parser_, use_tuple);
    std::size_t got = sizeof chunk_ - body.size;
    if (got) splitter_.feed(std::string_view(chunk_, got), on_line);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return false;  // EOF or reset: the caller reconnects
    co_return !parser_->is_done();
  }
  void close() override {
    error_code ignored;
    stream_.socket().shutdown(asio::socket_base::shutdown_both, ignored);
    stream_.close();
  }
  std::size_t dropped_lines() const override { return splitter_.dropped_lines(); }
  std::size_t pending_bytes() const override { return splitter_.pending(); }

 private:
  Stream stream_;
  beast::flat_buffer buf_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  docker::LineSplitter splitter_;
  char chunk_[64 * 1024];
};

template <class Stream>
asio::awaitable<std::unique_ptr<EventStream>> open_events(Stream s, const Endpoint& ep, const std::string& target,
                                                          const ClientOptions& o) {
  co_await send_request(s, ep, http::verb::get, target, o);
  beast::flat_buffer buf;
  buf.reserve(16 * 1024);  // a burst of events in a few reads, not one per 512 bytes
  auto parser = std::make_unique<http::response_parser<http::buffer_body>>();
  parser->header_limit(static_cast<std::uint32_t>(o.header_limit));
  parser->body_limit(boost::none);  // the stream is endless; lines are bounded instead
  auto [rec, rn] = co_await http::async_read_header(s, buf, *parser, use_tuple);
  if (rec) throw_io(ep, http::verb::get, target, rec, o.request_timeout);
  unsigned status = parser->get().result_int();
  if (status != 200) {
    // Read a bounded part of the error body for the message.
    char tmp[2048];
    parser->get().body().data = tmp;
    parser->get().body().size = sizeof tmp;
    co_await http::async_read_some(s, buf, *parser, use_tuple);
    throw_status(ep, http::verb::get, target, status, std::string_view(tmp, sizeof tmp - parser->get().body().size));
  }
  s.expires_never();  // a quiet stream is normal; death shows as EOF or an error
  co_return std::make_unique<EventStreamImpl<Stream>>(std::move(s), std::move(buf), std::move(parser),
                                                      o.event_line_limit);
}

}  // namespace

Client::Client(asio::any_io_executor ex, Endpoint endpoint, ClientOptions options)
    : ex_(std::move(ex)), endpoint_(std::move(endpoint)), options_(options) {}
Client::~Client() = default;

std::string Client::api_version() const { return prefix_.empty() ? std::string() : prefix_.substr(2); }

asio::awaitable<void> Client::negotiate() {
  auto res = co_await request(ex_, endpoint_, http::verb::get, "/_ping", options_);
  if (res.result_int() != 200) throw_status(endpoint_, http::verb::get, "/_ping", res.result_int(), res.body());
  auto it = res.find("Api-Version");
  // Engines older than 1.25 send no header; we need at least kMinApiVersion anyway.
  std::string engine_api = it == res.end() ? std::string("1.24") : std::string(it->value());
  try {
    prefix_ = "/v" + engine::negotiate(engine_api).str();
  } catch (const std::exception& e) {
    throw EngineError(EngineError::Kind::api_refused, "the engine at " + endpoint_.text + ": " + e.what());
  }
}

asio::awaitable<std::string> Client::call(Method method, std::string target, ClientOptions options) {
  const http::verb verb = method == Method::post  ? http::verb::post
                          : method == Method::del ? http::verb::delete_
                                                  : http::verb::get;
  if (prefix_.empty()) co_await negotiate();
  std::string full = prefix_ + target;
  auto res = co_await request(ex_, endpoint_, verb, full, options);
  if (res.result_int() / 100 != 2) throw_status(endpoint_, verb, full, res.result_int(), res.body());
  co_return std::move(res.body());
}

asio::awaitable<std::string> Client::get(std::string target) { return call(Method::get, std::move(target), options_); }
asio::awaitable<std::string> Client::post(std::string target) { return call(Method::post, std::move(target), options_); }
asio::awaitable<std::string> Client::del(std::string target) { return call(Method::del, std::move(target), options_); }

asio::awaitable<std::string> Client::get(std::string target, std::chrono::milliseconds deadline) {
  ClientOptions o = options_;
  o.connect_timeout = std::min(o.connect_timeout, deadline);
  o.request_timeout = deadline;
  return call(Method::get, std::move(target), o);
}

asio::awaitable<VersionInfo> Client::version() {
  std::string body = co_await get("/version");
  try {
    co_return docker::parse_version(body);
  } catch (const docker::ParseError&) {
    throw EngineError(EngineError::Kind::protocol, "GET /version: invalid JSON");
  }
}

asio::awaitable<std::vector<docker::ContainerInfo>> Client::inspect_all() {
  std::vector<docker::ContainerInfo> out;
  for (const auto& id : co_await list_container_ids())
    if (auto info = co_await inspect(id)) out.push_back(std::move(*info));
  co_return out;
}

asio::awaitable<std::vector<std::string>> Client::list_container_ids() {
  std::string body = co_await get("/containers/json?all=1");
  try {
    co_return docker::parse_container_ids(body);
  } catch (const docker::ParseError& e) {
    throw EngineError(EngineError::Kind::protocol, std::string("GET /containers/json: ") + e.what());
  }
}

asio::awaitable<std::optional<docker::ContainerInfo>> Client::inspect(std::string id) {
  if (prefix_.empty()) co_await negotiate();
  std::string target = prefix_ + container_path(id, "/json");
  auto res = co_await request(ex_, endpoint_, http::verb::get, target, options_);
  if (res.result_int() == 404) co_return std::nullopt;
  if (res.result_int() != 200) throw_status(endpoint_, http::verb::get, target, res.result_int(), res.body());
  try {
    co_return docker::parse_inspect(res.body());
  } catch (const docker::ParseError& e) {
    throw EngineError(EngineError::Kind::protocol, "GET " + target + ": " + e.what());
  }
}

asio::awaitable<std::unique_ptr<EventStream>> Client::events(std::optional<std::int64_t> since_nano) {
  if (prefix_.empty()) co_await negotiate();
  std::string target = prefix_ + "/events";
  if (since_nano) target += "?since=" + docker::format_since(*since_nano);
  AnyStream stream = co_await connect(ex_, endpoint_, options_);
  if (auto* u = std::get_if<UnixStream>(&stream))
    co_return co_await open_events(std::move(*u), endpoint_, target, options_);
  co_return co_await open_events(std::move(std::get<TcpStream>(stream)), endpoint_, target, options_);
}

}  // namespace composewatch::engine
