// The resource collector: cgroup figures at scrape time for running containers, none
// for stopped or vanished ones, the same names from the API figures the snapshot carries.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "composewatch/cgroup/reader.h"
#include "composewatch/metrics/collector.h"

using namespace composewatch;
namespace fs = std::filesystem;

namespace {

const std::string kId = "4f1c2d3e4b5a69788a9b0c1d2e3f40516273849a5b6c7d8e9f00112233445566";
const std::string kId2 = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2918273645546372819009a8b7c6d5";

std::shared_ptr<const cgroup::Reader> fixture_reader() {
  fs::path root = fs::path(COMPOSEWATCH_FIXTURES) / "cgroup/trees/v2-systemd";
  std::ifstream f(root / "mountinfo");
  std::stringstream ss;
  ss << f.rdbuf();
  return std::make_shared<const cgroup::Reader>(cgroup::detect_layout(
      ss.str(), {"systemd", "2", false}, (root / "sys/fs/cgroup").string(), (root / "proc").string()));
}

state::ContainerRecord record(std::string name, std::string id, std::string st, int pid) {
  state::ContainerRecord r;
  r.name = std::move(name);
  r.spec.compose.project = "shop";
  r.spec.compose.service = "api";
  r.id = std::move(id);
  r.state = std::move(st);
  r.pid = pid;
  r.spec.network_mode = "shop_default";
  return r;
}

std::string render(std::shared_ptr<const cgroup::Reader> reader, const state::Snapshot& s) {
  std::vector<std::unique_ptr<metrics::Collector>> cs;
  cs.push_back(metrics::make_resource_collector(std::move(reader)));
  return metrics::Exposition(std::move(cs)).render(s);
}

bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

}  // namespace

TEST(ResourceCollector, CgroupFiguresOfRunningContainers) {
  state::Snapshot s;
  s.containers.push_back(record("shop-api-1", kId, "running", 4242));
  s.containers.push_back(record("shop-api-2", kId2, "exited", 0));  // has a cgroup fixture, but not running
  auto gone = record("shop-api-3", "00000000000000000000000000000000000000000000000000000000000000ff", "running", 77);
  s.containers.push_back(gone);  // no cgroup: vanished between the snapshot and the scrape
  auto removed = record("shop-api-4", kId, "running", 4242);
  removed.present = false;
  s.containers.push_back(removed);
  std::string t = render(fixture_reader(), s);

  const std::string l = R"({project="shop",service="api",container="shop-api-1"})";
  EXPECT_TRUE(has(t, "composewatch_container_memory_usage_bytes" + l + " 71225344")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_memory_working_set_bytes" + l + " 68747264")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_memory_limit_bytes" + l + " 134217728")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_cpu_seconds_total" + l + " 2.500123")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_cpu_throttled_seconds_total" + l + " 1.843027")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_cpu_periods_total" + l + " 412")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_cpu_throttled_periods_total" + l + " 37")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_pids" + l + " 7")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_network_receive_bytes_total" + l + " 1050624")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_network_transmit_bytes_total" + l + " 528384")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_blkio_read_bytes_total" + l + " 24576")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_blkio_write_bytes_total" + l + " 68157440")) << t;
  EXPECT_EQ(t.find("shop-api-2"), std::string::npos) << t;
  EXPECT_EQ(t.find("shop-api-3"), std::string::npos) << t;
  EXPECT_EQ(t.find("shop-api-4"), std::string::npos) << t;
  EXPECT_TRUE(has(t, R"(composewatch_collector_success{collector="resources"} 1)")) << t;
}

TEST(ResourceCollector, UnlimitedMemoryHasNoLimitSeries) {
  state::Snapshot s;
  auto r = record("shop-api-2", kId2, "running", 0);
  s.containers.push_back(r);
  std::string t = render(fixture_reader(), s);
  EXPECT_TRUE(has(t, R"(composewatch_container_memory_usage_bytes{project="shop",service="api",container="shop-api-2"} 1048576)")) << t;
  EXPECT_EQ(t.find("composewatch_container_memory_limit_bytes"), std::string::npos) << t;
}

TEST(ResourceCollector, ApiFiguresFromTheSnapshot) {
  state::Snapshot s;
  auto r = record("shop-api-1", kId, "running", 4242);
  r.spec.memory_limit = 268435456;
  s.containers.push_back(r);
  s.containers.push_back(record("shop-api-2", kId2, "running", 4243));  // not polled yet
  auto stats = std::make_shared<state::ApiStats>();
  docker::ResourceStats st;
  st.memory_usage_bytes = 1000;
  st.memory_working_set_bytes = 900;
  st.cpu_seconds = 1.5;
  st.pids = 2;
  stats->by_id[kId] = st;
  s.api_stats = stats;
  std::string t = render(nullptr, s);
  const std::string l = R"({project="shop",service="api",container="shop-api-1"})";
  EXPECT_TRUE(has(t, "composewatch_container_memory_usage_bytes" + l + " 1000")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_memory_working_set_bytes" + l + " 900")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_memory_limit_bytes" + l + " 268435456")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_cpu_seconds_total" + l + " 1.5")) << t;
  EXPECT_TRUE(has(t, "composewatch_container_pids" + l + " 2")) << t;
  EXPECT_EQ(t.find("shop-api-2"), std::string::npos) << t;
}

