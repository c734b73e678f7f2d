#pragma once
// The HTTP server for /metrics and friends (Boost.Beast). The header stays free of
// Asio/Beast: the implementation owns its own io_context, I/O thread(s) and a small pool
// of handler threads, so a slow handler never stalls accepting or other connections.
//
// Only GET and HEAD reach the handler (others get 405). The server answers on its own:
// 503 beyond max_requests, 400/413/431 for malformed or oversized requests, 500 when the
// handler throws, 401 without valid basic-auth credentials when the web config has users.
// It gzips compressible bodies for clients that accept gzip.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

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
};

// Called on one of the server's handler threads, possibly concurrently (up to
// handler_threads at once); it must be thread-safe and should not block for long: a
// request waiting for a handler thread counts against max_requests, and stop() waits for
// running handlers. An exception becomes a 500 and is logged.
using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string listen_address = "127.0.0.1:9469";  // host:port, [v6]:port or :port (all interfaces)
  std::size_t max_requests = 40;                  // concurrent; beyond that 503; 0: no limit
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

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the web config, binds and starts serving on the server's own thread(s). Throws
  // std::runtime_error with a one-line reason ("listen 127.0.0.1:9469: Address already in
  // use", "/etc/composewatch/web.yml:3: tls_server_config.certfile: unknown key"), and
  // std::logic_error when called twice or after stop().
  void start();
  // Stops accepting, drops open connections, waits for running handlers, joins the
  // threads. Idempotent; safe to call without start(). Not to be called from a handler.
  void stop();
  // The bound address as host:port or [v6]:port (useful with port 0); empty before start().
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
