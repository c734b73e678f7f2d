#include "fake_engine.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <tuple>

namespace composewatch::test_support {

namespace {

void write_all(int fd, std::string_view s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;  // the client went away: nothing left to answer
    off += std::size_t(n);
  }
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 500: return "Internal Server Error";
    default: return "Status";
  }
}

std::atomic<int> dir_counter{0};

}  // namespace

// ------------------------------------------------------------------------------ Exchange

void Exchange::send(std::string_view raw) { write_all(fd_, raw); }

void Exchange::json(int status, std::string_view body, std::string_view extra_headers) {
  write_all(fd_, FakeEngine::json_response(status, body, extra_headers));
}

void Exchange::begin_stream(int status) {
  write_all(fd_, "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                     "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
}

void Exchange::chunk(std::string_view data) { write_all(fd_, FakeEngine::chunk(data)); }

void Exchange::end_stream() { write_all(fd_, "0\r\n\r\n"); }

void Exchange::stall() {
  char buf[512];
  for (;;) {
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 1000) < 0) return;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return;
    if ((p.revents & POLLIN) && ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) <= 0) return;
  }
}

// ---------------------------------------------------------------------------- FakeEngine

FakeEngine::FakeEngine(FakeEngineOptions options) : options_(std::move(options)) {
  if (!options_.tcp) {
    if (options_.socket_path.empty()) {
      own_dir_ = std::filesystem::temp_directory_path() /
                 ("cw-fake-engine-" + std::to_string(::getpid()) + "-" + std::to_string(dir_counter++));
      std::filesystem::create_directories(own_dir_);
      path_ = (own_dir_ / "docker.sock").string();
    } else {
      path_ = options_.socket_path.string();
    }
  }
  on("/_ping", [api = options_.api_version](Exchange& x) { x.json(200, "OK", "Api-Version: " + api + "\r\n"); });
  otherwise_ = [](Exchange& x) { x.json(404, R"({"message":"fake: not here"})"); };
  listen();
}

FakeEngine::~FakeEngine() {
  stop();
  std::error_code ec;
  if (!own_dir_.empty())
    std::filesystem::remove_all(own_dir_, ec);
  else if (!options_.tcp)
    std::filesystem::remove(path_, ec);
}

FakeEngine& FakeEngine::on(const std::string& route, Handler handler) {
  Route r;
  r.target = route;
  if (const auto sp = route.find(' '); sp != std::string::npos && !route.starts_with("/")) {
    r.method = route.substr(0, sp);
    r.target = route.substr(sp + 1);
  }
  if (r.target.ends_with("*")) {
    r.prefix = true;
    r.target.pop_back();
  }
  r.handler = std::move(handler);
  const std::string key = r.method + " " + r.target + (r.prefix ? "*" : "");
  std::lock_guard lock(mu_);
  routes_[key] = std::move(r);
  return *this;
}

FakeEngine& FakeEngine::on(const std::string& route, int status, std::string body) {
  return on(route, [status, body = std::move(body)](Exchange& x) { x.json(status, body); });
}

FakeEngine& FakeEngine::otherwise(Handler handler) {
  std::lock_guard lock(mu_);
  otherwise_ = std::move(handler);
  return *this;
}

std::string FakeEngine::docker_host() const {
  return options_.tcp ? "tcp://127.0.0.1:" + std::to_string(port_) : "unix://" + path_;
}

std::vector<std::string> FakeEngine::targets() const {
  std::lock_guard lock(mu_);
  return targets_;
}

std::vector<std::string> FakeEngine::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void FakeEngine::drop(std::string_view prefix) {
  std::lock_guard lock(mu_);
  for (const auto& [fd, target] : open_)
    if (target.starts_with(prefix)) ::shutdown(fd, SHUT_RDWR);  // the handler's next read or write fails
}

void FakeEngine::remove_socket() {
  stop();
  std::error_code ec;
  if (!options_.tcp) std::filesystem::remove(path_, ec);
}

void FakeEngine::recreate_socket() { listen(); }

void FakeEngine::stop() {
  stopping_ = true;
  if (listen_fd_ >= 0) {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes the accept thread
    if (accept_thread_.joinable()) accept_thread_.join();
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  end_connections();
}

std::string FakeEngine::json_response(int status, std::string_view body, std::string_view extra_headers) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\nContent-Type: application/json\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + std::string(body);
}

std::string FakeEngine::chunk(std::string_view data) {
  char head[32];
  std::snprintf(head, sizeof head, "%zx\r\n", data.size());
  return head + std::string(data) + "\r\n";
}

void FakeEngine::listen() {
  stopping_ = false;
  if (options_.tcp) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // the same port again
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(std::uint16_t(port_));
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error(std::string("fake engine: cannot listen on 127.0.0.1: ") + std::strerror(errno));
    port_ = ntohs(addr.sin_port);
  } else {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (listen_fd_ < 0 || path_.size() >= sizeof addr.sun_path)
      throw std::runtime_error("fake engine: cannot make a unix socket at " + path_);
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
      throw std::runtime_error("fake engine: cannot listen on " + path_ + ": " + std::strerror(errno));
  }
  if (!options_.silent) accept_thread_ = std::thread([this] { serve(); });
}

// One thread accepting; a thread per connection. Finished connections are reaped as new
// ones arrive, so thousands of reconnects cost no threads or descriptors.
void FakeEngine::serve() {
  while (!stopping_) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    ++accepted_;
    conns_.remove_if([](Connection& c) {
      if (!*c.done) return false;
      c.thread.join();
      return true;
    });
    {
      std::lock_guard lock(mu_);
      open_[fd] = "";
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    conns_.push_back({std::thread([this, fd, done] {
                        answer(fd);
                        *done = true;
                      }),
                      done});
  }
}

void FakeEngine::answer(int fd) {
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) head.push_back(c);
  const auto sp1 = head.find(' ');
  const auto sp2 = head.find(' ', sp1 == std::string::npos ? sp1 : sp1 + 1);
  const std::string method = head.substr(0, sp1);
  const std::string target = sp1 == std::string::npos ? "" : head.substr(sp1 + 1, sp2 - sp1 - 1);
  Handler handler;
  {
    std::lock_guard lock(mu_);
    open_[fd] = target;
    targets_.push_back(target);
    requests_.push_back(method + " " + target);
  }
  if (!hang_up_) {
    handler = find(method, target);
    Exchange x(fd, method, target);
    handler(x);
  }
  {
    std::lock_guard lock(mu_);
    open_.erase(fd);  // before the close, so that drop() never shuts down a reused descriptor
  }
  ::close(fd);
}

FakeEngine::Handler FakeEngine::find(const std::string& method, const std::string& target) const {
  std::lock_guard lock(mu_);
  const Route* best = nullptr;
  auto rank = [](const Route& r) { return std::make_tuple(!r.prefix, r.target.size(), !r.method.empty()); };
  for (const auto& [key, r] : routes_) {
    if (!r.method.empty() && r.method != method) continue;
    if (r.prefix ? !target.starts_with(r.target) : target != r.target) continue;
    if (!best || rank(r) > rank(*best)) best = &r;
  }
  return best ? best->handler : otherwise_;
}

void FakeEngine::end_connections() {
  {
    std::lock_guard lock(mu_);
    for (const auto& [fd, target] : open_) ::shutdown(fd, SHUT_RDWR);  // ends stalls and streams
  }
  for (auto& c : conns_) c.thread.join();
  conns_.clear();
}

}  // namespace composewatch::test_support
