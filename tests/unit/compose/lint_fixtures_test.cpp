// The checklist on compose files written for it (tests/fixtures/compose/lint/), loaded by
// the real loader: for the checks each file is about, the exact set of (check, service)
// findings, so that a check firing where it should not fails as surely as one missing.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "composewatch/compose/discovery.h"
#include "composewatch/compose/lint.h"
#include "composewatch/compose/loader.h"

namespace cc = composewatch::compose;
namespace fs = std::filesystem;

namespace {

const fs::path kLint = fs::path(COMPOSEWATCH_FIXTURES) / "compose/lint";

cc::Project load(const std::vector<std::string>& files, std::map<std::string, std::string> env = {}) {
  cc::LoadOptions o;
  for (const auto& f : files) o.files.push_back((kLint / f).string());
  o.environment = std::move(env);
  return cc::load_project(o);
}

using Found = std::set<std::pair<std::string, std::string>>;  // (check, service)

// The findings of `checks` only.
Found found(const std::vector<cc::LintFinding>& all, const std::set<std::string_view>& checks) {
  Found out;
  for (const auto& f : all)
    if (checks.count(f.check)) out.emplace(f.check, f.service);
  return out;
}

std::string dump(const std::vector<cc::LintFinding>& all) {
  std::string s;
  for (const auto& f : all) s += "  " + f.check + " " + f.service + ": " + f.message + "\n";
  return s;
}

const std::set<std::string_view> kProductionChecks = {
    cc::check_id::build_in_production, cc::check_id::restart_policy,         cc::check_id::no_restart_policy,
    cc::check_id::floating_tag,        cc::check_id::dev_mount,              cc::check_id::bind_mount_in_production};

}  // namespace

TEST(ComposeLintFixtures, ProductionChecksOnAProductionFileName) {
  const cc::Project p = load({"production/docker-compose.prod.yml"});
  EXPECT_EQ(cc::production_reason(p, false), "its compose file docker-compose.prod.yml is named like *prod*");
  const auto all = cc::lint_project(p);
  const Found expected = {
      {"build-in-production", "built"},
      {"build-in-production", "built_no_image"},
      {"build-in-production", "built_remote"},
      {"build-in-production", "dev_build_context"},
      {"floating-tag", "latest"},
      {"floating-tag", "untagged"},
      {"floating-tag", "registry_port_untagged"},
      {"restart-policy", "restart_no"},
      {"restart-policy", "restart_on_failure"},
      {"restart-policy", "deploy_on_failure"},
      {"no-restart-policy", "restart_none"},
      {"dev-mount", "dev_project_dir"},
      {"dev-mount", "dev_src"},
      {"dev-mount", "dev_build_context"},
      {"dev-mount", "dev_www"},
      {"bind-mount-in-production", "config_file"},
      {"bind-mount-in-production", "data_under_app"},
      {"bind-mount-in-production", "host_dir"},
  };
  EXPECT_EQ(found(all, kProductionChecks), expected) << dump(all);
}

TEST(ComposeLintFixtures, ProductionChecksStayQuietOutsideProduction) {
  cc::Project p = load({"production/docker-compose.prod.yml"});
  p.files = {"/srv/shop/docker-compose.yml"};  // the same services, not production
  EXPECT_EQ(cc::production_reason(p, false), "");
  const auto all = cc::lint_project(p);
  // no-restart-policy applies to every project; nothing else of these does.
  EXPECT_EQ(found(all, kProductionChecks), (Found{{"no-restart-policy", "restart_none"}})) << dump(all);
  // The configured flag makes it production again.
  EXPECT_EQ(cc::production_reason(p, true), "production: true in the config file");
  EXPECT_EQ(found(cc::lint_project(p, {.production = true}), kProductionChecks).size(), 18u);
}

TEST(ComposeLintFixtures, BuildContextIsResolvedForDevMounts) {
  const cc::Project p = load({"production/docker-compose.prod.yml"});
  const fs::path dir = kLint / "production";
  ASSERT_TRUE(p.services.at("built").build && p.services.at("built_no_image").build && p.services.at("built_remote").build);
  EXPECT_EQ(p.services.at("built").build->context, (dir / "api").lexically_normal().string());
  EXPECT_EQ(p.services.at("built_no_image").build->context, (dir / "worker").lexically_normal().string());
  EXPECT_TRUE(p.services.at("built_remote").build->remote);
  EXPECT_FALSE(p.services.at("built").build->remote);
  EXPECT_FALSE(p.services.at("pinned").build.has_value());
}