// CFS periods exist only under a CPU limit: without one the kernel counts none, and a 0
// would read as "never throttled". A limited container that has not run a period yet shows 0.
TEST(ResourceCollector, CpuPeriodsOnlyForContainersWithACpuLimit) {
  state::Snapshot s;
  auto limited = record("limited", kId, "running", 4242);
  limited.spec.nano_cpus = 100'000'000;  // --cpus 0.1
  auto quota = record("quota", "q1", "running", 4243);
  quota.spec.cpu_quota = 50'000;  // --cpu-quota
  auto unlimited = record("unlimited", kId2, "running", 4244);
  s.containers = {limited, quota, unlimited};
  auto stats = std::make_shared<state::ApiStats>();
  docker::ResourceStats idle;
  idle.cpu_seconds = 0.5;
  idle.cpu_periods = 0;
  idle.cpu_throttled_periods = 0;
  stats->by_id[kId] = idle;
  docker::ResourceStats busy = idle;
  busy.cpu_periods = 90;
  busy.cpu_throttled_periods = 80;
  stats->by_id["q1"] = busy;
  stats->by_id[kId2] = idle;
  s.api_stats = stats;
  std::string t = render(nullptr, s);
  EXPECT_TRUE(has(t, R"(composewatch_container_cpu_periods_total{project="shop",service="api",container="limited"} 0)")) << t;
  EXPECT_TRUE(has(t, R"(composewatch_container_cpu_throttled_periods_total{project="shop",service="api",container="limited"} 0)")) << t;
  EXPECT_TRUE(has(t, R"(composewatch_container_cpu_periods_total{project="shop",service="api",container="quota"} 90)")) << t;
  EXPECT_TRUE(has(t, R"(composewatch_container_cpu_throttled_periods_total{project="shop",service="api",container="quota"} 80)")) << t;
  EXPECT_EQ(t.find(R"(periods_total{project="shop",service="api",container="unlimited"})"), std::string::npos) << t;
  EXPECT_TRUE(has(t, R"(composewatch_container_cpu_seconds_total{project="shop",service="api",container="unlimited"} 0.5)")) << t;
}

TEST(ResourceCollector, ApiModeWithoutAPollYetExportsNothing) {
  state::Snapshot s;
  s.containers.push_back(record("shop-api-1", kId, "running", 4242));
  std::string t = render(nullptr, s);
  EXPECT_EQ(t.find("composewatch_container_"), std::string::npos) << t;
}

// Many containers are read on two threads; every one must still get its own figures.
TEST(ResourceCollector, ManyContainersEachGetTheirOwnFigures) {
  const fs::path root = fs::temp_directory_path() / ("cw-many-" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path cg = root / "sys/fs/cgroup";
  state::Snapshot s;
  const int n = 150;
  for (int i = 0; i < n; ++i) {
    char id[65];
    std::snprintf(id, sizeof id, "%064x", i + 1);
    fs::create_directories(cg / "docker" / id);
    std::ofstream(cg / "docker" / id / "memory.current") << (1000 + i) << "\n";
    std::ofstream(cg / "docker" / id / "pids.current") << (i % 7 + 1) << "\n";
    auto r = record("c" + std::to_string(i), id, "running", 0);
    s.containers.push_back(r);
  }
  fs::create_directories(root / "proc");
  const std::string mountinfo =
      "29 24 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw\n";
  auto reader = std::make_shared<const cgroup::Reader>(
      cgroup::detect_layout(mountinfo, {"cgroupfs", "2", false}, cg.string(), (root / "proc").string()));
  const std::string text = render(reader, s);
  fs::remove_all(root);
  for (int i = 0; i < n; ++i) {
    const std::string labels = "{project=\"shop\",service=\"api\",container=\"c" + std::to_string(i) + "\"}";
    EXPECT_TRUE(has(text, "composewatch_container_memory_usage_bytes" + labels + " " + std::to_string(1000 + i)))
        << "container " << i;
    EXPECT_TRUE(has(text, "composewatch_container_pids" + labels + " " + std::to_string(i % 7 + 1))) << "container " << i;
  }
}
