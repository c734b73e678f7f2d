#pragma once
// A fake engine (fake_engine.h) that plays a small healthy host — one running container,
// a quiet event stream — and, on demand, one fault at a time: what the real engine cannot
// be made to do at a chosen moment (stall a listing halfway, answer 500 / 409 / "client
// version too new", send garbage, cut a line, hang while `/_ping` still answers).
// Thread-safe: the mode is switched by the test while the fake's threads answer.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "fake_engine.h"

namespace composewatch::test_support {

enum class Fault {
  none,               // healthy: every call answered, the stream stays open and quiet
  listings_hang,      // /_ping, /version and the stream fine; GET /containers/json never answers
  probe_slow,         // the probe answers after `slow_probe`, within its deadline
  probe_fails_once,   // the next probe fails (500), the ones after answer
  listing_stalls,     // GET /containers/json?all=1: headers and half a body, then nothing
  listing_500,        // the listing answers 500
  listing_409,        // the listing answers 409
  client_too_new,     // every versioned call: 400 "client version 1.41 is too new"
  close_at_once,      // every connection is closed before anything is read or written
  stream_cut,         // the event stream ends in the middle of a line
  stream_garbage,     // the stream sends a line that is not JSON and an oversized one
  stream_stalls,      // the stream sends half a line, then nothing (the connection stays)
  stream_ends,        // the stream sends its headers and one event, then ends
};

class ScriptedEngine {
 public:
  // `container_id`/`inspect` describe the one container; `oversized` is the size of the
  // oversized line (above the client's line limit).
  ScriptedEngine(std::string container_id, std::string inspect, std::size_t oversized = 4096,
                 std::filesystem::path socket_path = {})
      : id_(std::move(container_id)), inspect_(std::move(inspect)), oversized_(oversized) {
    if (socket_path.empty()) {
      // A directory of its own, so that the socket can be deleted and created again.
      static std::atomic<int> counter{0};
      own_dir_ = std::filesystem::temp_directory_path() /
                 ("cw-scripted-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
      std::filesystem::create_directories(own_dir_);
      socket_path = own_dir_ / "docker.sock";
    }
    start(std::move(socket_path));
  }
  ~ScriptedEngine() {
    fake_.reset();
    if (!own_dir_.empty()) std::filesystem::remove_all(own_dir_);
  }
  ScriptedEngine(const ScriptedEngine&) = delete;
  ScriptedEngine& operator=(const ScriptedEngine&) = delete;

  void set(Fault f) { fault_ = f; }
  Fault fault() const { return fault_; }
  std::string docker_host() const { return fake_->docker_host(); }
  const std::string& socket_path() const { return fake_->socket_path(); }
  int connections() const { return fake_->connections() + earlier_connections_; }
  int streams() const { return streams_; }
  int probes() const { return probes_; }
  std::chrono::milliseconds slow_probe{150};

  // Ends the open event streams (as an engine restart would), so that the agent
  // reconnects into whatever fault is set.
  void drop_streams() {
    std::lock_guard lock(mu_);
    for (int fd : stream_fds_) ::shutdown(fd, SHUT_RDWR);
  }

  // The socket deleted (the fake is gone: connections fail with "no such socket") ...
  void remove_socket() {
    earlier_connections_ += fake_->connections();
    path_ = fake_->socket_path();
    fake_.reset();
  }
  // ... and created again at the same path, as a restarted dockerd does.
  void recreate_socket() { start(path_); }

 private:
  void start(std::filesystem::path at) {
    fake_ = std::make_unique<FakeEngine>([this](int fd, const std::string& t) { respond(fd, t); }, std::move(at));
  }

  static bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

  void respond(int fd, const std::string& target) {
    const Fault f = fault_;
    if (f == Fault::close_at_once) return;
    if (target == "/_ping") return FakeEngine::write_all(fd, ping("1.41"));
    if (f == Fault::client_too_new)
      return FakeEngine::write_all(
          fd, FakeEngine::json_response(
                  400, R"({"message":"client version 1.41 is too new. Maximum supported API version is 1.40"})"));
    if (target == "/v1.41/version")
      return FakeEngine::write_all(fd, FakeEngine::json_response(200, R"({"Version":"99.0","ApiVersion":"1.41"})"));
    if (target == "/v1.41/containers/json?limit=1") return probe(fd, f);
    if (target == "/v1.41/containers/json?all=1") {
      if (f == Fault::listings_hang) return FakeEngine::wait_for_close(fd);
      if (f == Fault::listing_500)
        return FakeEngine::write_all(fd, FakeEngine::json_response(500, R"({"message":"fake: internal error"})"));
      if (f == Fault::listing_409)
        return FakeEngine::write_all(fd, FakeEngine::json_response(409, R"({"message":"fake: conflict"})"));
      const std::string body = R"([{"Id":")" + id_ + R"("}])";
      if (f == Fault::listing_stalls) {
        FakeEngine::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                      std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, body.size() / 2));
        return FakeEngine::wait_for_close(fd);
      }
      return FakeEngine::write_all(fd, FakeEngine::json_response(200, body));
    }
    if (target == "/v1.41/containers/" + id_ + "/json") return FakeEngine::write_all(fd, FakeEngine::json_response(200, inspect_));
    // The bounded replay after a reconnect (since=…&until=…): nothing was missed here.
    if (starts_with(target, "/v1.41/events") && target.find("&until=") != std::string::npos)
      return FakeEngine::write_all(fd, FakeEngine::json_response(200, ""));
    if (starts_with(target, "/v1.41/events")) return stream(fd, f);
    FakeEngine::write_all(fd, FakeEngine::json_response(404, R"({"message":"fake: not here"})"));
  }

