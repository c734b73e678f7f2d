#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "composewatch/docker/container.h"
#include "fixture_file.h"
#include "composewatch/engine/endpoint.h"

using namespace composewatch::engine;
using namespace composewatch::docker;

using composewatch::test_support::read_fixture;

TEST(Inspect, ParsesARealEngineAnswer) {
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

TEST(Inspect, ContainerWithoutHealthcheckHasNone) {
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

TEST(Inspect, RejectsMalformedAnswers) {
  EXPECT_THROW(parse_inspect("not json"), ParseError);
  EXPECT_THROW(parse_inspect("[]"), ParseError);
  EXPECT_THROW(parse_inspect(R"({"Name":"/x","State":{}})"), ParseError);  // no Id
  EXPECT_THROW(parse_inspect(R"({"Id":"a","Name":"/x"})"), ParseError);    // no State
}

TEST(ContainerList, ReturnsIds) {
  auto ids = parse_container_ids(R"([{"Id":"a","Names":["/x"]},{"Id":"b"}])");
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(parse_container_ids(R"({"Id":"a"})"), ParseError);
  EXPECT_THROW(parse_container_ids(R"([{"Names":["/x"]}])"), ParseError);
}

TEST(Rfc3339, ParsesFractionsAndOffsets) {
  EXPECT_DOUBLE_EQ(*parse_rfc3339("1970-01-01T00:00:10Z"), 10.0);
  EXPECT_NEAR(*parse_rfc3339("1970-01-01T00:00:10.5Z"), 10.5, 1e-9);
  EXPECT_DOUBLE_EQ(*parse_rfc3339("1970-01-01T01:00:10+01:00"), 10.0);
  EXPECT_FALSE(parse_rfc3339("0001-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
}

TEST(Endpoint, ParsesUnixAndTcp) {
  auto u = parse_endpoint("unix:///var/run/docker.sock");
  EXPECT_EQ(u.kind, Endpoint::Kind::unix_socket);
  EXPECT_EQ(u.path, "/var/run/docker.sock");
  auto t = parse_endpoint("tcp://10.0.0.5:2376");
  EXPECT_EQ(t.kind, Endpoint::Kind::tcp);
  EXPECT_EQ(t.host, "10.0.0.5");
  EXPECT_EQ(t.port, "2376");
  auto v6 = parse_endpoint("tcp://[::1]:2375");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(parse_endpoint("tcp://docker-host").port, "2375");
  EXPECT_THROW(parse_endpoint("ssh://me@host"), std::invalid_argument);
  EXPECT_THROW(parse_endpoint("unix://relative.sock"), std::invalid_argument);
  EXPECT_THROW(parse_endpoint("tcp://host:99999"), std::invalid_argument);
}

TEST(ApiVersion, NegotiatesTheLowerOfBoth) {
  EXPECT_EQ(negotiate("1.41").str(), "1.41");
  EXPECT_EQ(negotiate("1.51").str(), kMaxApiVersion.str());
  EXPECT_THROW(negotiate("1.12"), std::runtime_error);
  EXPECT_THROW(parse_api_version("one.two"), std::invalid_argument);
}
