#pragma once
// A fake Docker engine on a unix socket, for what the real engine cannot do on demand:
// refuse our API version, stall, send garbage or a truncated stream, answer slower than a
// deadline. Every test that uses it says why the real engine would not do.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace composewatch::test_support {

// One thread accepting connections; each request's head goes to `respond`, which writes
// whatever it likes on the raw socket (and may keep it open or stall).
class FakeEngine {
 public:
  using Responder = std::function<void(int fd, const std::string& target)>;

  explicit FakeEngine(Responder respond) : respond_(std::move(respond)) {
    dir_ = std::filesystem::temp_directory_path() / ("cw-fake-" + std::to_string(getpid()) + "-" +
                                                     std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "docker.sock").string();
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
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
    for (auto& t : conns_) t.join();
    std::filesystem::remove_all(dir_);
  }
  std::string docker_host() const { return "unix://" + path_; }
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
  void serve() {
    while (!stopping_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      conns_.emplace_back([this, fd] {
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
        ::close(fd);
      });
    }
  }

  static inline std::atomic<int> counter_{0};
  Responder respond_;
  std::filesystem::path dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> conns_;
  std::mutex mu_;
  std::vector<std::string> targets_;
  std::vector<std::string> requests_;
};

inline std::string ping(const std::string& api) {
  return FakeEngine::json_response(200, "OK", "Api-Version: " + api + "\r\n");
}

}  // namespace composewatch::test_support
