// The container parsers of the Engine API: inspect, the listing, RFC 3339 times.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "composewatch/docker/container.h"
#include "fixture_file.h"

using namespace composewatch::docker;

using composewatch::test_support::read_fixture;

TEST(DockerInspect, ParsesARealEngineAnswer) {
  ContainerInfo c = parse_inspect(read_fixture("inspect/running_unhealthy.json"));
  EXPECT_EQ(c.name, "cw-fixture-inspect");
  EXPECT_EQ(c.id.size(), 64u);
  EXPECT_EQ(c.spec.image, "composewatch-test/busybox:1");
  EXPECT_EQ(c.state, "running");
  EXPECT_EQ(c.health, "unhealthy");
  EXPECT_EQ(c.failing_streak, 3);
  EXPECT_EQ(c.spec.memory_limit, 64 * 1024 * 1024);
  EXPECT_EQ(c.spec.network_mode, "none");
  EXPECT_EQ(c.project(), "shop");
  EXPECT_EQ(c.service(), "api");
  EXPECT_GT(c.pid, 0);
  ASSERT_TRUE(c.started_at);
  EXPECT_NEAR(*c.started_at, 1795703602.563978, 1e-3);
  EXPECT_FALSE(c.finished_at);  // Go's zero time
}

TEST(DockerInspect, ContainerWithoutHealthcheckHasNone) {
  std::string j = R"({"Id":"abc","Name":"/x","State":{"Status":"exited","ExitCode":3,"OOMKilled":true},
                      "Config":{"Image":"img","Labels":null,"Tty":true},"HostConfig":{"Memory":0}})";
  ContainerInfo c = parse_inspect(j);
  EXPECT_EQ(c.health, "none");
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_TRUE(c.oom_killed);
  EXPECT_EQ(c.spec.memory_limit, 0);
  EXPECT_TRUE(c.spec.labels.empty());
  EXPECT_TRUE(c.tty);
}

TEST(DockerInspect, RejectsMalformedAnswers) {
  EXPECT_THROW(parse_inspect("not json"), ParseError);
  EXPECT_THROW(parse_inspect("[]"), ParseError);
  EXPECT_THROW(parse_inspect(R"({"Name":"/x","State":{}})"), ParseError);  // no Id
  EXPECT_THROW(parse_inspect(R"({"Id":"a","Name":"/x"})"), ParseError);    // no State
}

TEST(DockerContainerList, ReturnsIds) {
  auto ids = parse_container_ids(R"([{"Id":"a","Names":["/x"]},{"Id":"b"}])");
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(parse_container_ids(R"({"Id":"a"})"), ParseError);
  EXPECT_THROW(parse_container_ids(R"([{"Names":["/x"]}])"), ParseError);
}

TEST(DockerRfc3339, ParsesFractionsAndOffsets) {
  EXPECT_DOUBLE_EQ(*parse_rfc3339("1970-01-01T00:00:10Z"), 10.0);
  EXPECT_NEAR(*parse_rfc3339("1970-01-01T00:00:10.5Z"), 10.5, 1e-9);
  EXPECT_DOUBLE_EQ(*parse_rfc3339("1970-01-01T01:00:10+01:00"), 10.0);
  EXPECT_FALSE(parse_rfc3339("0001-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
}

TEST(DockerShortId, TwelveHexAsTheCliShowsThemAlsoForImageIds) {
  EXPECT_EQ(short_id("0123456789abcdef0123"), "0123456789ab");
  EXPECT_EQ(short_id("sha256:0123456789abcdef0123"), "0123456789ab");
  EXPECT_EQ(short_id("abc"), "abc");
}
