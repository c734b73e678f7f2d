// The compose collector renders drift from a snapshot's containers and compose state.

#include <gtest/gtest.h>

#include "composewatch/compose/discovery.h"
#include "composewatch/images/report.h"
#include "composewatch/metrics/collector.h"

using namespace composewatch;

namespace {

state::ContainerRecord record(const std::string& name, const std::string& service, std::int64_t mem) {
  state::ContainerRecord r;
  r.name = name;
  r.spec.compose.project = "shop";
  r.spec.compose.service = service;
  r.state = "running";
  r.spec.image = "composewatch-test/busybox:1";
  r.spec.memory_limit = mem;
  r.spec.restart_policy = {"no", 0};
  return r;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST(ComposeCollector, RendersTheContractsSeries) {
  auto project = std::make_shared<compose::Project>();
  project->name = "shop";
  compose::Service api;
  api.name = "api";
  api.image = "composewatch-test/busybox:1";
  api.memory_limit_bytes = 128 * 1024 * 1024;
  api.replicas = 2;
  api.environment["DB_PASSWORD"] = {true, true, "s3cr3t-value"};
  api.environment["API_TOKEN"] = {true, true, "another"};
  project->services["api"] = api;

  compose::ProjectState ps;
  ps.name = "shop";
  ps.source.name = "shop";
  ps.source.configured = true;
  ps.model = project;
  ps.valid = true;
  ps.findings = compose::lint_project(*project);
  compose::ProjectState broken;
  broken.name = "blog";
  broken.error = "/srv/blog/compose.yml:3: bad";
  auto cs = std::make_shared<compose::ComposeState>();
  cs->projects = {broken, ps};

  state::Snapshot snap;
  snap.containers = {record("shop_api_1", "api", 128 * 1024 * 1024), record("shop_api_2", "api", 0),
                     record("shop_old_1", "old", 0)};
  snap.compose = cs;

  metrics::Exposition e(metrics::default_collectors());
  const std::string text = "\n" + e.render(snap);
  EXPECT_TRUE(has_line(text, R"(composewatch_compose_project_valid{project="shop"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_compose_project_valid{project="blog"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_replicas_desired{project="shop",service="api"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_replicas_running{project="shop",service="api"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_memory_limit_bytes{project="shop",service="api"} 134217728)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_drift{project="shop",service="api",field="memory_limit"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_drift{project="shop",service="api",field="image"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_drift{project="shop",service="api",field="replicas"} 0)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(composewatch_container_orphan{project="shop",service="old",container="shop_old_1"} 1)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(composewatch_compose_lint_finding{project="shop",service="api",check="literal-secret"} 1)"))
      << text;
  // Two secrets in one service are one series (duplicate series would break the scrape).
  std::size_t n = 0;
  for (auto pos = text.find("check=\"literal-secret\""); pos != std::string::npos;
       pos = text.find("check=\"literal-secret\"", pos + 1))
    ++n;
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos);
  EXPECT_TRUE(has_line(text, R"(composewatch_collector_success{collector="compose"} 1)")) << text;
}

TEST(ComposeCollector, NoComposeStateNoSeries) {
  state::Snapshot snap;
  metrics::Exposition e(metrics::default_collectors());
  const std::string text = e.render(snap);
  EXPECT_EQ(text.find("composewatch_service_drift{"), std::string::npos);
  EXPECT_EQ(text.find("composewatch_compose_project_valid{"), std::string::npos);
}

TEST(ComposeCollector, CompletedGivenUpAndImageStaleFromTheImageReport) {
  auto project = std::make_shared<compose::Project>();
  project->name = "shop";
  compose::Service api, migrate, seed;
  api.name = "api";
  api.image = "composewatch-test/busybox:1";
  migrate.name = "migrate";
  migrate.image = "composewatch-test/busybox:1";
  migrate.restart = "no";
  seed.name = "seed";
  seed.image = "composewatch-test/busybox:1";
  seed.restart = "on-failure:2";
  project->services = {{"api", api}, {"migrate", migrate}, {"seed", seed}};
  compose::ProjectState ps;
  ps.name = "shop";
  ps.source.name = "shop";
  ps.source.configured = true;
  ps.model = project;
  ps.valid = true;
  auto cs = std::make_shared<compose::ComposeState>();
  cs->projects = {ps};

  state::Snapshot snap;
  auto a = record("shop_api_1", "api", 0);
  a.image_id = "sha256:old";
  auto m = record("shop_migrate_1", "migrate", 0);
  m.state = "exited";
  auto sd = record("shop_seed_1", "seed", 0);
  sd.state = "exited";
  sd.exit_code = 1;
  sd.restart_count = 2;
  sd.spec.restart_policy = {"on-failure", 2};
  snap.containers = {a, m, sd};
  snap.compose = cs;
  auto report = std::make_shared<images::ImageReport>();
  report->current_images = {{"composewatch-test/busybox:1", "sha256:new"}};
  snap.images = report;

  metrics::Exposition e(metrics::default_collectors());
  const std::string text = "\n" + e.render(snap);
  EXPECT_TRUE(has_line(text, R"(composewatch_service_completed{project="shop",service="migrate"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_drift{project="shop",service="migrate",field="replicas"} 0)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_gave_up{project="shop",service="seed"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_completed{project="shop",service="seed"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_drift{project="shop",service="seed",field="replicas"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_drift{project="shop",service="api",field="image_stale"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(composewatch_service_gave_up{project="shop",service="api"} 0)")) << text;
}
