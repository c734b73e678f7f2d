// The sockets systemd passes (LISTEN_FDS/LISTEN_PID, fds from 3): taken once, TCP only.
// Each case runs in a child process, which puts a socket at fd 3 and sets the variables
// as systemd does, without disturbing the test binary's own descriptors.

#include <composewatch/http/socket_activation.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>

namespace composewatch::http {
namespace {

int tcp_listener() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0) return -1;
  return fd;
}

// Runs `body` in a child with `socket` at fd 3, LISTEN_FDS=1 and LISTEN_PID set to the
// child (or to `pid_offset` more); the child's exit status: 0 when `body` returned true.
int in_child(const std::function<int()>& make_socket, const std::function<bool()>& body, int pid_offset = 0) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = make_socket();
    if (fd < 0 || ::dup2(fd, 3) != 3) ::_exit(10);
    if (fd != 3) ::close(fd);
    ::setenv("LISTEN_FDS", "1", 1);
    ::setenv("LISTEN_PID", std::to_string(::getpid() + pid_offset).c_str(), 1);
    bool ok = false;
    try {
      ok = body();
    } catch (...) {
      ::_exit(11);
    }
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(SocketActivation, TakesThePassedTcpSocketOnce) {
  EXPECT_EQ(in_child(tcp_listener,
                     [] {
                       const auto fds = inherited_listen_fds();
                       // The variables are gone (children do not inherit them), the fd closes on exec.
                       return fds == std::vector<int>{3} && std::getenv("LISTEN_FDS") == nullptr &&
                              std::getenv("LISTEN_PID") == nullptr && (::fcntl(3, F_GETFD) & FD_CLOEXEC) &&
                              inherited_listen_fds().empty();
                     }),
            0);
}

TEST(SocketActivation, NothingWhenTheVariablesNameAnotherProcess) {
  EXPECT_EQ(in_child(tcp_listener, [] { return inherited_listen_fds().empty(); }, 1), 0);
}

TEST(SocketActivation, NothingWithoutTheVariables) {
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  EXPECT_TRUE(inherited_listen_fds().empty());
}

TEST(SocketActivation, RefusesASocketThatIsNotListeningTcp) {
  auto refused = [] {
    try {
      inherited_listen_fds();
    } catch (const std::runtime_error& e) {
      return std::string(e.what()).find("passed fd 3 is not a listening TCP socket") != std::string::npos;
    }
    return false;
  };
  // A unix socket (ListenStream=/run/...), a datagram socket (ListenDatagram=).
  EXPECT_EQ(in_child([] { return ::socket(AF_UNIX, SOCK_STREAM, 0); }, refused), 0);
  EXPECT_EQ(in_child([] { return ::socket(AF_INET, SOCK_DGRAM, 0); }, refused), 0);
  // A TCP socket that does not listen.
  EXPECT_EQ(in_child([] { return ::socket(AF_INET, SOCK_STREAM, 0); }, refused), 0);
}

}  // namespace
}  // namespace composewatch::http
