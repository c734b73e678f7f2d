#include "../../../agent/http/listen_address.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace composewatch::http {
namespace {

TEST(HttpListenAddress, HostAndPort) {
  auto a = parse_listen_address("127.0.0.1:9469");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9469);
  auto b = parse_listen_address("localhost:0");
  EXPECT_EQ(b.host, "localhost");
  EXPECT_EQ(b.port, 0);
}

TEST(HttpListenAddress, AllInterfaces) {
  auto a = parse_listen_address(":9469");
  EXPECT_EQ(a.host, "");
  EXPECT_EQ(a.port, 9469);
}

TEST(HttpListenAddress, BracketedIPv6) {
  auto a = parse_listen_address("[::1]:65535");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 65535);
  EXPECT_EQ(parse_listen_address("[fe80::1%eth0]:80").host, "fe80::1%eth0");
}

TEST(HttpListenAddress, Rejects) {
  for (const char* bad :
       {"", "9469", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http",
        "127.0.0.1:94 69", "::1:9469", "[::1]", "[::1]9469", "[]:9469", "[::1:9469"}) {
    EXPECT_THROW(parse_listen_address(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace composewatch::http
