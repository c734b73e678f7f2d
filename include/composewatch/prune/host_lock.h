#pragma once
// One prune at a time on the host, between the agent and `composewatch prune`: an
// exclusive flock(2) on the state directory itself (--state.dir), held while a policy
// runs. A directory, not a file in it: the agent runs as systemd's dynamic user and
// `composewatch prune` as root, and a lock file one of them creates (mode 0600 under the
// unit's UMask) the other could not open; the directory both can open read-only, and a
// flock needs no more. The kernel drops the lock when the process dies, so a crash leaves
// nothing stale behind.

#include <optional>
#include <string>

namespace composewatch::prune {

class HostLock {
 public:
  // Takes the lock on directory `path` without waiting (the directory is created when
  // missing). nullopt with `why` set when another process holds it or the directory
  // cannot be opened.
  static std::optional<HostLock> try_take(const std::string& path, std::string& why);

  HostLock(HostLock&& other) noexcept;
  HostLock& operator=(HostLock&&) = delete;
  HostLock(const HostLock&) = delete;
  ~HostLock();

 private:
  explicit HostLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// What HostLock locks for a --state.dir: the directory itself.
std::string lock_path(const std::string& state_dir);

}  // namespace composewatch::prune
