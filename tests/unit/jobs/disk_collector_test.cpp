// The disk collector job against a fake engine: the fake is used only to make
// GET /system/df slower than its deadline on demand, which the real engine does not do.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "composewatch/jobs/disk_collector.h"
#include "composewatch/disk/report.h"
#include "fake_engine.h"
#include "fixture_file.h"

using namespace composewatch;
using namespace std::chrono_literals;
using test_support::FakeEngine;

// The fake answers /system/df at once the first time, then stalls past the deadline.
TEST(DiskCollectorJob, ASlowDfKeepsTheLastFiguresAndMarksTheReportFailed) {
  const std::string df = test_support::read_fixture("engine/system_df.json");
  std::atomic<int> df_calls{0};
  std::atomic<bool> release{false};
  FakeEngine fake;
  fake.on("/v1.41/info", 200, R"({"DockerRootDir":"/var/lib/docker"})")
      .on("/v1.41/system/df", [&](test_support::Exchange& x) {
        if (++df_calls > 1)
          for (int i = 0; i < 300 && !release; ++i) std::this_thread::sleep_for(10ms);
        x.json(200, df);
      });
  boost::asio::io_context ioc;
  state::StateModel model;
  jobs::DiskCollector job(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()), model,
                          {.interval = 1s, .timeout = 1s});
  auto run_once = [&] {
    auto fut = boost::asio::co_spawn(ioc, job.collect_once(), boost::asio::use_future);
    ioc.run();
    ioc.restart();
    fut.get();
  };
  run_once();
  auto first = model.snapshot()->disk;
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->last_ok);
  ASSERT_TRUE(first->df);
  EXPECT_EQ(first->docker_root_dir, "/var/lib/docker");

  const auto t0 = std::chrono::steady_clock::now();
  run_once();
  const auto took = std::chrono::steady_clock::now() - t0;
  release = true;
  auto second = model.snapshot()->disk;
  EXPECT_FALSE(second->last_ok);
  EXPECT_NE(second->last_error.find("no answer within"), std::string::npos) << second->last_error;
  EXPECT_EQ(second->df, first->df) << "the last figures stay";
  EXPECT_EQ(second->summary, first->summary);
  EXPECT_LT(took, 2500ms) << "the deadline bounds the call";
  EXPECT_EQ(df_calls, 2);
}
