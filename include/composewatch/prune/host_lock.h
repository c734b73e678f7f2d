#pragma once
// One prune at a time on the host, between the agent and `composewatch prune`: an
// exclusive flock(2) on <state.dir>/prune.lock, held while a policy runs. The kernel
// drops it when the process dies, so a crash leaves nothing stale behind.

#include <optional>
#include <string>

namespace composewatch::prune {

class HostLock {
 public:
  // Takes the lock without waiting. nullopt with `why` set when another process holds it
  // or the file cannot be opened (the directory is created when missing).
  static std::optional<HostLock> try_take(const std::string& path, std::string& why);

  HostLock(HostLock&& other) noexcept;
  HostLock& operator=(HostLock&&) = delete;
  HostLock(const HostLock&) = delete;
  ~HostLock();

 private:
  explicit HostLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

std::string lock_path(const std::string& state_dir);

}  // namespace composewatch::prune
