// The supervisor of the agent's long-lived jobs: a job that throws or returns is logged
// and started again with backoff; a job started with OnFailure::exit makes the agent exit
// non-zero. On a real io_context with short backoffs.

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "composewatch/jobs/supervisor.h"

using namespace composewatch;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

jobs::Supervisor::Options quick() { return {.backoff_initial = 10ms, .backoff_max = 40ms, .stable_after = 10s}; }

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace

TEST(Supervisor, AJobThatThrowsIsStartedAgainWithBackoff) {
  asio::io_context ioc;
  int exit_code = -1;
  jobs::Supervisor jobs(ioc.get_executor(), [&](int c) { exit_code = c; }, quick());
  int runs = 0;
  std::vector<std::chrono::steady_clock::time_point> starts;
  jobs.start("flaky", [&]() -> asio::awaitable<void> {
    starts.push_back(std::chrono::steady_clock::now());
    ++runs;
    if (runs < 4) throw std::runtime_error("boom");
    co_await sleep_for(10s);  // the fourth run stays up
  });
  ioc.run_for(500ms);
  EXPECT_EQ(runs, 4);
  EXPECT_EQ(jobs.restarts("flaky"), 3u);
  EXPECT_EQ(exit_code, -1) << "a restartable job never stops the agent";
  ASSERT_EQ(starts.size(), 4u);
  // 10 ms, then 20 ms, then 40 ms between the starts: the backoff doubles.
  EXPECT_GE(starts[1] - starts[0], 10ms);
  EXPECT_GE(starts[2] - starts[1], 20ms);
  EXPECT_GE(starts[3] - starts[2], 40ms);
}

TEST(Supervisor, AJobThatReturnsIsAFailureToo) {
  asio::io_context ioc;
  jobs::Supervisor jobs(ioc.get_executor(), [](int) {}, quick());
  int runs = 0;
  jobs.start("short", [&]() -> asio::awaitable<void> {
    ++runs;
    co_return;
  });
  ioc.run_for(100ms);
  EXPECT_GE(runs, 2);
  EXPECT_EQ(jobs.restarts("short"), std::uint64_t(runs - 1));
}

TEST(Supervisor, AnExitJobStopsTheAgentNonZeroAndIsNotRestarted) {
  asio::io_context ioc;
  int exit_code = -1;
  jobs::Supervisor jobs(ioc.get_executor(), [&](int c) {
    exit_code = c;
    ioc.stop();
  }, quick());
  int runs = 0;
  jobs.start("vital", [&]() -> asio::awaitable<void> {
    ++runs;
    co_await sleep_for(5ms);
    throw std::logic_error("broken invariant");
  }, jobs::Supervisor::OnFailure::exit);
  ioc.run_for(1s);
  EXPECT_EQ(exit_code, 1);
  EXPECT_EQ(runs, 1);
}

TEST(Supervisor, OtherJobsRunOnWhileOneFails) {
  asio::io_context ioc;
  jobs::Supervisor jobs(ioc.get_executor(), [](int) {}, quick());
  int ticks = 0;
  jobs.start("steady", [&]() -> asio::awaitable<void> {
    for (;;) {
      co_await sleep_for(5ms);
      ++ticks;
    }
  });
  jobs.start("failing", []() -> asio::awaitable<void> { throw std::runtime_error("always"); });
  ioc.run_for(200ms);
  EXPECT_GT(ticks, 10);
  EXPECT_GE(jobs.restarts("failing"), 2u);
  EXPECT_EQ(jobs.restarts("steady"), 0u);
}

TEST(Supervisor, AJobFailingNTimesInTheWindowIsUnhealthyUntilTheFailuresAge) {
  asio::io_context ioc;
  auto o = quick();
  o.crash_loop_failures = 3;
  o.crash_loop_window = 300ms;
  jobs::Supervisor jobs(ioc.get_executor(), [](int) {}, o);
  int runs = 0;
  jobs.start("flaky", [&]() -> asio::awaitable<void> {
    if (++runs <= 3) throw std::runtime_error("disk on fire");
    co_await sleep_for(10s);
  });
  jobs.start("fine", []() -> asio::awaitable<void> { co_await sleep_for(10s); });
  ioc.run_for(150ms);  // three failures at ~0, 10, 30 ms, then up
  const auto bad = jobs.unhealthy();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].rfind("flaky: failed 3 times in ", 0), 0u) << bad[0];
  EXPECT_NE(bad[0].find("last: disk on fire"), std::string::npos) << bad[0];
  ioc.run_for(300ms);
  EXPECT_TRUE(jobs.unhealthy().empty()) << "the failures are older than the window";
}

