#pragma once
// The HTTP server for /metrics and friends (Boost.Beast). The header stays free of
// Asio/Beast: the implementation owns its own io_context and thread.

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

// Called on the server's thread, possibly concurrently for up to max_requests requests;
// it must be thread-safe and must not block for long.
using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string listen_address = "127.0.0.1:9469";  // host:port, [v6]:port or :port (all interfaces)
  std::size_t max_requests = 40;                  // concurrent; beyond that 503
  std::chrono::milliseconds read_timeout{10'000};  // whole request head must arrive by then
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive between requests
  std::size_t header_limit = 8 * 1024;
  std::size_t body_limit = 64 * 1024;
  std::size_t gzip_min_bytes = 512;  // smaller bodies go uncompressed
  unsigned threads = 1;
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on the server's own thread(s). Throws std::runtime_error
  // with a one-line reason ("listen 127.0.0.1:9469: address already in use").
  void start();
  // Stops accepting, ends sessions, joins the threads. Idempotent.
  void stop();
  // The bound address as host:port (useful with port 0).
  std::string local_address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace composewatch::http
