#pragma once

// The kernel's own count of OOM kills on the host (/proc/vmstat oom_kill), held against
// the kills the agent counted, to count an OOM kill the engine did not report.
//
// The engine learns of an OOM kill from containerd, which loses it when the container's
// cgroup is gone before its notification is read: many containers killed at once, a busy
// host. Then there is no `oom` event and no OOMKilled flag, only a `die` with exit code 137
// — and the cgroup, with its own counter, is removed by then. The kernel's host-wide
// counter still went up. A container that died by SIGKILL which Docker did not send (no
// `kill` or `stop` before it), while the kernel counted an OOM kill that no container's
// event, flag or cgroup accounts for, was OOM-killed: the ledger says so, once per kill.
//
// Only recent kills count: what the kernel counted longer than `window` before the check
// (a host process killed by the OOM killer, outside any container) is never attributed.

#include <chrono>
#include <cstdint>
#include <deque>

namespace composewatch::state {

class HostOomLedger {
 public:
  using Clock = std::chrono::system_clock;
  // How far back a kill the kernel counted may be attributed to a death.
  static constexpr std::chrono::seconds kWindow{10};
  explicit HostOomLedger(std::chrono::seconds window = kWindow) : window_(window) {}

  // A reading of the host's counter taken at `at` (the agent reads it every few
  // seconds and at each check). A reading lower than the last one (a counter that went
  // back: another kernel, a restored agent) starts the ledger over.
  void sample(Clock::time_point at, std::uint64_t host_kills);

  // `n` OOM kills counted at `at` by an event, a flag or a cgroup's counter.
  void explained(Clock::time_point at, std::uint64_t n = 1);

  // With the counter read now: whether a kill the kernel counted within the window is
  // explained by nothing. If so it is taken (explained from now on) and true returned.
  bool take_unexplained(Clock::time_point now, std::uint64_t host_kills_now);

  // Kills counted by the kernel since the window's base reading and not explained (0
  // without readings). For the log and the tests.
  std::uint64_t unexplained(Clock::time_point now) const;

 private:
  struct Reading {
    Clock::time_point at;
    std::uint64_t kills;
  };
  // The reading the window starts at: the newest one taken at least `window_` before
  // `now`, else the oldest there is.
  const Reading* base(Clock::time_point now) const;
  void forget_before(Clock::time_point now);

  std::chrono::seconds window_;
  std::deque<Reading> readings_;
  std::deque<Clock::time_point> explained_;  // one entry per kill, in the order counted
};

}  // namespace composewatch::state
