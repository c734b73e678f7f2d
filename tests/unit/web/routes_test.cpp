// The agent's routes (web/routes.h) on a state model of their own: what /healthz, /readyz,
// the telemetry path and an unknown path answer, without a socket.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "composewatch/config/config.h"
#include "composewatch/state/model.h"
#include "composewatch/web/routes.h"

namespace cw = composewatch;

namespace {

cw::http::Request get(const std::string& path) {
  cw::http::Request r;
  r.method = "GET";
  r.path = path;
  return r;
}

struct WebRoutes : ::testing::Test {
  cw::config::AgentConfig cfg;
  cw::state::StateModel model;
  std::vector<std::string> problems;

  cw::web::Routes routes() {
    return cw::web::Routes(cfg, model, [this] { return problems; }, nullptr, nullptr);
  }
};

}  // namespace

TEST_F(WebRoutes, HealthzIsOkWithoutProblemsAnd503WithEachProblemOnItsOwnLine) {
  model.publish();
  auto r = routes();
  auto ok = r(get("/healthz"));
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(ok.body, "ok\n");
  problems = {"event loop stalled for 20s", "job crash-looping: disk: failed 3 times in 300s, last: boom"};
  auto bad = r(get("/healthz"));
  EXPECT_EQ(bad.status, 503u);
  EXPECT_EQ(bad.body, "event loop stalled for 20s\njob crash-looping: disk: failed 3 times in 300s, last: boom\n");
}

TEST_F(WebRoutes, ReadyzWaitsForTheEngine) {
  model.publish();
  auto r = routes();
  auto before = r(get("/readyz"));
  EXPECT_EQ(before.status, 503u);
  EXPECT_EQ(before.body, "not ready: waiting for the Docker engine\n");
  model.set_ready(true);
  model.publish();
  auto after = r(get("/readyz"));
  EXPECT_EQ(after.status, 200u);
  EXPECT_EQ(after.body, "ready\n");
}

TEST_F(WebRoutes, MetricsAreServedAtTheConfiguredPathOnlyAndNotCached) {
  cfg.telemetry_path = "/custom-metrics";
  model.publish();
  auto r = routes();
  auto m = r(get("/custom-metrics"));
  EXPECT_EQ(m.status, 200u);
  EXPECT_NE(m.content_type.find("text/plain"), std::string::npos) << m.content_type;
  EXPECT_NE(m.body.find("composewatch_build_info"), std::string::npos);
  bool no_store = false;
  for (const auto& [k, v] : m.headers) no_store |= (k == "Cache-Control" && v == "no-store");
  EXPECT_TRUE(no_store);
  EXPECT_EQ(r(get("/metrics")).status, 404u);
  EXPECT_EQ(r(get("/nothing-here")).body, "not found\n");
}

TEST_F(WebRoutes, TheStatusPageIsHtmlThatMayNotBeFramed) {
  model.publish();
  auto r = routes();
  auto page = r(get("/"));
  EXPECT_EQ(page.status, 200u);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  bool deny = false;
  for (const auto& [k, v] : page.headers) deny |= (k == "X-Frame-Options" && v == "DENY");
  EXPECT_TRUE(deny);
  EXPECT_NE(page.body.find("<!DOCTYPE html>"), std::string::npos);
}
