#include <composewatch/http/server.h>

#include "basic_auth.h"
#include "gzip.h"
#include "listen_address.h"
#include "tls_context.h"
#include "web_config.h"
#include "composewatch/config/config.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "composewatch/log/log.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace composewatch::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using HttpRequest = bhttp::request<bhttp::string_body>;
using HttpResponse = bhttp::response<bhttp::string_body>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using namespace std::chrono_literals;

// Error policy: inside the I/O loops failures are error codes, and a failed connection
// just ends; exceptions are for start-up only.
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// After the last response of a connection, how long we keep reading what the client
// still sends before closing, so that unread bytes do not make the kernel answer with a
// reset that can destroy the response in flight.
constexpr auto kCloseLinger = 1s;
// Pause after a failed accept (EMFILE and friends persist for a while).
constexpr auto kAcceptRetryPause = 100ms;

HttpResponse text_response(bhttp::status status, std::string body) {
  HttpResponse res{status, 11};
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// The status to answer a request that could not be read with, or none when the
// connection is just gone (closed, reset, timed out).
std::optional<bhttp::status> status_for_read_error(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit) return bhttp::status::request_header_fields_too_large;
  if (ec == bhttp::error::body_limit) return bhttp::status::payload_too_large;
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
    return bhttp::status::bad_request;
  }
  return std::nullopt;
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  auto address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(endpoint.port());
}

boost::system::error_code bind_and_listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  if (acceptor.is_open()) acceptor.close(ec);
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return ec;
  // Lets a restarted agent bind while old connections sit in TIME_WAIT; on Linux it does
  // not allow two listeners on one port.
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (endpoint.address().is_v6() && endpoint.address().is_unspecified()) {
    acceptor.set_option(asio::ip::v6_only(false), ec);  // ":port" means IPv4 too
  }
  acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }
  return ec;
}

// Counts against a limit from try_acquire() to release() or destruction.
class Admission {
 public:
  Admission() = default;
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;
  ~Admission() { release(); }

  // False, counting nothing, when `limit` (0: none) are already counted.
  bool try_acquire(std::atomic<std::size_t>& count, std::size_t limit) {
    release();
    if (count.fetch_add(1) >= limit && limit != 0) {
      count.fetch_sub(1);
      return false;
    }
    count_ = &count;
    return true;
  }
  void release() {
    if (count_) count_->fetch_sub(1);
    count_ = nullptr;
  }

 private:
  std::atomic<std::size_t>* count_ = nullptr;
};

// An open connection, counted against max_connections for as long as its session lives
// (the coroutine frame owns it, so a session destroyed by stop() releases it too).
class ConnectionCount {
 public:
  explicit ConnectionCount(std::atomic<std::size_t>& count) : count_(&count) { count_->fetch_add(1); }
  ConnectionCount(ConnectionCount&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  ConnectionCount& operator=(ConnectionCount&&) = delete;
  ~ConnectionCount() {
    if (count_) count_->fetch_sub(1);
  }

 private:
  std::atomic<std::size_t>* count_;
};

// Admission to the password worker: at most `total` checks queued or running, and at most
// `per_client` of them for one client (an IPv4 address, or an IPv6 /64 as one host holds),
// so that strangers on one host cannot fill the queue a scraper on another needs for a new
// credential. Thread-safe.
class PasswordCheckAdmission {
 public:
  PasswordCheckAdmission(std::size_t total, std::size_t per_client) : total_(total), per_client_(per_client) {}

  // Counts one check of `client` until the ticket goes; an empty ticket when refused.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(PasswordCheckAdmission* owner, std::string client) : owner_(owner), client_(std::move(client)) {}
    Ticket(Ticket&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)), client_(std::move(other.client_)) {}
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (owner_) owner_->leave(client_);
    }
    explicit operator bool() const { return owner_ != nullptr; }

   private:
    PasswordCheckAdmission* owner_ = nullptr;
    std::string client_;
  };

  Ticket enter(const std::string& client) {
    std::lock_guard lock(mutex_);
    auto& mine = by_client_[client];
    if ((total_ != 0 && count_ >= total_) || (per_client_ != 0 && mine >= per_client_)) {
      if (mine == 0) by_client_.erase(client);
      return {};
    }
    ++count_;
    ++mine;
    return {this, client};
  }

 private:
  void leave(const std::string& client) {
    std::lock_guard lock(mutex_);
    --count_;
    if (auto it = by_client_.find(client); it != by_client_.end() && --it->second == 0) by_client_.erase(it);
  }

  const std::size_t total_, per_client_;
  std::mutex mutex_;
  std::size_t count_ = 0;
  std::map<std::string, std::size_t> by_client_;
};

