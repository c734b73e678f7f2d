// The Engine API fallback parser: a real answer of Engine 20.10 (cgroup v1) and one in
// the shape v2 engines send.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "composewatch/docker/api_stats.h"

using namespace composewatch::docker;
using namespace composewatch::docker;

namespace {
std::string fixture(const std::string& name) {
  std::ifstream f(std::string(COMPOSEWATCH_FIXTURES) + "/cgroup/files/" + name);
  if (!f) throw std::runtime_error("missing fixture " + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST(DockerApiStats, RealV1Answer) {
  auto s = parse_api_stats(fixture("api_stats_v1.json"), "cwres-probe-net");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_usage_bytes, 458752u);
  EXPECT_EQ(s->memory_working_set_bytes, 458752u - 4096u);
  EXPECT_EQ(s->memory_limit_bytes, std::nullopt);  // the caller takes HostConfig.Memory
  ASSERT_TRUE(s->cpu_seconds);
  EXPECT_DOUBLE_EQ(*s->cpu_seconds, 0.023772894);
  EXPECT_EQ(s->cpu_throttled_seconds, 0.0);
  EXPECT_EQ(s->pids, 1u);
  EXPECT_EQ(s->blkio_read_bytes, 0u);
  EXPECT_EQ(s->blkio_write_bytes, 0u);
  EXPECT_EQ(s->network_receive_bytes, 1432u);
  EXPECT_EQ(s->network_transmit_bytes, 336u);
}

TEST(DockerApiStats, V2Answer) {
  auto s = parse_api_stats(fixture("api_stats_v2.json"), "bridge");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_usage_bytes, 71225344u);
  EXPECT_EQ(s->memory_working_set_bytes, 71225344u - 2478080u);
  EXPECT_DOUBLE_EQ(*s->cpu_seconds, 2.500123);
  EXPECT_DOUBLE_EQ(*s->cpu_throttled_seconds, 1.843027);
  EXPECT_EQ(s->cpu_periods, 412u);
  EXPECT_EQ(s->cpu_throttled_periods, 37u);
  EXPECT_EQ(s->pids, 7u);
  EXPECT_EQ(s->blkio_read_bytes, 24576u);
  EXPECT_EQ(s->blkio_write_bytes, 68157440u);
  EXPECT_EQ(s->network_receive_bytes, 1048576u + 2048u);
  EXPECT_EQ(s->network_transmit_bytes, 524288u + 4096u);
}

TEST(DockerApiStats, HostAndSharedNetworksHaveNoNetworkFigures) {
  for (const char* mode : {"host", "container:4f1c2d3e4b5a"}) {
    auto s = parse_api_stats(fixture("api_stats_v2.json"), mode);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->network_receive_bytes, std::nullopt) << mode;
    EXPECT_EQ(s->network_transmit_bytes, std::nullopt) << mode;
  }
}

TEST(DockerApiStats, StoppedContainerAndGarbage) {
  EXPECT_EQ(parse_api_stats(fixture("api_stats_stopped.json"), "none"), std::nullopt);
  EXPECT_EQ(parse_api_stats("{", "none"), std::nullopt);
  EXPECT_EQ(parse_api_stats("[]", "none"), std::nullopt);
}
