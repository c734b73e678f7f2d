#pragma once
// Starts and supervises the agent's long-lived jobs (event follower, OOM folder, stats
// poller, compose watcher, disk collector, prune scheduler, housekeeping): each one
// coroutine on the writer's executor, but for the HTTP accept loop, which runs on the
// HTTP server's own threads (start_on). A job is not expected to end: when it does, by an
// exception or by returning, the supervisor logs it (job=… error=…) and starts it again
// after a capped exponential backoff, or, for a job started with OnFailure::exit, asks
// the agent to exit non-zero. Nothing ends silently.
//
// A job that failed crash_loop_failures times within crash_loop_window is crash-looping:
// unhealthy() names it, and /healthz answers 503 with that name until the failures are
// older than the window.
//
// Thread-safety: start(), start_on(), inject_faults() and the constructor on the
// executor's thread (or before it runs); restarts() and unhealthy() from any thread. A job
// started with start_on() touches only the shared health records (under a mutex) from its
// executor's threads.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace composewatch::jobs {

class Supervisor {
 public:
  struct Options {
    std::chrono::milliseconds backoff_initial{1'000};
    std::chrono::milliseconds backoff_max{60'000};
    // A job that ran at least this long before failing starts again from backoff_initial.
    std::chrono::milliseconds stable_after{300'000};
    std::size_t crash_loop_failures = 3;
    std::chrono::milliseconds crash_loop_window{300'000};
    // How long a job injected with a fault runs before the fault is thrown into it.
    std::chrono::milliseconds fault_after{300};
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
  // The same for one of the job classes of jobs/: its run(), each time it is started.
  // `job` must stay alive as long as the supervisor may start it.
  template <class J>
    requires requires(J& j) {
      { j.run() } -> std::same_as<boost::asio::awaitable<void>>;
    }
  void start(std::string name, J& job) {
    start(std::move(name), [&job] { return job.run(); });
  }
  // The same, the job (and its backoff) running on `ex` instead of the writer's executor;
  // it is always restarted. The executor's context must not outlive the supervisor
  // unless it is stopped first.
  void start_on(boost::asio::any_io_executor ex, std::string name, Job job);

  // TEST ONLY (COMPOSEWATCH_TEST_FAULT, read once by `composewatch run`): makes the
  // named jobs fail. `spec` is a comma-separated list of `job` or `job:N`: that job's
  // first N runs (1 by default) each throw std::runtime_error("injected fault") after
  // running for Options::fault_after; the exception goes through the real supervision
  // (log, backoff, restart, crash-loop health). Applies to jobs started after the call.
  // Throws std::invalid_argument for a malformed spec. Empty: no faults.
  void inject_faults(std::string_view spec);

  // How often the job of this name has been started again (0 when never or unknown).
  std::uint64_t restarts(const std::string& name) const;

  // The crash-looping jobs now, one line each: "disk: failed 3 times in 300s, last: …".
  std::vector<std::string> unhealthy() const;

 private:
  struct Health;
  // `faults`: how many of the first runs fail (inject_faults), taken out of faults_ by
  // start() so that a job on another executor does not share the map.
  boost::asio::awaitable<void> supervise(std::string name, Job job, OnFailure on_failure, int faults);
  int take_faults(const std::string& name);
  void record_failure(const std::string& name, const std::string& error);

  boost::asio::any_io_executor ex_;
  std::function<void(int)> exit_agent_;
  Options options_;
  std::map<std::string, int> faults_;  // job name -> runs left to fail
  std::shared_ptr<Health> health_;     // restarts and failure times, under a mutex
  std::shared_ptr<std::atomic<bool>> alive_;
};

}  // namespace composewatch::jobs
