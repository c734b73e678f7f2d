// The compose checklist on constructed models: every check finds what it should and
// stays quiet on the fixed form.

#include <gtest/gtest.h>

#include <algorithm>

#include "composewatch/compose/lint.h"

using namespace composewatch::compose;

namespace {

// A service that passes every check.
Service good(const std::string& name, const std::string& image = "composewatch-test/busybox:1") {
  Service s;
  s.name = name;
  s.image = image;
  s.location = {"/srv/shop/docker-compose.yml", 4};
  s.memory_limit_bytes = 64 * 1024 * 1024;
  s.restart = "unless-stopped";
  return s;
}

Project project_of(std::vector<Service> services) {
  Project p;
  p.name = "shop";
  p.files = {"/srv/shop/docker-compose.yml"};
  for (auto& s : services) p.services[s.name] = std::move(s);
  return p;
}

std::vector<LintFinding> only(const std::vector<LintFinding>& all, std::string_view check) {
  std::vector<LintFinding> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out), [&](const auto& f) { return f.check == check; });
  return out;
}

Healthcheck hc() {
  Healthcheck h;
  h.test = {"CMD", "true"};
  return h;
}

}  // namespace

TEST(ComposeLintChecks, EveryCheckHasWhyAndFix) {
  ASSERT_EQ(lint_checks().size(), 14u);
  for (const auto& c : lint_checks()) {
    EXPECT_FALSE(c.why.empty()) << c.id;
    EXPECT_FALSE(c.fix.empty()) << c.id;
    EXPECT_EQ(&lint_checks().at(c.id), &c);
  }
  EXPECT_THROW(lint_checks().at("nope"), std::out_of_range);
}

TEST(ComposeLintChecks, CleanProjectHasNoFindings) {
  EXPECT_TRUE(lint_project(project_of({good("api"), good("worker")}), {.production = true}).empty());
}

TEST(ComposeLintChecks, ObsoleteVersion) {
  Project p = project_of({good("api")});
  p.has_version_key = true;
  p.version_location = {"/srv/shop/docker-compose.yml", 1};
  auto f = only(lint_project(p), check_id::obsolete_version);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].service, "");
  EXPECT_EQ(f[0].location.str(), "/srv/shop/docker-compose.yml:1");
}

TEST(ComposeLintChecks, StatefulImageWithoutHealthcheck) {
  EXPECT_TRUE(is_stateful_image("postgres:16"));
  EXPECT_TRUE(is_stateful_image("docker.io/library/mysql"));
  EXPECT_TRUE(is_stateful_image("bitnami/postgresql:15@sha256:abc"));
  EXPECT_TRUE(is_stateful_image("REDIS:7-alpine"));
  EXPECT_TRUE(is_stateful_image("mariadb"));
  EXPECT_TRUE(is_stateful_image("mongo:7"));
  EXPECT_TRUE(is_stateful_image("rabbitmq:3-management"));
  EXPECT_TRUE(is_stateful_image("docker.elastic.co/elasticsearch/elasticsearch:8.1.0"));
  EXPECT_FALSE(is_stateful_image("nginx:1.25"));
  EXPECT_FALSE(is_stateful_image("postgres-exporter/app"));  // the org, not the repository
  EXPECT_FALSE(is_stateful_image(""));

  Service db = good("db", "postgres:16");
  auto f = only(lint_project(project_of({db})), check_id::stateful_without_healthcheck);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].service, "db");
  EXPECT_EQ(f[0].location.str(), "/srv/shop/docker-compose.yml:4");

  db.healthcheck = hc();
  EXPECT_TRUE(only(lint_project(project_of({db})), check_id::stateful_without_healthcheck).empty());
  db.healthcheck->disabled = true;  // disabled counts as none
  EXPECT_EQ(only(lint_project(project_of({db})), check_id::stateful_without_healthcheck).size(), 1u);
}