// The client a password check is counted against.
std::string client_of(const tcp::endpoint& peer) {
  const auto address = peer.address();
  if (address.is_v4()) return address.to_string();
  auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

// A warning that can repeat many times a second (a flood of connections, a process out of
// descriptors): logged the first time, then at most once a minute with how many there were.
class RepeatedWarning {
 public:
  // Whether to log now; `count` is then the number since the last line, this one included.
  bool due(std::uint64_t& count) {
    ++unlogged_;
    const auto now = std::chrono::steady_clock::now();
    if (logged_at_ && now - *logged_at_ < std::chrono::minutes(1)) return false;
    logged_at_ = now;
    count = std::exchange(unlogged_, 0);
    return true;
  }

 private:
  std::uint64_t unlogged_ = 0;
  std::optional<std::chrono::steady_clock::time_point> logged_at_;
};

HttpResponse unauthorized() {
  auto res = text_response(bhttp::status::unauthorized, "Unauthorized\n");
  res.set(bhttp::field::www_authenticate, "Basic");
  return res;
}

void log_connection_end(const beast::error_code& ec) {
  if (ec == beast::error::timeout) {
    log::debug("http: connection timed out");
  } else if (ec != bhttp::error::end_of_stream && ec != asio::error::operation_aborted) {
    log::debug("http: connection ended", {{"error", ec.message()}});
  }
}

asio::awaitable<void> close_gracefully(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(kCloseLinger);
  std::array<char, 4096> scratch;
  for (std::size_t drained = 0; drained < 64 * 1024;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
    if (ec) break;
    drained += n;
  }
}

asio::awaitable<void> close_gracefully(TlsStream& stream) {
  // Sends close_notify; a client that just drops the connection ends the wait early.
  beast::get_lowest_layer(stream).expires_after(kCloseLinger);
  co_await stream.async_shutdown(use_tuple);
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options_in, Handler handler_in)
      : options(std::move(options_in)), handler(std::move(handler_in)) {}

  void open(const Supervise& supervise);
  void shut_down();
  void run_io();

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor);
  void note_refused_connection();
  asio::awaitable<void> run_session(beast::tcp_stream stream, ConnectionCount counted);
  template <class Stream>
  asio::awaitable<void> serve(Stream& stream);
  asio::awaitable<HttpResponse> respond(const HttpRequest& request, const std::string& client, Admission& slot);
  asio::awaitable<std::optional<HttpResponse>> check_credentials(const HttpRequest& request,
                                                                 const std::string& client);
  HttpResponse handle(const HttpRequest& request);  // on a handler thread

  const ServerOptions options;
  const Handler handler;
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> connections{0};
  PasswordCheckAdmission password_checks{options.max_password_checks, options.max_password_checks_per_client};
  // Accept loop only.
  RepeatedWarning refused_warning, accept_warning;
  // From the web config file, set by open().
  std::optional<asio::ssl::context> tls;
  std::optional<BasicAuth> auth;
  std::vector<std::pair<std::string, std::string>> extra_headers;

  std::mutex mutex;  // guards state and bound
  enum class State { idle, running, stopped } state = State::idle;
  std::string bound;

  // Suspended sessions live in these and reference the members above, so shut_down()
  // destroys them explicitly, in order.
  std::optional<asio::io_context> io;
  std::vector<tcp::acceptor> acceptors;  // one per listening socket, reserved: never moves
  std::optional<asio::thread_pool> handler_pool;
  // One thread for bcrypt, with basic auth only: a stranger's guesses queue here, never
  // on the handler threads that serve the scrapes.
  std::optional<asio::thread_pool> password_worker;
  std::vector<std::thread> io_threads;
};

