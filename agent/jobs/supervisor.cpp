#include "composewatch/jobs/supervisor.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

struct Supervisor::Health {
  struct Job {
    std::uint64_t restarts = 0;
    std::deque<SteadyClock::time_point> failures;  // within the crash-loop window
    std::string last_error;
  };
  mutable std::mutex mu;
  std::map<std::string, Job> jobs;
};

namespace {

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(asio::use_awaitable);
}

// The job, cancelled once it has run for `after`, then failed with an exception. (`||`
// ends at the first branch that *succeeds*, cancelling the other: the timer succeeds.)
asio::awaitable<void> with_fault(Supervisor::Job job, std::chrono::milliseconds after) {
  using namespace asio::experimental::awaitable_operators;
  const auto first = co_await (job() || sleep_for(after));
  if (first.index() == 1) throw std::runtime_error("injected fault (COMPOSEWATCH_TEST_FAULT)");
}

}  // namespace

Supervisor::Supervisor(asio::any_io_executor ex, std::function<void(int)> exit_agent, Options options)
    : ex_(std::move(ex)),
      exit_agent_(std::move(exit_agent)),
      options_(options),
      health_(std::make_shared<Health>()),
      alive_(std::make_shared<std::atomic<bool>>(true)) {}

Supervisor::Supervisor(asio::any_io_executor ex, std::function<void(int)> exit_agent)
    : Supervisor(std::move(ex), std::move(exit_agent), Options{}) {}

Supervisor::~Supervisor() { *alive_ = false; }

void Supervisor::start(std::string name, Job job, OnFailure on_failure) {
  {
    std::lock_guard lock(health_->mu);
    health_->jobs.try_emplace(name);
  }
  const int faults = take_faults(name);
  // supervise() catches everything its job throws, so detached loses nothing.
  asio::co_spawn(ex_, supervise(std::move(name), std::move(job), on_failure, faults), asio::detached);
}

void Supervisor::start_on(asio::any_io_executor ex, std::string name, Job job) {
  {
    std::lock_guard lock(health_->mu);
    health_->jobs.try_emplace(name);
  }
  const int faults = take_faults(name);
  asio::co_spawn(std::move(ex), supervise(std::move(name), std::move(job), OnFailure::restart, faults),
                 asio::detached);
}

int Supervisor::take_faults(const std::string& name) {
  auto it = faults_.find(name);
  if (it == faults_.end()) return 0;
  return std::exchange(it->second, 0);
}

void Supervisor::inject_faults(std::string_view spec) {
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (item.empty()) continue;
    int times = 1;
    if (const auto colon = item.find(':'); colon != std::string_view::npos) {
      const std::string n(item.substr(colon + 1));
      std::size_t used = 0;
      try {
        times = std::stoi(n, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != n.size() || n.empty() || times < 1)
        throw std::invalid_argument("COMPOSEWATCH_TEST_FAULT: '" + std::string(item) + "': expected job or job:N");
      item = item.substr(0, colon);
    }
    faults_[std::string(item)] = times;
    log::warn("test fault injection armed", {{"job", std::string(item)}, {"times", times}});
  }
}

std::uint64_t Supervisor::restarts(const std::string& name) const {
  std::lock_guard lock(health_->mu);
  auto it = health_->jobs.find(name);
  return it == health_->jobs.end() ? 0 : it->second.restarts;
}

void Supervisor::record_failure(const std::string& name, const std::string& error) {
  const auto now = SteadyClock::now();
  std::lock_guard lock(health_->mu);
  auto& job = health_->jobs[name];
  job.failures.push_back(now);
  while (job.failures.size() > options_.crash_loop_failures) job.failures.pop_front();
  job.last_error = error;
}

std::vector<std::string> Supervisor::unhealthy() const {
  const auto now = SteadyClock::now();
  const auto window_s = std::chrono::duration_cast<std::chrono::seconds>(options_.crash_loop_window).count();
  std::vector<std::string> out;
  std::lock_guard lock(health_->mu);
  for (const auto& [name, job] : health_->jobs) {
    if (options_.crash_loop_failures == 0 || job.failures.size() < options_.crash_loop_failures) continue;
    // The oldest of the last N failures is within the window: N failures in the window.
    if (now - job.failures.front() > options_.crash_loop_window) continue;
    out.push_back(name + ": failed " + std::to_string(job.failures.size()) + " times in " + std::to_string(window_s) +
                  "s, last: " + job.last_error);
  }
  return out;
}

asio::awaitable<void> Supervisor::supervise(std::string name, Job job, OnFailure on_failure, int faults) {
  auto alive = alive_;  // the supervisor may be gone when the context is torn down
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto backoff = options_.backoff_initial;
  for (;;) {
    const auto started = SteadyClock::now();
    std::string error;
    try {
      if (faults > 0) {
        --faults;
        co_await with_fault(job, options_.fault_after);
      } else {
        co_await job();
      }
      error = "the job returned";
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown exception";
    }
    if (!*alive) co_return;
    record_failure(name, error);
    if (on_failure == OnFailure::exit) {
      log::error("job failed; the agent exits", {{"job", name}, {"error", error}});
      if (exit_agent_) exit_agent_(1);
      co_return;
    }
    if (SteadyClock::now() - started >= options_.stable_after) backoff = options_.backoff_initial;
    log::error("job failed; restarting it",
               {{"job", name}, {"error", error}, {"restart_in_ms", static_cast<std::int64_t>(backoff.count())}});
    timer.expires_after(backoff);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!*alive) co_return;
    backoff = std::min(backoff * 2, options_.backoff_max);
    std::uint64_t restarts = 0;
    {
      std::lock_guard lock(health_->mu);
      restarts = ++health_->jobs[name].restarts;
    }
    log::info("job started again", {{"job", name}, {"restarts", static_cast<std::int64_t>(restarts)}});
  }
}

}  // namespace composewatch::jobs
