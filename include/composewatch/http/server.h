#pragma once
// The HTTP server for /metrics and friends (Boost.Beast). The header holds no Beast and only
// the two Asio types a supervised job needs: the implementation owns its own io_context,
// I/O thread(s), a small pool of handler threads and, with basic auth, one password
// worker, so a slow handler never stalls accepting or other connections.
//
// Only GET and HEAD reach the handler (others get 405). The server answers on its own:
// 401 without valid basic-auth credentials when the web config has users, 429 when the
// password worker's queue is full, 503 beyond max_requests, 400/413/431 for malformed or
// oversized requests, 500 when the handler throws. It closes a new connection at once
// beyond max_connections, and gzips compressible bodies for clients that accept gzip.
//
// Basic auth costs a stranger's request no handler thread and no request slot: credentials
// that passed once are remembered (a hash lookup on the I/O thread); others are checked
// with bcrypt on the password worker, at most max_password_checks queued or running (and
// max_password_checks_per_client of one client).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace composewatch::http {

struct Request {
  std::string method;  // "GET", "HEAD", ...
  std::string target;  // path and query as sent
  std::string path;    // target without the query
};

struct Response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  bool compressible = true;  // gzip it when the client accepts gzip
  std::vector<std::pair<std::string, std::string>> headers;  // more header fields
};

// Called on one of the server's handler threads, possibly concurrently (up to
// handler_threads at once); it must be thread-safe and should not block for long: a
// request counts against max_requests from the moment it waits for a handler thread until
// its last byte is written, and stop() waits for running handlers. An exception becomes a
// 500 and is logged.
using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string listen_address = "127.0.0.1:9469";  // host:port, [v6]:port or :port (all interfaces)
  // Listening TCP sockets to serve instead of binding listen_address (systemd socket
  // activation, http/socket_activation.h): the server takes them over and closes them
  // when it stops. Empty: bind listen_address.
  std::vector<int> listen_fds;
  // Requests admitted at once, each from its wait for a handler thread to the last byte of
  // its response (so this also bounds the bodies held in memory); beyond that 503; 0: no limit.
  std::size_t max_requests = 40;
  // Open connections; beyond that a new connection is closed at once; 0: no limit.
  std::size_t max_connections = 256;
  // Credentials not yet verified, queued or being checked on the password worker (one
  // thread), in all and of one client (an IPv4 address or an IPv6 /64); beyond either 429
  // at once. Bounds a stranger's bcrypt work, and keeps strangers on one host from
  // taking every place a scraper on another needs for a new credential. 0: no limit.
  std::size_t max_password_checks = 16;
  std::size_t max_password_checks_per_client = 4;
  std::chrono::milliseconds read_timeout{10'000};  // TLS handshake; then each whole request
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive between requests
  std::size_t header_limit = 8 * 1024;
  std::size_t body_limit = 64 * 1024;
  std::size_t gzip_min_bytes = 512;  // smaller bodies go uncompressed
  unsigned threads = 1;                // I/O threads (accepting, reading, writing)
  unsigned handler_threads = 2;        // threads that run the Handler
  // Exporter-toolkit web config (tls_server_config, basic_auth_users, http_server_config);
  // empty: plain HTTP, no auth. Read once, by start().
  std::string web_config_file;
};

// Runs one of the server's long-lived jobs (the accept loop, named "http") under
// supervision: calls `job` as a coroutine on `executor` (the server's I/O threads) and, when
// it ends by an exception or by returning, logs that and calls it again. The agent passes
// its Supervisor (jobs/supervisor.h); a job that fails repeatedly is named by /healthz.
using Supervise = std::function<void(std::string name, boost::asio::any_io_executor executor,
                                     std::function<boost::asio::awaitable<void>()> job)>;

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the web config, binds and starts serving on the server's own thread(s), the
  // accept loop run by `supervise` (without one, by the server alone: an exception that
  // ends the loop is logged and nothing accepts any more; for tests and tools). Throws
  // std::runtime_error with a one-line reason ("listen 127.0.0.1:9469: Address already in
  // use"), config::ConfigError (config/error.h) for the web config and the files it names
  // ("/etc/composewatch/web.yml:3: tls_server_config.certfile: unknown key"), and
  // std::logic_error when called twice or after stop().
  void start(const Supervise& supervise = {});
  // Stops accepting, drops open connections, waits for running handlers, joins the
  // threads. Idempotent; safe to call without start(). Not to be called from a handler.
  void stop();
  // The bound address as host:port or [v6]:port (useful with port 0), the addresses of
  // the listen_fds separated by ", "; empty before start().
  std::string local_address() const;
  // Queues `task` on the handler threads, for a handler that splits its work (it must not
  // wait for the task to start: all handler threads may be busy). To be called from a
  // handler only; the task may be dropped when the server stops.
  void post_to_handler_pool(std::function<void()> task);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace composewatch::http