void Server::Impl::open(const Supervise& supervise) {
  auto fail = [&](const std::string& reason) {
    return std::runtime_error("listen " + options.listen_address + ": " + reason);
  };
  ListenAddress address;
  if (options.listen_fds.empty()) {
    try {
      address = parse_listen_address(options.listen_address);
    } catch (const std::invalid_argument& e) {
      throw fail(e.what());
    }
  }

  if (!options.web_config_file.empty()) {
    auto config = load_web_config(options.web_config_file);
    if (config.tls) {
      try {
        tls.emplace(make_tls_context(*config.tls));
      } catch (const std::runtime_error& e) {
        throw config::ConfigError(options.web_config_file + ": " + e.what());
      }
    }
    if (!config.basic_auth_users.empty()) auth.emplace(std::move(config.basic_auth_users));
    extra_headers = std::move(config.headers);
  }

  const unsigned io_thread_count = std::max(1u, options.threads);
  io.emplace(static_cast<int>(io_thread_count));

  if (!options.listen_fds.empty()) {
    // Sockets systemd opened and passed (socket activation): already bound and listening.
    acceptors.reserve(options.listen_fds.size());
    for (const int fd : options.listen_fds) {
      sockaddr_storage local{};
      socklen_t length = sizeof local;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0 ||
          (local.ss_family != AF_INET && local.ss_family != AF_INET6)) {
        acceptors.clear();
        io.reset();
        throw std::runtime_error("inherited socket " + std::to_string(fd) + ": not a TCP socket");
      }
      boost::system::error_code ec;
      auto& acceptor = acceptors.emplace_back(*io);
      acceptor.assign(local.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
      if (ec) {
        acceptors.clear();
        io.reset();
        throw std::runtime_error("inherited socket " + std::to_string(fd) + ": " + ec.message());
      }
      const std::string here = format_endpoint(acceptor.local_endpoint(ec));
      bound += (bound.empty() ? "" : ", ") + here;
    }
  } else {
    std::vector<tcp::endpoint> endpoints;
    boost::system::error_code ec;
    if (address.host.empty()) {
      // All interfaces: dual-stack IPv6, or IPv4 alone where IPv6 is disabled.
      endpoints = {{tcp::v6(), address.port}, {tcp::v4(), address.port}};
    } else if (auto literal = asio::ip::make_address(address.host, ec); !ec) {
      endpoints = {{literal, address.port}};
    } else {
      tcp::resolver resolver(*io);
      auto results = resolver.resolve(address.host, std::to_string(address.port),
                                      tcp::resolver::numeric_service, ec);
      if (ec) throw fail(ec.message());
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
      // Like Go's net.Listen, prefer IPv4 for names such as "localhost".
      std::stable_partition(endpoints.begin(), endpoints.end(),
                            [](const tcp::endpoint& e) { return e.address().is_v4(); });
    }

    acceptors.reserve(1);
    auto& acceptor = acceptors.emplace_back(*io);
    boost::system::error_code first_error;
    bool listening = false;
    for (const auto& endpoint : endpoints) {
      ec = bind_and_listen(acceptor, endpoint);
      if (!ec) {
        listening = true;
        break;
      }
      if (!first_error) first_error = ec;
    }
    if (!listening) {
      acceptors.clear();
      io.reset();
      throw fail(first_error ? first_error.message() : "no address to listen on");
    }
    bound = format_endpoint(acceptor.local_endpoint());
  }

  handler_pool.emplace(std::max(1u, options.handler_threads));
  if (auth) password_worker.emplace(1);
  for (std::size_t i = 0; i < acceptors.size(); ++i) {
    tcp::acceptor& acceptor = acceptors[i];
    // "http", then "http-2", ... for more sockets (socket activation with several ListenStream=).
    const std::string name = i == 0 ? "http" : "http-" + std::to_string(i + 1);
    if (supervise) {
      // Started again by the supervisor when it fails; it resumes on the same listening
      // socket, where connections made meanwhile wait in the backlog.
      supervise(name, io->get_executor(), [this, &acceptor] { return accept_loop(acceptor); });
    } else {
      asio::co_spawn(*io, accept_loop(acceptor), [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          log::error("accept loop ended; no new connections are accepted", {{"error", x.what()}});
        }
      });
    }
  }
  for (unsigned i = 0; i < io_thread_count; ++i) io_threads.emplace_back([this] { run_io(); });
}

void Server::Impl::run_io() {
  for (;;) {
    try {
      io->run();
      return;
    } catch (const std::exception& e) {
      // Every coroutine has a completion handler that catches, so this is a bug; keep serving.
      log::error("http: I/O loop failed", {{"error", e.what()}});
    }
  }
}

