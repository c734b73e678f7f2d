// The Disk metric group and the volume findings against the real engine, and the disk
// collector against a fake engine whose /system/df stalls (the fake is used only for
// that: the real engine answers df in milliseconds here).

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "fake_engine.h"
#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;
using composewatch::test_support::Exchange;
using composewatch::test_support::FakeEngine;

TEST(DiskUsageAndVolumes, VolumesAnOrphanVolumeAndTheFilesystemFromTheRealEngine) {
  Cleanup cleanup;
  const std::string project = unique_name("vol");
  const fs::path dir = make_temp_dir(cleanup, "vol");
  const fs::path file = dir / "docker-compose.yml";
  std::ofstream(file) << "services:\n  app:\n    image: " << kImage
                      << "\n    command: sleep 3600\n    volumes: [data:/data]\nvolumes:\n  data: {}\n";
  // Left from when the file declared `legacy`: Compose does not delete it.
  const std::string legacy = project + "_legacy";
  cleanup.add([legacy] { sh("docker volume rm -f " + legacy); });
  must("docker volume create --label com.docker.compose.project=" + project +
       " --label com.docker.compose.volume=legacy " + legacy);
  must("docker run --rm --network none -v " + legacy + ":/v " + kImage + " sh -c 'head -c 4096 /dev/zero > /v/f'");

  const ShResult check = sh(quote(agent_binary().string()) + " check -f " + quote(file.string()) + " -p " + project);
  EXPECT_EQ(check.code, 1) << check.out << check.err;
  EXPECT_NE(check.out.find("volume " + legacy + ": orphan-volume: volume 'legacy' of project " + project +
                           " is not declared in " + file.string()),
            std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("why: the volume was created for a compose project whose files no longer declare it"),
            std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("fix: "), std::string::npos);
  const ShResult json = sh(quote(agent_binary().string()) + " check --format json -f " + quote(file.string()) +
                           " -p " + project);
  EXPECT_NE(json.out.find(R"({"volume":")" + legacy + R"(","check":"orphan-volume")"), std::string::npos) << json.out;

  const fs::path cfg = dir / "config.yml";
  std::ofstream(cfg) << "disk: {interval: 1s, timeout: 30s}\ncompose:\n  projects:\n    - {name: " << project
                     << ", files: [" << file.string() << "]}\n";
  AgentProcess agent({.args = {"--config.file=" + cfg.string()}});
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_volume_finding",
                                   {{"project", project}, {"volume", legacy}, {"check", "orphan-volume"}}, 1));
  const Metrics m = agent.scrape();
  EXPECT_GE(m.value("composewatch_volume_size_bytes", {{"volume", legacy}, {"project", project}}).value_or(-1), 4096);
  EXPECT_EQ(m.value("composewatch_volume_in_use", {{"volume", legacy}, {"project", project}}), 0);
  EXPECT_GE(m.value("composewatch_disk_objects", {{"kind", "volumes"}}).value_or(0), 1);
  EXPECT_GE(m.value("composewatch_disk_usage_bytes", {{"kind", "images"}}).value_or(0), 1);
  const auto root = must("docker info -f '{{.DockerRootDir}}'");
  EXPECT_GT(m.value("composewatch_filesystem_size_bytes", {{"path", root}}).value_or(0), 0);
  EXPECT_GT(m.value("composewatch_filesystem_avail_bytes", {{"path", root}}).value_or(0), 0);
  EXPECT_EQ(m.value("composewatch_collector_success", {{"collector", "disk"}}), 1);
}

TEST(DiskUsageWhenSystemDfStalls, ASlowSystemDfKeepsTheLastFiguresAndMetricsKeepAnswering) {
  Cleanup cleanup;
  const fs::path dir = make_temp_dir(cleanup, "slowdf");
  const std::string df = read_text(fixtures_dir().parent_path() / "engine/system_df.json");
  std::atomic<int> df_calls{0};
  std::atomic<bool> stop{false};
  FakeEngine fake;
  fake.on("/v1.41/version", 200, R"({"Version":"20.10.24","ApiVersion":"1.41"})")
      .on("/v1.41/info", 200, R"({"DockerRootDir":"/","CgroupDriver":"cgroupfs","CgroupVersion":"1"})")
      .on("/v1.41/containers/json?all=1", 200, "[]")
      .on("/v1.41/events*",
          [](Exchange& x) {
            x.begin_stream();
            x.stall();  // a quiet stream
          })
      .on("/v1.41/system/df", [&](Exchange& x) {
        if (++df_calls > 1)  // the first answers at once; the others take longer than disk.timeout
          for (int i = 0; i < 100 && !stop; ++i) std::this_thread::sleep_for(50ms);
        x.json(200, df);
      });
  // Before the fake is destroyed (it waits for its handlers), whatever happens: the stalled
  // df ends.
  struct StopOnExit {
    std::atomic<bool>& stop;
    ~StopOnExit() { stop = true; }
  } stop_on_exit{stop};
  const fs::path cfg = dir / "config.yml";
  std::ofstream(cfg) << "disk: {interval: 1s, timeout: 1s}\n";
  AgentProcess agent({.args = {"--docker.host=" + fake.docker_host(), "--config.file=" + cfg.string()}});
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_collector_success", {{"collector", "disk"}}, 1, 20s))
      << agent.log_tail();
  const double images = agent.scrape().value("composewatch_disk_usage_bytes", {{"kind", "images"}}).value_or(-1);
  EXPECT_GT(images, 0);
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_collector_success", {{"collector", "disk"}}, 0, 20s))
      << agent.log_tail();
  // While df keeps stalling, every scrape answers at once with the last figures.
  for (int i = 0; i < 20; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const Metrics m = agent.scrape();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    EXPECT_EQ(m.value("composewatch_disk_usage_bytes", {{"kind", "images"}}), images);
    EXPECT_EQ(m.value("composewatch_engine_up"), 1) << "a slow df is not a dead engine";
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(df_calls.load(), 2);
  EXPECT_NE(agent.log().find("disk usage not collected; keeping the last figures"), std::string::npos);
  stop = true;
  agent.stop();
}

}  // namespace
}  // namespace itest
