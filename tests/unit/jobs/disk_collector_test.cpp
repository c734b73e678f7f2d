// The disk series at scrape time from the last DiskReport, and the disk collector job
// against a fake engine: the fake is used only to make GET /system/df slower than its
// deadline on demand, which the real engine does not do.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "composewatch/disk/collector.h"
#include "composewatch/disk/report.h"
#include "composewatch/metrics/collector.h"
#include "fake_engine.h"
#include "fixture_file.h"

using namespace composewatch;
using namespace std::chrono_literals;
using test_support::FakeEngine;

namespace {

std::shared_ptr<disk::DiskReport> report_from_fixture() {
  auto r = std::make_shared<disk::DiskReport>();
  r->docker_root_dir = "/var/lib/docker";
  r->df = std::make_shared<const docker::SystemDf>(
      docker::parse_system_df(test_support::read_fixture("engine/system_df.json")));
  r->summary = docker::summarize(*r->df);
  r->last_ok = true;
  return r;
}

const prometheus::MetricFamily* family(const metrics::Families& fs, const std::string& name) {
  for (const auto& f : fs)
    if (f.name == name) return &f;
  return nullptr;
}

double value(const metrics::Families& fs, const std::string& name, const std::string& label, const std::string& v) {
  const auto* f = family(fs, name);
  if (!f) throw std::runtime_error("no family " + name);
  for (const auto& m : f->metric)
    for (const auto& l : m.label)
      if (l.name == label && l.value == v) return m.gauge.value;
  throw std::runtime_error("no series " + name + "{" + label + "=" + v + "}");
}

metrics::Exposition exposition() {
  std::vector<std::unique_ptr<metrics::Collector>> cs;
  cs.push_back(metrics::make_disk_collector([](const std::string& path) -> std::optional<disk::FilesystemUsage> {
    if (path != "/var/lib/docker") return std::nullopt;
    return disk::FilesystemUsage{.size_bytes = 1000, .avail_bytes = 150};
  }));
  return metrics::Exposition(std::move(cs));
}

}  // namespace

TEST(DiskMetrics, KindsFilesystemAndVolumesFromTheLastReport) {
  state::Snapshot s;
  s.disk = report_from_fixture();
  const auto fs = exposition().gather(s);
  const auto& sum = s.disk->summary;
  EXPECT_EQ(value(fs, "composewatch_disk_usage_bytes", "kind", "images"), double(sum.images.total_bytes));
  EXPECT_EQ(value(fs, "composewatch_disk_reclaimable_bytes", "kind", "build_cache"),
            double(sum.build_cache.reclaimable_bytes));
  EXPECT_EQ(value(fs, "composewatch_disk_objects", "kind", "volumes"), double(sum.volumes.objects));
  EXPECT_EQ(value(fs, "composewatch_filesystem_avail_bytes", "path", "/var/lib/docker"), 150);
  EXPECT_EQ(value(fs, "composewatch_filesystem_size_bytes", "path", "/var/lib/docker"), 1000);
  ASSERT_FALSE(s.disk->df->volumes.empty());
  const auto& v = s.disk->df->volumes.front();
  EXPECT_EQ(value(fs, "composewatch_volume_size_bytes", "volume", v.name), double(v.size));
  EXPECT_EQ(value(fs, "composewatch_collector_success", "collector", "disk"), 1);
}

TEST(DiskMetrics, AFailedCollectionKeepsTheLastFiguresAndSaysSo) {
  state::Snapshot s;
  auto r = report_from_fixture();
  r->last_ok = false;
  r->last_error = "GET /v1.41/system/df: no answer within 1s";
  s.disk = r;
  const auto fs = exposition().gather(s);
  EXPECT_EQ(value(fs, "composewatch_collector_success", "collector", "disk"), 0);
  EXPECT_EQ(value(fs, "composewatch_disk_usage_bytes", "kind", "images"), double(r->summary.images.total_bytes));
}

TEST(DiskMetrics, NothingBeforeTheFirstReportAndAnUnreadableRootDirIsLeftOut) {
  state::Snapshot s;
  auto fs = exposition().gather(s);
  EXPECT_EQ(family(fs, "composewatch_disk_usage_bytes"), nullptr);
  EXPECT_EQ(value(fs, "composewatch_collector_success", "collector", "disk"), 0);
  auto r = report_from_fixture();
  r->docker_root_dir = "/not/mounted";
  s.disk = r;
  fs = exposition().gather(s);
  EXPECT_EQ(family(fs, "composewatch_filesystem_avail_bytes"), nullptr);
  EXPECT_NE(family(fs, "composewatch_disk_usage_bytes"), nullptr);
}

// The fake answers /system/df at once the first time, then stalls past the deadline.
TEST(DiskCollectorJob, ASlowDfKeepsTheLastFiguresAndMarksTheReportFailed) {
  const std::string df = test_support::read_fixture("engine/system_df.json");
  std::atomic<int> df_calls{0};
  std::atomic<bool> release{false};
  FakeEngine fake([&](int fd, const std::string& target) {
    if (target == "/_ping") return FakeEngine::write_all(fd, test_support::ping("1.41"));
    if (target == "/v1.41/info")
      return FakeEngine::write_all(fd, FakeEngine::json_response(200, R"({"DockerRootDir":"/var/lib/docker"})"));
    if (target == "/v1.41/system/df") {
      if (++df_calls > 1)
        for (int i = 0; i < 300 && !release; ++i) std::this_thread::sleep_for(10ms);
      return FakeEngine::write_all(fd, FakeEngine::json_response(200, df));
    }
    FakeEngine::write_all(fd, FakeEngine::json_response(404, "{}"));
  });
  boost::asio::io_context ioc;
  state::StateModel model;
  disk::DiskCollector job(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()), model,
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