TEST(ComposeLintChecks, NamedDataVolumeWithoutHealthcheck) {
  Service app = good("app");
  app.volumes.push_back({"volume", "appdata", "/data", false});
  Project p = project_of({app});
  p.volumes["appdata"] = {};
  auto f = only(lint_project(p), check_id::stateful_without_healthcheck);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("named volume"), std::string::npos);

  // An anonymous volume is not a data volume.
  Service anon = good("app");
  anon.volumes.push_back({"volume", "", "/cache", false});
  EXPECT_TRUE(only(lint_project(project_of({anon})), check_id::stateful_without_healthcheck).empty());
}

TEST(ComposeLintChecks, NoMemoryLimit) {
  Service s = good("api");
  s.memory_limit_bytes.reset();
  auto f = only(lint_project(project_of({s, good("worker")})), check_id::no_memory_limit);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].service, "api");
}

TEST(ComposeLintChecks, DependsOnWithoutHealthyConditionTowardsAHealthcheckedService) {
  Service db = good("db");
  db.healthcheck = hc();
  Service cache = good("cache");  // no healthcheck: service_started is all there is
  Service api = good("api");
  api.depends_on["db"] = {};
  api.depends_on["cache"] = {};
  auto f = only(lint_project(project_of({db, cache, api})), check_id::depends_on_not_healthy);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].service, "api");
  EXPECT_NE(f[0].message.find("db"), std::string::npos);

  api.depends_on["db"].condition = "service_healthy";
  EXPECT_TRUE(only(lint_project(project_of({db, cache, api})), check_id::depends_on_not_healthy).empty());
}

TEST(ComposeLintChecks, BindMountsOnlyInProduction) {
  Service s = good("api");
  s.volumes.push_back({"bind", "/srv/shop/conf", "/etc/app", false});
  Project p = project_of({s});
  EXPECT_TRUE(only(lint_project(p), check_id::bind_mount_in_production).empty());
  auto f = only(lint_project(p, {.production = true}), check_id::bind_mount_in_production);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("/srv/shop/conf"), std::string::npos);
}

TEST(ComposeLintChecks, UnusedVolume) {
  Service s = good("api");
  s.healthcheck = hc();
  s.volumes.push_back({"volume", "used", "/data", false});
  Project p = project_of({s});
  p.volumes["used"] = {};
  p.volumes["unused"] = {false, "", {"/srv/shop/docker-compose.yml", 12}};
  auto f = only(lint_project(p), check_id::unused_volume);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("unused"), std::string::npos);
  EXPECT_EQ(f[0].location.line, 12);
  // A volume used only by a profile-disabled service is used.
  Service job = good("job");
  job.volumes.push_back({"volume", "unused", "/x", false});
  p.inactive_services["job"] = job;
  EXPECT_TRUE(only(lint_project(p), check_id::unused_volume).empty());
}

TEST(ComposeLintChecks, LongRunningServiceWithoutRestart) {
  Service api = good("api");
  api.restart.clear();
  Service migrate = good("migrate");  // a job others wait on to finish
  migrate.restart.clear();
  Service web = good("web");
  web.depends_on["migrate"].condition = "service_completed_successfully";
  Service swarmish = good("swarmish");
  swarmish.restart.clear();
  swarmish.deploy_restart_condition = "any";
  auto f = only(lint_project(project_of({api, migrate, web, swarmish})), check_id::no_restart_policy);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].service, "api");
}

TEST(ComposeLintChecks, LiteralSecretsNameTheKeyNeverTheValue) {
  EXPECT_TRUE(is_secret_key("POSTGRES_PASSWORD"));
  EXPECT_TRUE(is_secret_key("db_password"));
  EXPECT_TRUE(is_secret_key("JWT_SECRET"));
  EXPECT_TRUE(is_secret_key("GITHUB_TOKEN"));
  EXPECT_TRUE(is_secret_key("STRIPE_API_KEY"));
  EXPECT_FALSE(is_secret_key("POSTGRES_PASSWORD_FILE"));
  EXPECT_FALSE(is_secret_key("POSTGRES_USER"));

  Service s = good("api");
  s.environment["POSTGRES_PASSWORD"] = {true, true, "hunter2-do-not-print"};
  s.environment["API_TOKEN"] = {true, false, "from-a-variable"};  // interpolated: fine
  s.environment["JWT_SECRET"] = {false, false, ""};               // passed through from the shell
  s.environment["LOG_LEVEL"] = {true, true, "debug"};
  auto all = lint_project(project_of({s}));
  auto f = only(all, check_id::literal_secret);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("POSTGRES_PASSWORD"), std::string::npos);
  for (const auto& x : all) EXPECT_EQ(x.message.find("hunter2"), std::string::npos) << x.message;
}