  void probe(int fd, Fault f) {
    ++probes_;
    if (f == Fault::listings_hang) return FakeEngine::wait_for_close(fd);
    if (f == Fault::probe_slow) std::this_thread::sleep_for(slow_probe);
    if (f == Fault::probe_fails_once) {
      fault_ = Fault::none;
      return FakeEngine::write_all(fd, FakeEngine::json_response(500, R"({"message":"fake: once"})"));
    }
    FakeEngine::write_all(fd, FakeEngine::json_response(200, "[]"));
  }

  void stream(int fd, Fault f) {
    const int n = ++streams_;
    {
      std::lock_guard lock(mu_);
      stream_fds_.insert(fd);
    }
    stream_body(fd, f, n);
    std::lock_guard lock(mu_);
    stream_fds_.erase(fd);
  }

  void stream_body(int fd, Fault f, int n) {
    FakeEngine::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string event = R"({"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{"name":"n"}},"timeNano":)" +
                              std::to_string(1000 + n) + "}\n";
    switch (f) {
      case Fault::stream_cut:
        return FakeEngine::write_all(fd, FakeEngine::chunk(event + event.substr(0, 25)));
      case Fault::stream_stalls:
        FakeEngine::write_all(fd, FakeEngine::chunk(event.substr(0, 25)));
        return FakeEngine::wait_for_close(fd);
      case Fault::stream_ends:
        return FakeEngine::write_all(fd, FakeEngine::chunk(event) + "0\r\n\r\n");
      case Fault::stream_garbage:
        FakeEngine::write_all(fd, FakeEngine::chunk("this is not json\n"));
        FakeEngine::write_all(fd, FakeEngine::chunk("{\"Type\":\"" + std::string(oversized_, 'x') + "\"}\n"));
        FakeEngine::write_all(fd, FakeEngine::chunk(event));
        return FakeEngine::wait_for_close(fd);
      default:
        return FakeEngine::wait_for_close(fd);  // open and quiet
    }
  }

  std::string id_, inspect_;
  std::size_t oversized_;
  std::atomic<Fault> fault_{Fault::none};
  std::atomic<int> streams_{0}, probes_{0};
  int earlier_connections_ = 0;
  std::mutex mu_;
  std::set<int> stream_fds_;
  std::filesystem::path own_dir_, path_;
  std::unique_ptr<FakeEngine> fake_;
};

}  // namespace composewatch::test_support
