// DOCKER_HOST and the API version: the endpoints the client accepts, and the version it
// speaks with an engine.

#include <gtest/gtest.h>

#include <stdexcept>

#include "composewatch/engine/endpoint.h"

using namespace composewatch::engine;

TEST(EngineEndpoint, ParsesUnixAndTcp) {
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

TEST(EngineApiVersion, NegotiatesTheLowerOfBoth) {
  EXPECT_EQ(negotiate("1.41").str(), "1.41");
  EXPECT_EQ(negotiate("1.47").str(), "1.47");
  // Docker 28.5, the newest engine tested (ctest label engine-28), is spoken at its own version.
  EXPECT_EQ(negotiate("1.51").str(), "1.51");
  EXPECT_EQ(negotiate("1.52").str(), kMaxApiVersion.str());
  EXPECT_THROW(negotiate("1.12"), std::runtime_error);
  EXPECT_THROW(parse_api_version("one.two"), std::invalid_argument);
}