TEST(ComposeLintFixtures, ProductionFileNames) {
  for (const char* name : {"docker-compose.prod.yml", "compose.production.yaml", "PROD.yml",
                           "docker-compose.products.yml"}) {
    const cc::Project p = load({std::string("names/") + name});
    EXPECT_NE(cc::production_reason(p, false), "") << name;
    EXPECT_EQ(found(cc::lint_project(p), {cc::check_id::floating_tag}), (Found{{"floating-tag", "api"}})) << name;
  }
  for (const char* name : {"docker-compose.yml", "prod-dir/docker-compose.yml"}) {  // the directory does not count
    const cc::Project p = load({std::string("names/") + name});
    EXPECT_EQ(cc::production_reason(p, false), "") << name;
    EXPECT_TRUE(found(cc::lint_project(p), {cc::check_id::floating_tag}).empty()) << name;
  }
  // Any of the project's files: a production override on a plain base file.
  const cc::Project merged = load({"names/docker-compose.yml", "names/docker-compose.prod.yml"});
  EXPECT_EQ(cc::production_reason(merged, false), "its compose file docker-compose.prod.yml is named like *prod*");
}

TEST(ComposeLintFixtures, AgentAndCheckDecideProductionFromTheFileNameToo) {
  // load_source is what the agent's watcher and `check -f` lint through.
  cc::ProjectSource src;
  src.name = "names";
  src.files = {(kLint / "names/docker-compose.prod.yml").string()};
  src.configured = true;
  const cc::ProjectState st = cc::load_source(src, nullptr, {});
  ASSERT_TRUE(st.valid) << st.error;
  EXPECT_FALSE(st.source.production);  // not configured so: the file name decides
  EXPECT_EQ(found(st.findings, {cc::check_id::floating_tag}), (Found{{"floating-tag", "api"}}));
}

TEST(ComposeLintFixtures, PublishedDatastorePorts) {
  const cc::Project p = load({"ports/docker-compose.yml"});
  const auto all = cc::lint_project(p);
  const Found expected = {
      {"published-datastore-port", "pg_short"},
      {"published-datastore-port", "redis_all_v4"},
      {"published-datastore-port", "mongo_all_v6"},
      {"published-datastore-port", "rabbit_ephemeral"},
      {"published-datastore-port", "app_mysql_port_long"},
      {"published-datastore-port", "app_kafka_range"},
      {"published-datastore-port", "elastic_management_port"},
  };
  EXPECT_EQ(found(all, {cc::check_id::published_datastore_port}), expected) << dump(all);
  for (const auto& f : all) {
    if (f.service == "pg_short" && f.check == cc::check_id::published_datastore_port) {
      EXPECT_EQ(f.message, "service pg_short publishes container port 5432/tcp on all interfaces (host port 5432)");
      EXPECT_EQ(f.location.line, 5);  // the ports entry
    }
    if (f.service == "rabbit_ephemeral" && f.check == cc::check_id::published_datastore_port)
      EXPECT_NE(f.message.find("an ephemeral host port"), std::string::npos) << f.message;
  }
}

TEST(ComposeLintFixtures, PortsAreParsedInBothSyntaxes) {
  const cc::Project p = load({"ports/docker-compose.yml"});
  const auto& mongo = p.services.at("mongo_all_v6").ports;
  ASSERT_EQ(mongo.size(), 1u);
  EXPECT_EQ(mongo[0].host_ip, "::");
  EXPECT_EQ(mongo[0].published, "27017");
  EXPECT_EQ(mongo[0].target, 27017);
  const auto& range = p.services.at("app_kafka_range").ports;
  ASSERT_EQ(range.size(), 1u);
  EXPECT_EQ(range[0].published, "9090-9095");
  EXPECT_EQ(range[0].target, 9090);
  EXPECT_EQ(range[0].target_end, 9095);
  EXPECT_EQ(range[0].protocol, "tcp");
  const auto& lng = p.services.at("app_mysql_port_long_loopback").ports;
  ASSERT_EQ(lng.size(), 1u);
  EXPECT_EQ(lng[0].host_ip, "127.0.0.1");
  EXPECT_EQ(lng[0].published, "3307");
  EXPECT_EQ(lng[0].target, 3306);
  const auto& eph = p.services.at("rabbit_ephemeral").ports;
  ASSERT_EQ(eph.size(), 1u);
  EXPECT_EQ(eph[0].published, "");
  EXPECT_EQ(eph[0].host_ip, "");
  EXPECT_EQ(p.services.at("dns_udp").ports.at(0).protocol, "udp");
  EXPECT_TRUE(p.services.at("pg_exposed_only").ports.empty());
}

