// The inspect fields Compose drift compares: Config.Healthcheck, HostConfig.MemoryReservation,
// HostConfig.RestartPolicy and the one-off label.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "composewatch/docker/container.h"
#include "fixture_file.h"

using namespace composewatch::docker;

using composewatch::test_support::read_fixture;

TEST(DockerContainerSpec, ReadsARealEngineAnswer) {
  ContainerInfo c = parse_inspect(read_fixture("inspect/running_unhealthy.json"));
  ASSERT_TRUE(c.spec.healthcheck);
  EXPECT_EQ(c.spec.healthcheck->test, (std::vector<std::string>{"CMD-SHELL", "false"}));
  EXPECT_EQ(c.spec.healthcheck->interval_ns, 1'000'000'000);
  EXPECT_EQ(c.spec.healthcheck->timeout_ns, 0);  // not set: the engine's default applies
  EXPECT_EQ(c.spec.healthcheck->retries, 2);
  EXPECT_EQ(c.spec.restart_policy.name, "no");
  EXPECT_EQ(c.spec.memory_reservation, 0);
  EXPECT_FALSE(c.spec.compose.oneoff);
}

TEST(DockerContainerSpec, ReadsEveryHealthcheckDurationAndTheRestartPolicy) {
  std::string j = R"({"Id":"abc","Name":"/x","State":{"Status":"running"},
                      "Config":{"Image":"img","Labels":{"com.docker.compose.oneoff":"True"},
                                "Healthcheck":{"Test":["CMD","true"],"Interval":5000000000,"Timeout":2000000000,
                                               "StartPeriod":10000000000,"Retries":4}},
                      "HostConfig":{"Memory":0,"MemoryReservation":33554432,
                                    "RestartPolicy":{"Name":"on-failure","MaximumRetryCount":5}}})";
  ContainerInfo c = parse_inspect(j);
  ASSERT_TRUE(c.spec.healthcheck);
  EXPECT_EQ(c.spec.healthcheck->test, (std::vector<std::string>{"CMD", "true"}));
  EXPECT_EQ(c.spec.healthcheck->interval_ns, 5'000'000'000);
  EXPECT_EQ(c.spec.healthcheck->timeout_ns, 2'000'000'000);
  EXPECT_EQ(c.spec.healthcheck->start_period_ns, 10'000'000'000);
  EXPECT_EQ(c.spec.healthcheck->retries, 4);
  EXPECT_EQ(c.spec.memory_reservation, 32 * 1024 * 1024);
  EXPECT_EQ(c.spec.restart_policy, (RestartPolicy{"on-failure", 5}));
  EXPECT_TRUE(c.spec.compose.oneoff);
}

TEST(DockerContainerSpec, NoHealthcheckAndNoPolicyAreAbsent) {
  ContainerInfo c = parse_inspect(R"({"Id":"abc","Name":"/x","State":{"Status":"exited"},
                                      "Config":{"Image":"img","Labels":null},"HostConfig":{"Memory":0}})");
  EXPECT_FALSE(c.spec.healthcheck);
  EXPECT_EQ(c.spec.restart_policy.name, "");
  EXPECT_EQ(c.spec.memory_reservation, 0);
}
