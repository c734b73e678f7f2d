#include "composewatch/prune/host_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace composewatch::prune {

std::string lock_path(const std::string& state_dir) { return std::filesystem::path(state_dir).lexically_normal().string(); }

std::optional<HostLock> HostLock::try_take(const std::string& path, std::string& why) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    why = "cannot open the state directory " + path + " to take the prune lock: " + std::strerror(errno);
    return std::nullopt;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd);
    why = e == EWOULDBLOCK ? "another prune is running on this host (it holds the lock on " + path + ")"
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
