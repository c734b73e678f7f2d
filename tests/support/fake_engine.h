#pragma once
// A fake Docker engine: an HTTP/1.1 server on a unix socket (or on loopback TCP) that
// answers each request as the test scripts it. Only for what the real engine cannot do on
// demand: refuse our API version, stall, answer slower than a deadline, send garbage or a
// truncated stream, fail one call at a chosen moment, go away and come back. Every test
// that uses it says why the real engine would not do. Unit and integration tests link it
// (library test_fake_engine); it needs nothing of the agent.
//
//   FakeEngine fake;                                    // answers /_ping with 1.41
//   fake.on("/v1.41/info", 200, R"({"DockerRootDir":"/"})")
//       .on("DELETE /v1.41/images/*", [](Exchange& x) { x.json(409, R"({"message":"in use"})"); })
//       .on("/v1.41/events*", [](Exchange& x) { x.begin_stream(); x.stall(); });
//   ... engine::parse_endpoint(fake.docker_host()) ...
//
// Thread-safe: routes may be changed and the request log read while the fake answers, one
// thread per connection.

#include <atomic>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace composewatch::test_support {

// One request, and the raw connection it came on. A handler answers with the helpers below
// or writes whatever it likes; the connection is closed when the handler returns, so a
// handler that returns without writing is a connection closed unanswered.
class Exchange {
 public:
  Exchange(int fd, std::string method, std::string target)
      : fd_(fd), method_(std::move(method)), target_(std::move(target)) {}

  const std::string& method() const { return method_; }
  // Path and query, as sent ("/v1.41/events?since=1.5&until=2").
  const std::string& target() const { return target_; }
  int fd() const { return fd_; }

  // Bytes as they are (a head without its body, half a line, garbage).
  void send(std::string_view raw);
  // A complete answer with a JSON body; `extra_headers` are "Name: value\r\n" lines.
  void json(int status, std::string_view body, std::string_view extra_headers = {});
  // The head of a chunked answer (the event stream), then its chunks and its end.
  void begin_stream(int status = 200);
  void chunk(std::string_view data);
  void end_stream();
  // Answers nothing and holds the connection until the client closes it, the test drops it
  // (FakeEngine::drop) or the fake goes away: a stall.
  void stall();

 private:
  int fd_;
  std::string method_, target_;
};

struct FakeEngineOptions {
  // A unix socket at this path (only the socket is removed at the end); empty: a fresh
  // socket in a temporary directory of its own (removed at the end).
  std::filesystem::path socket_path;
  // Listen on 127.0.0.1, on a free port, instead of a unix socket.
  bool tcp = false;
  // What GET /_ping answers in its Api-Version header, unless a route for /_ping is set.
  std::string api_version = "1.41";
  // Listen and never accept: connections complete in the kernel's backlog and are never
  // read or answered, as with a process that is stuck (an engine, or an agent on tcp).
  bool silent = false;
};

class FakeEngine {
 public:
  using Handler = std::function<void(Exchange&)>;

  explicit FakeEngine(FakeEngineOptions options = {});
  ~FakeEngine();
  FakeEngine(const FakeEngine&) = delete;
  FakeEngine& operator=(const FakeEngine&) = delete;

  // Scripted answers per path. `route` is "[METHOD ]TARGET": without a method it matches
  // every method; a TARGET ending in '*' matches every target it begins. An exact target
  // wins over a prefix, a longer prefix over a shorter one, a route with the method over
  // one without; setting a route again replaces it.
  FakeEngine& on(const std::string& route, Handler handler);
  // A fixed answer with a JSON body.
  FakeEngine& on(const std::string& route, int status, std::string body);
  // What no route matches; by default 404 {"message":"fake: not here"}.
  FakeEngine& otherwise(Handler handler);
  // While set, every connection is closed as soon as its request is read, unanswered: an
  // engine that hangs up on everything.
  void hang_up(bool on) { hang_up_ = on; }

  // unix:///…/docker.sock, or tcp://127.0.0.1:PORT.
  std::string docker_host() const;
  const std::string& socket_path() const { return path_; }
  int port() const { return port_; }
  // Connections accepted so far, across re-creations of the socket.
  int connections() const { return accepted_; }
  // The target of every request, in order; and "METHOD target" of every request.
  std::vector<std::string> targets() const;
  std::vector<std::string> requests() const;

  // Ends the open connections whose target begins with `prefix` (every one when empty):
  // stalled answers and streams end as when the engine closes them.
  void drop(std::string_view prefix = {});
  // The socket deleted: every connection ends and new ones fail ("no such socket") ...
  void remove_socket();
  // ... and created again at the same path, as a restarted dockerd does.
  void recreate_socket();
  // Stops listening and ends every connection, waiting for their handlers; the destructor
  // does it too. A class that scripts the fake with handlers that use its own members
  // calls it first in its destructor, so that no handler runs on a destroyed object.
  void stop();

  // Answers in raw form, for Exchange::send.
  static std::string json_response(int status, std::string_view body, std::string_view extra_headers = {});
  static std::string chunk(std::string_view data);

 private:
  struct Connection {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  struct Route {
    std::string method;  // empty: any
    std::string target;  // without the '*'
    bool prefix = false;
    Handler handler;
  };

  void listen();
  void serve();
  void answer(int fd);
  Handler find(const std::string& method, const std::string& target) const;
  void end_connections();

  FakeEngineOptions options_;
  std::filesystem::path own_dir_;
  std::string path_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> hang_up_{false};
  std::atomic<int> accepted_{0};
  std::thread accept_thread_;
  std::list<Connection> conns_;  // the accept thread's own, joined when it is not running
  mutable std::mutex mu_;
  std::map<std::string, Route> routes_;  // by "METHOD TARGET[*]"
  Handler otherwise_;
  std::map<int, std::string> open_;  // fd -> target of the connections being answered
  std::vector<std::string> targets_, requests_;
};

}  // namespace composewatch::test_support
