#pragma once
// A fake Docker engine on a unix socket, for what the real engine cannot do on demand:
// refuse our API version, stall, send garbage or a truncated stream, answer slower than a
// deadline. Every test that uses it says why the real engine would not do.

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace composewatch::test_support {

// One thread accepting connections; each request's head goes to `respond`, which writes
// whatever it likes on the raw socket (and may keep it open or stall: a responder that
// stalls waits in wait_for_close(), which the destructor ends, so a failing test still
// cleans up). Finished connections are reaped as new ones arrive, so thousands of
// reconnects cost no threads or descriptors.
class FakeEngine {
 public:
  using Responder = std::function<void(int fd, const std::string& target)>;

  // On a fresh socket in a temp dir of its own (removed by the destructor), or at
  // `socket_path` (only the socket is removed): a new FakeEngine there is the engine's
  // socket deleted and re-created.
  explicit FakeEngine(Responder respond, std::filesystem::path socket_path = {}) : respond_(std::move(respond)) {
    if (socket_path.empty()) {
      dir_ = std::filesystem::temp_directory_path() / ("cw-fake-" + std::to_string(getpid()) + "-" +
                                                       std::to_string(counter_++));
      std::filesystem::create_directories(dir_);
      path_ = (dir_ / "docker.sock").string();
    } else {
      path_ = socket_path.string();
      std::filesystem::remove(path_);
    }
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0)
      throw std::runtime_error("fake engine: cannot listen on " + path_);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeEngine() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // ends responders stalled in wait_for_close
    }
    for (auto& c : conns_) c.thread.join();
    if (dir_.empty())
      std::filesystem::remove(path_);
    else
      std::filesystem::remove_all(dir_);
  }
  std::string docker_host() const { return "unix://" + path_; }
  const std::string& socket_path() const { return path_; }
  // Connections accepted so far.
  int connections() const { return accepted_; }

  // Blocks until the peer closes the connection or the fake shuts down: a stall.
  static void wait_for_close(int fd) {
    char buf[512];
    for (;;) {
      pollfd p{fd, POLLIN | POLLRDHUP, 0};
      if (::poll(&p, 1, 1000) < 0) return;
      if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return;
      if ((p.revents & POLLIN) && ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) return;
    }
  }
  std::vector<std::string> targets() {
    std::lock_guard lock(mu_);
    return targets_;
  }
  // "METHOD target" of every request, in order.
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  static void write_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += std::size_t(n);
    }
  }
  static std::string json_response(int status, const std::string& body, const std::string& extra = "") {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }
  static std::string chunk(const std::string& data) {
    char head[32];
    std::snprintf(head, sizeof head, "%zx\r\n", data.size());
    return head + data + "\r\n";
  }

 private:
  struct Connection {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void serve() {
    while (!stopping_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      ++accepted_;
      conns_.remove_if([](Connection& c) {
        if (!*c.done) return false;
        c.thread.join();
        return true;
      });
      {
        std::lock_guard lock(mu_);
        open_fds_.insert(fd);
      }
      auto done = std::make_shared<std::atomic<bool>>(false);
      conns_.push_back({std::thread([this, fd, done] {
        std::string head;
        char c;
        while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) head.push_back(c);
        auto sp1 = head.find(' ');
        auto sp2 = head.find(' ', sp1 + 1);
        std::string target = sp1 == std::string::npos ? "" : head.substr(sp1 + 1, sp2 - sp1 - 1);
        {
          std::lock_guard lock(mu_);
          targets_.push_back(target);
          requests_.push_back(head.substr(0, sp1) + " " + target);
        }
        respond_(fd, target);
        {
          std::lock_guard lock(mu_);
          open_fds_.erase(fd);
        }
        ::close(fd);
        *done = true;
      }), done});
    }
  }

  static inline std::atomic<int> counter_{0};
  Responder respond_;
  std::filesystem::path dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
  std::list<Connection> conns_;  // the accept thread's own
  std::mutex mu_;
  std::set<int> open_fds_;
  std::vector<std::string> targets_;
  std::vector<std::string> requests_;
};

inline std::string ping(const std::string& api) {
  return FakeEngine::json_response(200, "OK", "Api-Version: " + api + "\r\n");
}

}  // namespace composewatch::test_support