TEST(ComposeLintChecks, FindingsAreOrderedByCheck) {
  Service s = good("api");
  s.memory_limit_bytes.reset();
  s.restart.clear();
  Project p = project_of({s});
  p.has_version_key = true;
  auto all = lint_project(p);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].check, check_id::obsolete_version);
  EXPECT_EQ(all[1].check, check_id::no_memory_limit);
  EXPECT_EQ(all[2].check, check_id::no_restart_policy);
}

TEST(ComposeLintChecks, FloatingImages) {
  EXPECT_TRUE(is_floating_image("nginx"));
  EXPECT_TRUE(is_floating_image("nginx:latest"));
  EXPECT_TRUE(is_floating_image("registry.example.com:5000/shop/api"));  // a registry port, not a tag
  EXPECT_TRUE(is_floating_image("localhost:5000/api:latest"));
  EXPECT_FALSE(is_floating_image("registry.example.com:5000/shop/api:1.4"));
  EXPECT_FALSE(is_floating_image("nginx:1.25"));
  EXPECT_FALSE(is_floating_image("nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"));
  EXPECT_FALSE(is_floating_image("nginx:latest@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"));
  EXPECT_FALSE(is_floating_image(""));  // build only: build-in-production's business
}

TEST(ComposeLintChecks, UrlsWithPasswords) {
  EXPECT_TRUE(url_has_password("postgres://user:s3cret@db/app"));
  EXPECT_TRUE(url_has_password("redis://:pw@redis:6379"));
  EXPECT_TRUE(url_has_password("amqp://guest:guest@rabbit:5672//"));
  EXPECT_TRUE(url_has_password("mongodb+srv://app:pw@cluster0.example.net/?retryWrites=true"));
  EXPECT_TRUE(url_has_password("--db=postgres://u:p@db/app"));
  EXPECT_FALSE(url_has_password("postgres://user@db/app"));
  EXPECT_FALSE(url_has_password("postgres://user:@db/app"));
  EXPECT_FALSE(url_has_password("https://api.example.com:8443/users/@me"));
  EXPECT_FALSE(url_has_password("https://example.com/?next=a:b@c"));
  EXPECT_FALSE(url_has_password("user:pw@host"));  // not a URL
  EXPECT_FALSE(url_has_password("://user:pw@host"));
}

TEST(ComposeLintChecks, DatastorePorts) {
  for (int p : {5432, 3306, 6379, 27017, 5672, 9200, 11211, 9042, 2181, 9092, 8086, 1433}) EXPECT_TRUE(is_datastore_port(p)) << p;
  for (int p : {80, 443, 8080, 3000, 53, 9090, 7000}) EXPECT_FALSE(is_datastore_port(p)) << p;
}

TEST(ComposeLintChecks, PublishedDatastorePortOnAnyProject) {
  Service db = good("db", "postgres:16.3");
  db.healthcheck = hc();
  PortMapping all;
  all.target = all.target_end = 5432;
  all.published = "5432";
  db.ports = {all};
  auto f = only(lint_project(project_of({db})), check_id::published_datastore_port);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].location.str(), "/srv/shop/docker-compose.yml:4");  // no port location: the service's

  db.ports[0].host_ip = "::1";
  EXPECT_TRUE(only(lint_project(project_of({db})), check_id::published_datastore_port).empty());
  db.ports[0].host_ip = "127.0.0.1";
  EXPECT_TRUE(only(lint_project(project_of({db})), check_id::published_datastore_port).empty());
  db.ports[0].host_ip = "0.0.0.0";
  EXPECT_EQ(only(lint_project(project_of({db})), check_id::published_datastore_port).size(), 1u);
  db.network_mode = "host";  // the engine ignores ports: there is nothing published
  EXPECT_TRUE(only(lint_project(project_of({db})), check_id::published_datastore_port).empty());
}

