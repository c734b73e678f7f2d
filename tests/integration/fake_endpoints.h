#pragma once
// Endpoints that a real engine or agent cannot be made to be on demand: a server that
// accepts connections (the kernel does, from the listen backlog) and never answers. For
// the tests of deadlines and of signals during start-up. Header-only; each closes its
// socket when destroyed.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace itest {

// A unix stream socket at `path` that listens and never reads or writes: a stuck engine.
class SilentUnixServer {
 public:
  explicit SilentUnixServer(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || path_.string().size() >= sizeof addr.sun_path) throw std::runtime_error("unix socket " + path_.string());
    std::strcpy(addr.sun_path, path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 64) != 0)
      throw std::runtime_error("bind/listen " + path_.string() + ": " + std::strerror(errno));
  }
  ~SilentUnixServer() {
    ::close(fd_);
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  SilentUnixServer(const SilentUnixServer&) = delete;
  SilentUnixServer& operator=(const SilentUnixServer&) = delete;
  std::string docker_host() const { return "unix://" + path_.string(); }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// A TCP listener on 127.0.0.1 that never answers: a stuck agent.
class SilentTcpServer {
 public:
  SilentTcpServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error(std::string("tcp listener: ") + std::strerror(errno));
    port_ = ntohs(addr.sin_port);
  }
  ~SilentTcpServer() { ::close(fd_); }
  SilentTcpServer(const SilentTcpServer&) = delete;
  SilentTcpServer& operator=(const SilentTcpServer&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace itest