void Server::Impl::shut_down() {
  io->stop();
  for (auto& thread : io_threads) thread.join();
  io_threads.clear();
  // Running handlers finish; queued ones are dropped. What they complete into the stopped
  // io_context is destroyed with it below.
  handler_pool->stop();
  handler_pool->join();
  handler_pool.reset();
  if (password_worker) {
    password_worker->stop();
    password_worker->join();
    password_worker.reset();
  }
  acceptors.clear();
  io.reset();
}

asio::awaitable<void> Server::Impl::accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(*io), use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // EMFILE and friends last: ten lines a second would flood the journal.
      if (std::uint64_t failures = 0; accept_warning.due(failures))
        log::warn("http: accept failed", {{"address", bound}, {"error", ec.message()}, {"failures", failures}});
      asio::steady_timer pause(acceptor.get_executor(), kAcceptRetryPause);
      co_await pause.async_wait(use_tuple);
      continue;
    }
    // The descriptors are shared with the engine client, the cgroup reads and the state
    // saves: idle connections must not take them all.
    if (options.max_connections != 0 && connections.load() >= options.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      note_refused_connection();
      continue;
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor,
                   run_session(beast::tcp_stream(std::move(socket)), ConnectionCount(connections)),
                   [](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& x) {
                       log::debug("http: connection failed", {{"error", x.what()}});
                     }
                   });
  }
}

void Server::Impl::note_refused_connection() {
  std::uint64_t closed = 0;
  if (!refused_warning.due(closed)) return;
  log::warn("http: connections closed at once: too many open",
            {{"max_connections", options.max_connections}, {"closed", closed}});
}

asio::awaitable<void> Server::Impl::run_session(beast::tcp_stream stream, ConnectionCount) {
  if (!tls) {
    co_await serve(stream);
    co_return;
  }
  TlsStream tls_stream(std::move(stream), *tls);
  beast::get_lowest_layer(tls_stream).expires_after(options.read_timeout);
  auto [ec] = co_await tls_stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) {
    log::debug("http: TLS handshake failed", {{"error", ec.message()}});
    co_return;
  }
  co_await serve(tls_stream);
}

template <class Stream>
asio::awaitable<void> Server::Impl::serve(Stream& stream) {
  auto& socket = beast::get_lowest_layer(stream);
  beast::error_code peer_ec;
  const auto peer = socket.socket().remote_endpoint(peer_ec);
  if (peer_ec) co_return;  // already gone
  const std::string client = client_of(peer);
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    if (!first && buffer.size() == 0) {
      // Between keep-alive requests the idle timeout applies until the next request
      // begins; from its first byte on, the read timeout.
      socket.expires_after(options.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(1024), use_tuple);
      if (ec) {
        log_connection_end(ec);
        co_return;
      }
      buffer.commit(n);
    }

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(options.body_limit);
    socket.expires_after(options.read_timeout);
    auto [read_ec, read_n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    if (read_ec) {
      if (auto status = status_for_read_error(read_ec)) {
        auto res = text_response(*status, std::string(bhttp::obsolete_reason(*status)) + "\n");
        res.keep_alive(false);
        for (const auto& [name, value] : extra_headers) res.set(name, value);
        socket.expires_after(options.write_timeout);
        auto [write_ec, write_n] = co_await bhttp::async_write(stream, res, use_tuple);
        if (!write_ec) co_await close_gracefully(stream);
      } else {
        log_connection_end(read_ec);
      }
      co_return;
    }

    const HttpRequest& request = parser.get();
    Admission slot;  // held until the response is written: bounds the bodies in memory too
    HttpResponse response = co_await respond(request, client, slot);
    response.version(request.version());
    response.keep_alive(request.keep_alive());
    for (const auto& [name, value] : extra_headers) response.set(name, value);
    // HEAD gets the headers a GET would, Content-Length included, and no body.
    if (request.method() == bhttp::verb::head) response.body().clear();
    socket.expires_after(options.write_timeout);
    auto [write_ec, write_n] = co_await bhttp::async_write(stream, response, use_tuple);
    slot.release();
    if (write_ec) {
      log_connection_end(write_ec);
      co_return;
    }
    if (!response.keep_alive()) {
      co_await close_gracefully(stream);
      co_return;
    }
  }
}

