// The harness's own parsers: the metrics text parser and the HTTP/gzip helpers. They
// decide what every other test sees, so they are pinned here on literal input.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <csignal>
#include <thread>

#include "harness.h"

namespace itest {
namespace {

constexpr const char* kExposition = R"(# HELP composewatch_engine_up 1 when the last engine call succeeded.
# TYPE composewatch_engine_up gauge
composewatch_engine_up 1
# TYPE composewatch_container_oom_kills_total counter
composewatch_container_oom_kills_total{project="shop",service="api",container="shop_api_1"} 2
composewatch_container_oom_kills_total{project="",service="",container="lonely"} 0
composewatch_container_state{project="shop",service="api",container="shop_api_1",state="running"} 1
composewatch_container_state{project="shop",service="api",container="shop_api_1",state="exited"} 0
weird{a="x\"y\\z\nw",b="c,d}",} 1.5e3 1700000000000
inf_metric +Inf
nan_metric NaN
)";

TEST(HarnessMetricsParser, ParsesSamplesLabelsAndSpecialValues) {
  Metrics m = Metrics::parse(kExposition);
  EXPECT_EQ(m.samples().size(), 8u);
  EXPECT_EQ(m.value("composewatch_engine_up"), 1.0);
  EXPECT_EQ(m.value("composewatch_container_oom_kills_total", {{"container", "shop_api_1"}}), 2.0);
  EXPECT_EQ(m.value("composewatch_container_oom_kills_total", {{"container", "lonely"}, {"project", ""}}), 0.0);
  EXPECT_EQ(m.value("weird", {{"a", "x\"y\\z\nw"}, {"b", "c,d}"}}), 1500.0);
  EXPECT_TRUE(std::isinf(*m.value("inf_metric")));
  EXPECT_TRUE(std::isnan(*m.value("nan_metric")));
}

TEST(HarnessMetricsParser, LabelsMatchAsASubsetAndAmbiguityThrows) {
  Metrics m = Metrics::parse(kExposition);
  EXPECT_EQ(m.value("composewatch_container_state", {{"container", "shop_api_1"}, {"state", "exited"}}), 0.0);
  EXPECT_EQ(m.find("composewatch_container_state", {{"container", "shop_api_1"}}).size(), 2u);
  EXPECT_THROW(m.value("composewatch_container_state", {{"container", "shop_api_1"}}), std::runtime_error);
  EXPECT_EQ(m.value("composewatch_container_state", {{"container", "nope"}}), std::nullopt);
  EXPECT_EQ(m.value("composewatch_container_oom_kills_total", {{"container", "shop_api_1"}, {"project", "x"}}),
            std::nullopt);
  EXPECT_EQ(m.value("no_such_metric"), std::nullopt);
  EXPECT_EQ(m.lines("composewatch_container_oom", {{"project", "shop"}}),
            "composewatch_container_oom_kills_total{container=\"shop_api_1\",project=\"shop\",service=\"api\"} 2\n");
}

TEST(HarnessMetricsParser, RejectsMalformedLines) {
  for (const char* bad : {"novalue", "m{a=\"1\"", "m{a=1} 2", "m{a=\"1\"} abc", "m 1 2 3", "m{a=\"\\q\"} 1",
                          "m{a=\"1\",a=\"2\"} 1", "{a=\"1\"} 1"}) {
    EXPECT_THROW(Metrics::parse(bad), std::runtime_error) << bad;
  }
}

TEST(HarnessShell, CapturesStdoutStderrAndExitCode) {
  ShResult r = sh("echo out; echo err >&2; exit 3");
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(sh("sleep 5", 300ms).code, 124);
  EXPECT_EQ(sh("kill -TERM $$").code, 128 + SIGTERM);
  EXPECT_EQ(must("printf %s " + quote("it's")), "it's");
  EXPECT_THROW(must("false"), std::runtime_error);
}

TEST(HarnessHttp, GunzipRoundTrip) {
  std::string text(10000, 'x');
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string gz(compressBound(text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(text.data());
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = static_cast<uInt>(gz.size());
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  gz.resize(zs.total_out);
  deflateEnd(&zs);
  EXPECT_EQ(gunzip(gz), text);
  EXPECT_THROW(gunzip(gz.substr(0, gz.size() / 2)), std::runtime_error);
  EXPECT_THROW(gunzip("plain text"), std::runtime_error);
}

TEST(HarnessHttp, ReadsChunkedAndContentLengthBodies) {
  // A one-shot server on a thread of this process answers with a literal response.
  for (bool chunked : {false, true}) {
    int port = 0;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ASSERT_EQ(listen(lfd, 1), 0);
    std::string reply = chunked ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Test: a b \r\n\r\n"
                                  "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"
                                : "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 12\r\nX-Test: a b\r\n\r\n"
                                  "hello, world";
    std::thread server([&] {
      int c = accept(lfd, nullptr, nullptr);
      char buf[4096];
      std::string req;
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
      }
      ssize_t ignored = write(c, reply.data(), reply.size());
      (void)ignored;
      close(c);
    });
    HttpResponse r = http_get("127.0.0.1", port, "/metrics", {{"Accept-Encoding", "gzip"}});
    server.join();
    close(lfd);
    EXPECT_EQ(r.status, chunked ? 200 : 503);
    EXPECT_EQ(r.body, "hello, world");
    EXPECT_EQ(r.header("x-test"), "a b");
  }
}

}  // namespace
}  // namespace itest
