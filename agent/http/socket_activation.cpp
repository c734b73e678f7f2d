#include <composewatch/http/socket_activation.h>

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace composewatch::http {

std::vector<int> inherited_listen_fds() {
  const int count = sd_listen_fds(1);
  if (count < 0)
    throw std::runtime_error(std::string("socket activation: $LISTEN_FDS: ") + std::strerror(-count));
  std::vector<int> fds;
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + count; ++fd) {
    const bool tcp = sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) > 0;
    if (!tcp)
      throw std::runtime_error("socket activation: passed fd " + std::to_string(fd) +
                               " is not a listening TCP socket (composewatch.socket's ListenStream= must be "
                               "an address and port such as 127.0.0.1:9469, not a path)");
    fds.push_back(fd);
  }
  return fds;
}

}  // namespace composewatch::http