asio::awaitable<HttpResponse> Server::Impl::respond(const HttpRequest& request, const std::string& client,
                                                    Admission& slot) {
  if (request.method() != bhttp::verb::get && request.method() != bhttp::verb::head) {
    auto res = text_response(bhttp::status::method_not_allowed, "method not allowed\n");
    res.set(bhttp::field::allow, "GET, HEAD");
    co_return res;
  }
  // Before a slot is taken: a stranger's request must not hold one.
  if (auto refused = co_await check_credentials(request, client)) co_return std::move(*refused);
  if (!slot.try_acquire(in_flight, options.max_requests)) {
    co_return text_response(bhttp::status::service_unavailable,
                            "too many concurrent requests, try again later\n");
  }
  // co_spawn onto the handler pool runs the handler there and completes back on this
  // session's executor, so a slow handler holds a pool thread, never the I/O thread.
  co_return co_await asio::co_spawn(
      handler_pool->get_executor(),
      [this, &request]() -> asio::awaitable<HttpResponse> { co_return handle(request); },
      asio::use_awaitable);
}

// None when the request may go on; else the answer: 401, or 429 when the password worker
// has max_password_checks already, or max_password_checks_per_client of this client.
asio::awaitable<std::optional<HttpResponse>> Server::Impl::check_credentials(const HttpRequest& request,
                                                                             const std::string& client) {
  if (!auth) co_return std::nullopt;
  const std::string authorization(request[bhttp::field::authorization]);
  switch (auth->remembered(authorization)) {
    case BasicAuth::Verdict::allowed: co_return std::nullopt;
    case BasicAuth::Verdict::denied: co_return unauthorized();
    case BasicAuth::Verdict::unverified: break;
  }
  const auto ticket = password_checks.enter(client);
  if (!ticket) {
    auto res = text_response(bhttp::status::too_many_requests,
                             "too many password checks in progress, try again later\n");
    res.set(bhttp::field::retry_after, "1");
    co_return res;
  }
  // The bcrypt runs on the password worker, whatever the user name (an unknown one costs
  // a bcrypt of a real hash, so that timing reveals no names): within the same bound.
  const bool verified = co_await asio::co_spawn(
      password_worker->get_executor(),
      [this, &authorization]() -> asio::awaitable<bool> { co_return auth->verify(authorization); },
      asio::use_awaitable);
  if (!verified) co_return unauthorized();
  co_return std::nullopt;
}

HttpResponse Server::Impl::handle(const HttpRequest& request) {
  const auto target = request.target();
  Request req{std::string(request.method_string()), std::string(target),
              std::string(target.substr(0, target.find('?')))};
  try {
    Response out = handler(req);
    if (out.status < 200 || out.status > 999) {
      throw std::invalid_argument("invalid status " + std::to_string(out.status));
    }
    HttpResponse res;
    res.result(out.status);
    if (!out.content_type.empty()) res.set(bhttp::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) res.set(name, value);
    if (out.compressible && out.body.size() >= options.gzip_min_bytes) {
      // The representation depends on Accept-Encoding, whichever one this client gets.
      res.set(bhttp::field::vary, "Accept-Encoding");
      if (accepts_gzip(request[bhttp::field::accept_encoding])) {
        out.body = gzip_compress(out.body);
        res.set(bhttp::field::content_encoding, "gzip");
      }
    }
    res.body() = std::move(out.body);
    res.prepare_payload();  // throws for a body on 204/304
    return res;
  } catch (const std::exception& e) {
    log::warn("http: request failed", {{"method", req.method}, {"path", req.path}, {"error", e.what()}});
  } catch (...) {
    log::warn("http: request failed", {{"method", req.method}, {"path", req.path}, {"error", "unknown exception"}});
  }
  return text_response(bhttp::status::internal_server_error, "internal server error\n");
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { stop(); }

void Server::start(const Supervise& supervise) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->state != Impl::State::idle) {
    throw std::logic_error("http server: start() after start() or stop()");
  }
  impl_->open(supervise);
  impl_->state = Impl::State::running;
}

void Server::stop() {
  std::lock_guard lock(impl_->mutex);
  const bool running = impl_->state == Impl::State::running;
  impl_->state = Impl::State::stopped;
  if (running) impl_->shut_down();
}

std::string Server::local_address() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->bound;
}

void Server::post_to_handler_pool(std::function<void()> task) {
  // Only called from handlers, which run between start() and the pool's join in stop():
  // the pool exists. After stop() began, the pool drops the task.
  if (impl_->handler_pool) asio::post(*impl_->handler_pool, std::move(task));
}

}  // namespace composewatch::http