TEST(ComposeLintFixtures, PortsAreInTheComposeJson) {
  const std::string json = cc::to_json(load({"ports/docker-compose.yml"}));
  EXPECT_NE(json.find(R"("ports": [
        {
          "host_ip": "::",
          "published": "27017",
          "target": 27017,
          "target_end": 27017,
          "protocol": "tcp"
        }
      ])"),
            std::string::npos)
      << json;
  // After the contract's fields: a reader of the contract's shape is not disturbed.
  EXPECT_LT(json.find("\"profiles\": "), json.find("\"ports\": "));
  EXPECT_NE(json.find(R"("ports": [])"), std::string::npos) << json;  // pg_exposed_only
}

TEST(ComposeLintFixtures, MergedPortsAreDeduplicatedAsComposeDoes) {
  const cc::Project p = load({"ports-merge/docker-compose.yml", "ports-merge/docker-compose.override.yml"});
  const auto& ports = p.services.at("db").ports;
  // 5432 written as "5432:5432" and "0.0.0.0:5432:5432/tcp", 9187 in short and long
  // syntax: one port each; 6432 is new.
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_EQ(ports[0].target, 5432);
  EXPECT_EQ(ports[1].target, 9187);
  EXPECT_EQ(ports[2].target, 6432);
  const auto all = cc::lint_project(p);
  EXPECT_EQ(found(all, {cc::check_id::published_datastore_port}), (Found{{"published-datastore-port", "db"}}))
      << dump(all);
  EXPECT_EQ(std::count_if(all.begin(), all.end(),
                          [](const auto& f) { return f.check == cc::check_id::published_datastore_port; }),
            1);
}

TEST(ComposeLintFixtures, SecretsInUrlsAndLiteralSecretsAreOneFindingEach) {
  const cc::Project p = load({"secrets/docker-compose.yml"}, {{"DB_PASSWORD", "from-the-environment"}});
  const auto all = cc::lint_project(p);
  const Found expected = {
      {"secret-in-url", "url_postgres"},
      {"secret-in-url", "url_redis"},
      {"secret-in-url", "url_amqp"},
      {"secret-in-url", "url_secret_key"},
      {"literal-secret", "literal_password"},
  };
  EXPECT_EQ(found(all, {cc::check_id::secret_in_url, cc::check_id::literal_secret}), expected) << dump(all);
  for (const auto& f : all) {
    EXPECT_EQ(f.message.find("s3cret"), std::string::npos) << f.message;
    EXPECT_EQ(f.message.find("from-the-environment"), std::string::npos) << f.message;
  }
  for (const auto& f : all)
    if (f.service == "url_postgres" && f.check == cc::check_id::secret_in_url)
      EXPECT_EQ(f.message, "service url_postgres sets DATABASE_URL to a URL with a password written in the file");
}

TEST(ComposeLintFixtures, BadPortsNameTheFileAndLine) {
  const fs::path dir = fs::temp_directory_path() / ("cw-lint-ports-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto error_of = [&](const std::string& entry) {
    const fs::path f = dir / "docker-compose.yml";
    std::ofstream(f) << "services:\n  db:\n    image: postgres:16\n    ports:\n      - " << entry << "\n";
    try {
      cc::LoadOptions o;
      o.files = {f.string()};
      cc::load_project(o);
    } catch (const cc::LoadError& e) {
      std::string m = e.what();
      if (auto pos = m.find(dir.string()); pos != std::string::npos) m.replace(pos, dir.string().size(), "DIR");
      return m;
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("\"abc:5432\""),
            "DIR/docker-compose.yml:5: ports entry 'abc:5432': the published port must be a port (1-65535) or a "
            "range, got 'abc'");
  EXPECT_EQ(error_of("\"5432:70000\""),
            "DIR/docker-compose.yml:5: ports entry '5432:70000': the container port must be a port (1-65535) or a "
            "range, got '70000'");
  EXPECT_EQ(error_of("\"1.2.3:5432:5432\""),
            "DIR/docker-compose.yml:5: ports entry '1.2.3:5432:5432': '1.2.3' is not an IP address");
  EXPECT_EQ(error_of("\"5432/xtp\""),
            "DIR/docker-compose.yml:5: ports entry '5432/xtp': protocol must be tcp, udp or sctp, got 'xtp'");
  EXPECT_EQ(error_of("\"5440-5432:5432\""),
            "DIR/docker-compose.yml:5: ports entry '5440-5432:5432': the published port must be a port (1-65535) or "
            "a range, got '5440-5432'");
  EXPECT_EQ(error_of("{published: 5432}"), "DIR/docker-compose.yml:5: ports entry needs a target");
  EXPECT_EQ(error_of("[5432]"), "DIR/docker-compose.yml:5: ports entries must be a string, a number or a mapping, got a list");
  EXPECT_EQ(error_of("{target: 5432, host_ip: everywhere}"),
            "DIR/docker-compose.yml:5: ports.host_ip: 'everywhere' is not an IP address");
  fs::remove_all(dir);
}