TEST(ComposeLintChecks, RestartPolicyInProductionIsOneFindingPerProblem) {
  Service none = good("none");
  none.restart.clear();
  Service no = good("no");
  no.restart = "no";
  Service on_failure = good("on_failure");
  on_failure.restart = "on-failure";
  Service always = good("always");
  always.restart = "always";
  Service any = good("any");
  any.restart.clear();
  any.deploy_restart_condition = "any";
  Service deploy_none = good("deploy_none");
  deploy_none.restart.clear();
  deploy_none.deploy_restart_condition = "none";
  Service over = good("over");  // restart: wins over deploy.restart_policy, as in the JSON model
  over.restart = "unless-stopped";
  over.deploy_restart_condition = "on-failure";
  const Project p = project_of({none, no, on_failure, always, any, deploy_none, over});
  auto all = lint_project(p, {.production = true});
  auto wrong = only(all, check_id::restart_policy);
  ASSERT_EQ(wrong.size(), 3u);
  EXPECT_EQ(wrong[0].service, "deploy_none");
  EXPECT_EQ(wrong[1].service, "no");
  EXPECT_EQ(wrong[2].service, "on_failure");
  auto missing = only(all, check_id::no_restart_policy);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].service, "none");
  // Outside production only the missing policy is a finding.
  EXPECT_TRUE(only(lint_project(p), check_id::restart_policy).empty());
  EXPECT_EQ(only(lint_project(p), check_id::no_restart_policy).size(), 1u);
}

TEST(ComposeLintChecks, DevMountReplacesBindMountInProduction) {
  Project p = project_of({});
  p.working_dir = "/srv/shop";
  auto with_mount = [&](std::string source, std::string target, std::string context = "") {
    Service s = good("api");
    if (!context.empty()) s.build = Service::Build{.context = std::move(context)};
    s.volumes.push_back({"bind", std::move(source), std::move(target), false});
    Project q = p;
    q.services["api"] = s;
    auto all = lint_project(q, {.production = true});
    return std::make_pair(only(all, check_id::dev_mount).size(), only(all, check_id::bind_mount_in_production).size());
  };
  using P = std::pair<std::size_t, std::size_t>;
  EXPECT_EQ(with_mount("/srv/shop/", "/app"), (P{1, 0}));                 // ".:/app"
  EXPECT_EQ(with_mount("/srv/shop", "/backup"), (P{1, 0}));               // the project directory, anywhere
  EXPECT_EQ(with_mount("/srv/shop/src", "/usr/src/app/src"), (P{1, 0}));
  EXPECT_EQ(with_mount("/srv/shop/app.py", "/home/node/app/app.py"), (P{1, 0}));
  EXPECT_EQ(with_mount("/srv/shop/lib", "/home/node/.cache"), (P{0, 1}));  // not the app directory
  EXPECT_EQ(with_mount("/srv/shop/lib", "/apps"), (P{0, 1}));               // /apps is not /app
  EXPECT_EQ(with_mount("/opt/build/api", "/code", "/opt/build/api"), (P{1, 0}));  // the build context
  EXPECT_EQ(with_mount("/srv/shop/data", "/app/data"), (P{0, 1}));         // data, not code
  EXPECT_EQ(with_mount("/srv/shop/config/app.yml", "/app/config.yml"), (P{0, 1}));
  EXPECT_EQ(with_mount("/srv/shop/nginx.conf", "/etc/nginx/nginx.conf"), (P{0, 1}));
  EXPECT_EQ(with_mount("/srv/shop/.env", "/app/.env"), (P{0, 1}));
  EXPECT_EQ(with_mount("/srv/shopfront", "/app"), (P{0, 1}));             // a sibling, not inside
  EXPECT_EQ(with_mount("/srv/media", "/srv/media"), (P{0, 1}));
}