TEST(Supervisor, OneFailureIsNotACrashLoop) {
  asio::io_context ioc;
  jobs::Supervisor jobs(ioc.get_executor(), [](int) {}, quick());
  int runs = 0;
  jobs.start("once", [&]() -> asio::awaitable<void> {
    if (++runs == 1) throw std::runtime_error("once");
    co_await sleep_for(10s);
  });
  ioc.run_for(100ms);
  EXPECT_EQ(runs, 2);
  EXPECT_TRUE(jobs.unhealthy().empty());
}

TEST(Supervisor, AnInjectedFaultCancelsTheRunningJobWhichIsStartedAgain) {
  asio::io_context ioc;
  auto o = quick();
  o.fault_after = 30ms;
  jobs::Supervisor jobs(ioc.get_executor(), [](int) {}, o);
  jobs.inject_faults("ticker:2,other");
  int runs = 0, ticks = 0;
  jobs.start("ticker", [&]() -> asio::awaitable<void> {
    ++runs;
    for (;;) {
      co_await sleep_for(5ms);
      ++ticks;
    }
  });
  jobs.start("untouched", []() -> asio::awaitable<void> { co_await sleep_for(10s); });
  ioc.run_for(400ms);
  EXPECT_EQ(runs, 3) << "two faulted runs, then a run that stays up";
  EXPECT_EQ(jobs.restarts("ticker"), 2u);
  EXPECT_EQ(jobs.restarts("untouched"), 0u);
  EXPECT_GT(ticks, 20) << "the job ran before each fault and after its restarts";
}

TEST(Supervisor, AMalformedFaultSpecIsRefused) {
  asio::io_context ioc;
  jobs::Supervisor jobs(ioc.get_executor(), [](int) {}, quick());
  EXPECT_THROW(jobs.inject_faults("disk:x"), std::invalid_argument);
  EXPECT_THROW(jobs.inject_faults("disk:0"), std::invalid_argument);
  EXPECT_NO_THROW(jobs.inject_faults(""));
}

// The HTTP accept loop runs on the server's own thread: start_on() supervises a job there,
// its backoff timer included, and the crash-loop health is the same as for the others.
TEST(Supervisor, AJobStartedOnAnotherExecutorRunsAndIsRestartedThere) {
  asio::io_context writer, other;
  auto o = quick();
  o.fault_after = 20ms;
  o.crash_loop_failures = 2;
  jobs::Supervisor jobs(writer.get_executor(), [](int) {}, o);
  jobs.inject_faults("accept:2");
  std::mutex mu;
  std::vector<std::thread::id> ran_on;
  jobs.start_on(other.get_executor(), "accept", [&]() -> asio::awaitable<void> {
    {
      std::lock_guard lock(mu);
      ran_on.push_back(std::this_thread::get_id());
    }
    co_await sleep_for(10s);
  });
  std::thread other_thread([&] { other.run_for(400ms); });
  const auto other_id = other_thread.get_id();
  writer.run_for(100ms);  // nothing of it runs on the writer's loop
  other_thread.join();
  std::lock_guard lock(mu);
  EXPECT_EQ(ran_on.size(), 3u) << "two faulted runs, then one that stays up";
  for (const auto& id : ran_on) EXPECT_EQ(id, other_id);
  EXPECT_EQ(jobs.restarts("accept"), 2u);
  ASSERT_EQ(jobs.unhealthy().size(), 1u);
  EXPECT_EQ(jobs.unhealthy()[0].rfind("accept: failed 2 times", 0), 0u) << jobs.unhealthy()[0];
}
