#pragma once
// Starts and supervises the agent's long-lived jobs (event follower, OOM folder, stats
// poller, compose watcher, disk collector, prune scheduler, housekeeping): each one
// coroutine on the writer's executor. A job is not expected to end: when it does, by an
// exception or by returning, the supervisor logs it (job=… error=…) and starts it again
// after a capped exponential backoff, or, for a job started with OnFailure::exit, asks
// the agent to exit non-zero. Nothing ends silently.
//
// Thread-safety: all members on the executor's thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace composewatch::app {

class Supervisor {
 public:
  struct Options {
    std::chrono::milliseconds backoff_initial{1'000};
    std::chrono::milliseconds backoff_max{60'000};
    // A job that ran at least this long before failing starts again from backoff_initial.
    std::chrono::milliseconds stable_after{300'000};
  };
  enum class OnFailure { restart, exit };
  using Job = std::function<boost::asio::awaitable<void>()>;

  // `exit_agent(code)` is called once, for the first failure of an OnFailure::exit job.
  Supervisor(boost::asio::any_io_executor ex, std::function<void(int)> exit_agent, Options options);
  Supervisor(boost::asio::any_io_executor ex, std::function<void(int)> exit_agent);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts `job` now under `name` (the job= field of its log lines).
  void start(std::string name, Job job, OnFailure on_failure = OnFailure::restart);

  // How often the job of this name has been started again (0 when never or unknown).
  std::uint64_t restarts(const std::string& name) const;

 private:
  boost::asio::awaitable<void> supervise(std::string name, Job job, OnFailure on_failure);

  boost::asio::any_io_executor ex_;
  std::function<void(int)> exit_agent_;
  Options options_;
  std::map<std::string, std::uint64_t> restarts_;
  std::shared_ptr<bool> alive_;
};

}  // namespace composewatch::app
