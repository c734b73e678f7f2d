#include "composewatch/prune/host_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace composewatch::prune {

std::string lock_path(const std::string& state_dir) {
  return (std::filesystem::path(state_dir) / "prune.lock").string();
}

std::optional<HostLock> HostLock::try_take(const std::string& path, std::string& why) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    why = "cannot open the prune lock " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd);
    why = e == EWOULDBLOCK ? "another prune is running on this host (lock " + path + ")"
                           : "cannot lock " + path + ": " + std::strerror(e);
    return std::nullopt;
  }
  return HostLock(fd);
}

HostLock::HostLock(HostLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

HostLock::~HostLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace composewatch::prune
