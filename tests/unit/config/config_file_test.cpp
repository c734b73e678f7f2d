// The YAML config file: the contract's example loads; every mistake is an error that
// names the file, the line and the key.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <unistd.h>

#include "composewatch/config/config.h"

namespace cfg = composewatch::config;
using namespace std::chrono_literals;

namespace {

std::string fixture(const std::string& name) {
  return std::string(COMPOSEWATCH_FIXTURES) + "/config/" + name;
}

// The message of the ConfigError thrown by loading `path`, or "" when it loads.
std::string load_error(const std::string& path) {
  try {
    cfg::load_config_file(path);
  } catch (const cfg::ConfigError& e) {
    return e.what();
  }
  return "";
}

// Same, for text under the made-up name "/etc/composewatch/config.yml".
constexpr const char* kName = "/etc/composewatch/config.yml";
std::string text_error(const std::string& text) {
  try {
    cfg::parse_config_text(text, kName);
  } catch (const cfg::ConfigError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_CONTAINS(haystack, needle)                                              \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)                     \
      << "expected to find [" << (needle) << "] in [" << (haystack) << "]"

}  // namespace

TEST(ConfigFile, ContractExampleLoadsWithEveryValue) {
  const cfg::AgentConfig c = cfg::load_config_file(fixture("contract_example.yml"));
  EXPECT_EQ(c.config_file, fixture("contract_example.yml"));
  EXPECT_EQ(c.listen_address, "127.0.0.1:9469");
  EXPECT_EQ(c.web_config_file, "/etc/composewatch/web.yml");
  EXPECT_EQ(c.max_requests, 40u);
  EXPECT_EQ(c.docker_host, "unix:///var/run/docker.sock");
  EXPECT_EQ(c.stats_source, "auto");
  EXPECT_EQ(c.disk_interval, 5min);
  EXPECT_EQ(c.disk_timeout, 60s);

  ASSERT_EQ(c.compose_projects.size(), 1u);
  const auto& shop = c.compose_projects[0];
  EXPECT_EQ(shop.name, "shop");
  EXPECT_EQ(shop.files, (std::vector<std::string>{"/srv/shop/docker-compose.yml",
                                                  "/srv/shop/docker-compose.prod.yml"}));
  EXPECT_EQ(shop.env_file, "/srv/shop/.env");
  EXPECT_EQ(shop.profiles, std::vector<std::string>{"jobs"});
  EXPECT_TRUE(shop.production);

  ASSERT_EQ(c.prune_policies.size(), 3u);
  const auto& cache = c.prune_policies[0];
  EXPECT_EQ(cache.name, "nightly-build-cache");
  EXPECT_EQ(cache.schedule, "0 3 * * *");
  EXPECT_EQ(cache.target, "build_cache");
  EXPECT_EQ(cache.keep_storage_bytes, 5ull << 30);
  EXPECT_EQ(cache.older_than, 72h);
  EXPECT_FALSE(cache.dry_run);

  const auto& images = c.prune_policies[1];
  EXPECT_EQ(images.name, "unused-images");
  EXPECT_EQ(images.schedule, "every 6h");
  EXPECT_EQ(images.target, "images");
  EXPECT_EQ(images.images, "unused");
  ASSERT_TRUE(images.disk_free_below_percent.has_value());
  EXPECT_DOUBLE_EQ(*images.disk_free_below_percent, 20.0);
  EXPECT_EQ(images.protect_labels, (std::vector<std::string>{"keep=true", "com.example.pinned"}));
  EXPECT_EQ(images.max_objects, 100u);
  EXPECT_EQ(images.max_bytes, 20ull << 30);
  EXPECT_EQ(images.older_than, 24h);  // the default grace
  EXPECT_FALSE(images.dry_run);
  EXPECT_FALSE(images.keep_storage_bytes.has_value());

  const auto& volumes = c.prune_policies[2];
  EXPECT_EQ(volumes.name, "anonymous-volumes");
  EXPECT_EQ(volumes.target, "volumes");
  EXPECT_TRUE(volumes.allow_volumes);
  EXPECT_FALSE(volumes.dry_run);
  EXPECT_EQ(volumes.images, "dangling");

  const auto& a = c.autoheal;
  EXPECT_TRUE(a.configured);
  EXPECT_EQ(a.unhealthy_for, 2min);
  EXPECT_EQ(a.max_attempts, 3u);
  EXPECT_EQ(a.window, 1h);
  EXPECT_EQ(a.backoff, 30s);
  EXPECT_EQ(a.action, "restart");
  EXPECT_FALSE(a.restart_dependents);
  EXPECT_FALSE(a.dry_run);
  ASSERT_EQ(a.services.size(), 1u);
  EXPECT_EQ(a.services[0].project, "shop");
  EXPECT_EQ(a.services[0].service, "api");
}

TEST(ConfigFile, EmptyFileKeepsEveryDefault) {
  cfg::AgentConfig base;
  base.docker_host = "unix:///from/env.sock";
  const cfg::AgentConfig c = cfg::load_config_file(fixture("empty.yml"), base);
  EXPECT_EQ(c.docker_host, "unix:///from/env.sock");
  EXPECT_EQ(c.listen_address, "127.0.0.1:9469");
  EXPECT_TRUE(c.prune_policies.empty());
  EXPECT_FALSE(c.autoheal.configured);
  EXPECT_EQ(c.config_file, fixture("empty.yml"));
}

TEST(ConfigFile, PolicyDefaults) {
  const auto c = cfg::parse_config_text(
      "prune:\n  policies:\n    - {name: p, schedule: every 1h, target: images}\n", kName);
  ASSERT_EQ(c.prune_policies.size(), 1u);
  EXPECT_TRUE(c.prune_policies[0].dry_run);
  EXPECT_EQ(c.prune_policies[0].older_than, 24h);
  EXPECT_EQ(c.prune_policies[0].images, "dangling");
  EXPECT_FALSE(c.prune_policies[0].max_objects.has_value());
  EXPECT_FALSE(c.prune_policies[0].disk_free_below_percent.has_value());
}

TEST(ConfigFile, UnknownKeyNamesFileLineAndKey) {
  const std::string e = load_error(fixture("unknown_key.yml"));
  EXPECT_CONTAINS(e, fixture("unknown_key.yml") + ":12: prune.policies[0]: unknown key 'dryrun'");
  EXPECT_CONTAINS(e, "did you mean 'dry_run'");
}

TEST(ConfigFile, UnknownKeysAtEveryLevel) {
  EXPECT_CONTAINS(text_error("web: {}\nlogging: {level: debug}\n"),
                  std::string(kName) + ":2: unknown key 'logging'");
  EXPECT_CONTAINS(text_error("web:\n  listen_adress: \":9469\"\n"),
                  std::string(kName) + ":2: web: unknown key 'listen_adress'");
  EXPECT_CONTAINS(text_error("prune:\n  policies:\n    - name: p\n      schedule: every 1h\n"
                             "      target: images\n      when: {disk_free: 20%}\n"),
                  std::string(kName) + ":6: prune.policies[0].when: unknown key 'disk_free'");
  EXPECT_CONTAINS(text_error("autoheal:\n  services:\n    - {project: a, service: b}\n"
                             "    - {project: a, servce: b}\n"),
                  std::string(kName) + ":4: autoheal.services[1]: unknown key 'servce'");
  EXPECT_CONTAINS(text_error("compose:\n  projects:\n    - name: shop\n      files: [a.yml]\n"
                             "      envfile: .env\n"),
                  std::string(kName) + ":5: compose.projects[0]: unknown key 'envfile'");
}

TEST(ConfigFile, TargetVolumesNeedsAllowVolumes) {
  const std::string e = load_error(fixture("volumes_without_allow.yml"));
  EXPECT_CONTAINS(e, fixture("volumes_without_allow.yml") + ":5: prune.policies[0].target:");
  EXPECT_CONTAINS(e, "allow_volumes: true");
  // allow_volumes: false is no better than leaving it out.
  EXPECT_CONTAINS(text_error("prune:\n  policies:\n    - name: v\n      schedule: every 1h\n"
                             "      target: volumes\n      allow_volumes: false\n"),
                  std::string(kName) + ":5: prune.policies[0].target:");
}

TEST(ConfigFile, DuplicatePolicyNames) {
  const std::string e = load_error(fixture("duplicate_policy.yml"));
  EXPECT_CONTAINS(e, fixture("duplicate_policy.yml") + ":9: prune.policies[2].name:");
  EXPECT_CONTAINS(e, "duplicate policy name 'images'");
  EXPECT_CONTAINS(e, "prune.policies[0]");
}

TEST(ConfigFile, MissingRequiredKeys) {
  const std::string e = load_error(fixture("missing_schedule.yml"));
  EXPECT_CONTAINS(e, fixture("missing_schedule.yml") + ":6: prune.policies[1]: missing required key 'schedule'");
  EXPECT_CONTAINS(text_error("prune:\n  policies:\n    - schedule: every 1h\n      target: images\n"),
                  std::string(kName) + ":3: prune.policies[0]: missing required key 'name'");
  EXPECT_CONTAINS(text_error("prune:\n  policies:\n    - name: x\n      schedule: every 1h\n"),
                  std::string(kName) + ":3: prune.policies[0]: missing required key 'target'");
  EXPECT_CONTAINS(text_error("compose:\n  projects:\n    - files: [a.yml]\n"),
                  std::string(kName) + ":3: compose.projects[0]: missing required key 'name'");
  EXPECT_CONTAINS(text_error("compose:\n  projects:\n    - name: shop\n"),
                  std::string(kName) + ":3: compose.projects[0]: missing required key 'files'");
  EXPECT_CONTAINS(text_error("compose:\n  projects:\n    - name: shop\n      files: []\n"),
                  std::string(kName) + ":4: compose.projects[0].files: needs at least one");
  EXPECT_CONTAINS(text_error("autoheal:\n  services:\n    - {project: shop}\n"),
                  std::string(kName) + ":3: autoheal.services[0]: missing required key 'service'");
}

TEST(ConfigFile, SyntaxErrorNamesFileAndLine) {
  const std::string e = load_error(fixture("syntax_error.yml"));
  EXPECT_EQ(e, fixture("syntax_error.yml") + ":4: illegal map value");
  EXPECT_CONTAINS(text_error("web:\n  listen_address: [1, 2\ndocker: {}\n"), std::string(kName) + ":");
  EXPECT_CONTAINS(text_error("web: {a: 1}}\n"), std::string(kName) + ":1: ");
}

TEST(ConfigFile, BadDurationNamesFileLineAndKey) {
  const std::string e = load_error(fixture("bad_duration.yml"));
  EXPECT_CONTAINS(e, fixture("bad_duration.yml") + ":5: autoheal.window: invalid duration '1 hour'");
}

TEST(ConfigFile, WrongTypes) {
  EXPECT_CONTAINS(text_error("web: [a, b]\n"), std::string(kName) + ":1: web: expected a mapping, got a list");
  EXPECT_CONTAINS(text_error("web:\n  max_requests: many\n"),
                  std::string(kName) + ":2: web.max_requests: 'many' is not a whole number");
  EXPECT_CONTAINS(text_error("web:\n  max_requests: 0\n"),
                  std::string(kName) + ":2: web.max_requests: '0' is out of range");
  EXPECT_CONTAINS(text_error("web:\n  max_requests: -4\n"),
                  std::string(kName) + ":2: web.max_requests:");
  EXPECT_CONTAINS(text_error("compose:\n  projects:\n    - name: shop\n      files: a.yml\n"),
                  std::string(kName) + ":4: compose.projects[0].files: expected a list");
  EXPECT_CONTAINS(text_error("compose:\n  projects:\n    - name: shop\n      files: [a.yml]\n"
                             "      production: sure\n"),
                  std::string(kName) + ":5: compose.projects[0].production: expected true or false, got 'sure'");
  EXPECT_CONTAINS(text_error("docker:\n  host: {a: b}\n"),
                  std::string(kName) + ":2: docker.host: expected a string, got a mapping");
  EXPECT_CONTAINS(text_error("prune:\n  policies: {name: x}\n"),
                  std::string(kName) + ":2: prune.policies: expected a list");
  EXPECT_CONTAINS(text_error("prune:\n  policies:\n    - just-a-name\n"),
                  std::string(kName) + ":3: prune.policies[0]: expected a mapping");
  EXPECT_CONTAINS(text_error("- web\n- docker\n"), std::string(kName) + ":1: expected a mapping of sections");
  EXPECT_CONTAINS(text_error("autoheal:\n  dry_run:\n"),
                  std::string(kName) + ":2: autoheal.dry_run: expected true or false, got nothing");
}

TEST(ConfigFile, BadEnumsSizesAndValues) {
  EXPECT_CONTAINS(text_error("stats: {source: proc}\n"),
                  std::string(kName) + ":1: stats.source: invalid value 'proc' (expected auto, cgroup or api)");
  EXPECT_CONTAINS(text_error("autoheal:\n  action: kill\n"),
                  std::string(kName) + ":2: autoheal.action: invalid value 'kill'");
  EXPECT_CONTAINS(text_error("docker:\n  host: ssh://me@host\n"),
                  std::string(kName) + ":2: docker.host: 'ssh://me@host' has an unsupported scheme");
  EXPECT_CONTAINS(text_error("web:\n  listen_address: localhost\n"),
                  std::string(kName) + ":2: web.listen_address: 'localhost' has no port");
  EXPECT_CONTAINS(text_error("web:\n  telemetry_path: metrics\n"),
                  std::string(kName) + ":2: web.telemetry_path: 'metrics' must start with '/'");
  const std::string policy = "prune:\n  policies:\n    - name: p\n      schedule: every 1h\n";
  EXPECT_CONTAINS(text_error(policy + "      target: everything\n"),
                  std::string(kName) + ":5: prune.policies[0].target: invalid value 'everything'");
  EXPECT_CONTAINS(text_error(policy + "      target: build_cache\n      keep_storage: 5 gigs\n"),
                  std::string(kName) + ":6: prune.policies[0].keep_storage: invalid size '5 gigs'");
  EXPECT_CONTAINS(text_error(policy + "      target: images\n      keep_storage: 5GB\n"),
                  std::string(kName) + ":6: prune.policies[0].keep_storage: applies to target build_cache only");
  EXPECT_CONTAINS(text_error(policy + "      target: build_cache\n      images: unused\n"),
                  std::string(kName) + ":6: prune.policies[0].images: applies to target images only");
  EXPECT_CONTAINS(text_error(policy + "      target: images\n      images: all\n"),
                  std::string(kName) + ":6: prune.policies[0].images: invalid value 'all'");
  EXPECT_CONTAINS(text_error(policy + "      target: images\n      when: {disk_free_below: 20}\n"),
                  std::string(kName) + ":6: prune.policies[0].when.disk_free_below: invalid percentage '20'");
  EXPECT_CONTAINS(text_error(policy + "      target: images\n      older_than: -1h\n"),
                  std::string(kName) + ":6: prune.policies[0].older_than: invalid duration '-1h'");
  EXPECT_CONTAINS(text_error(policy + "      target: images\n      max_objects: 0\n"),
                  std::string(kName) + ":6: prune.policies[0].max_objects: '0' is out of range");
  EXPECT_CONTAINS(text_error(policy + "      target: images\n      protect_labels: [\"=x\"]\n"),
                  std::string(kName) + ":6: prune.policies[0].protect_labels[0]: invalid label '=x'");
  EXPECT_CONTAINS(text_error("disk: {interval: 500ms}\n"),
                  std::string(kName) + ":1: disk.interval: '500ms' is too short");
  EXPECT_CONTAINS(text_error("compose:\n  projects:\n    - name: Shop\n      files: [a.yml]\n"),
                  std::string(kName) + ":3: compose.projects[0].name: invalid project name 'Shop'");
  EXPECT_CONTAINS(text_error("compose:\n  projects:\n    - {name: shop, files: [a.yml]}\n"
                             "    - {name: shop, files: [b.yml]}\n"),
                  std::string(kName) + ":4: compose.projects[1].name: duplicate project name 'shop'");
}

TEST(ConfigFile, Schedules) {
  const auto schedule_error = [](const std::string& schedule) {
    return text_error("prune:\n  policies:\n    - name: p\n      target: images\n      schedule: \"" +
                      schedule + "\"\n");
  };
  for (const char* good : {"0 3 * * *", "30 4 * * 0", "*/15 * * * *", "0 0 1,15 * mon-fri",
                           "0 22 * * 1-5", "5 4 * jan,jul sun", "0 0 * * 7", "every 6h",
                           "every 1m", "every 30s", "every 1h30m"}) {
    EXPECT_EQ(schedule_error(good), "") << good;
  }
  EXPECT_CONTAINS(schedule_error("0 3 * *"), std::string(kName) + ":5: prune.policies[0].schedule: invalid schedule '0 3 * *': expected 5 cron fields");
  EXPECT_CONTAINS(schedule_error("0 3 * * * *"), "expected 5 cron fields");
  EXPECT_CONTAINS(schedule_error("61 * * * *"), "minute: 61 is out of range 0-59");
  EXPECT_CONTAINS(schedule_error("0 24 * * *"), "hour: 24 is out of range 0-23");
  EXPECT_CONTAINS(schedule_error("0 0 0 * *"), "day-of-month: 0 is out of range 1-31");
  EXPECT_CONTAINS(schedule_error("0 0 * 13 *"), "month: 13 is out of range 1-12");
  EXPECT_CONTAINS(schedule_error("0 0 * * 8"), "day-of-week: 8 is out of range 0-7");
  EXPECT_CONTAINS(schedule_error("*/0 * * * *"), "minute: the step in '*/0' must be a number from 1 to 59");
  EXPECT_CONTAINS(schedule_error("5-1 * * * *"), "minute: range '5-1' goes backwards");
  EXPECT_CONTAINS(schedule_error("1,,2 * * * *"), "minute: empty item in list '1,,2'");
  EXPECT_CONTAINS(schedule_error("@daily"), "expected 5 cron fields");
  EXPECT_CONTAINS(schedule_error("0 0 30 2 *"), std::string(kName) + ":5: prune.policies[0].schedule: invalid schedule '0 0 30 2 *': never fires: February has no 30th");
  EXPECT_CONTAINS(schedule_error("every 5s"), std::string(kName) + ":5: prune.policies[0].schedule: invalid schedule 'every 5s': the interval must be at least 10s");
  EXPECT_CONTAINS(schedule_error("every six hours"), "invalid duration 'six hours'");
}

TEST(ConfigFile, DuplicateKeysAreErrors) {
  // yaml-cpp keeps both; the first would win silently.
  EXPECT_CONTAINS(text_error("autoheal:\n  dry_run: true\n  dry_run: false\n"),
                  std::string(kName) + ":3: autoheal: duplicate key 'dry_run'");
}

TEST(ConfigFile, OneDocumentOnly) {
  EXPECT_CONTAINS(text_error("web: {}\n---\nprune: {}\n"), std::string(kName) + ":3: more than one YAML document");
}

// Fuzz finding: a file holding a single ',' made YAML::LoadAll return empty documents
// forever (6.4 GB in 10 s). A stray flow indicator is a syntax error at its line.
TEST(ConfigFile, StrayFlowIndicatorIsAnErrorNotAnEndlessLoad) {
  EXPECT_CONTAINS(text_error(","), std::string(kName) + ":1: unexpected ','");
  EXPECT_CONTAINS(text_error(",\nweb: {}\n"), std::string(kName) + ":1: unexpected ','");
  // Where yaml-cpp itself stops at the stray token, its own message.
  EXPECT_CONTAINS(text_error("web: {}\n,\n"), std::string(kName) + ":2: end of map not found");
  EXPECT_CONTAINS(text_error("web: {}\n}\n"), std::string(kName) + ":2: illegal flow end");

  const std::string path = testing::TempDir() + "cw-comma-config.yml";
  std::ofstream(path) << ",";
  EXPECT_CONTAINS(load_error(path), path + ":1: unexpected ','");
  std::remove(path.c_str());
}

TEST(ConfigFile, RelativePathsAreRelativeToTheFile) {
  const cfg::AgentConfig c = cfg::load_config_file(fixture("relative_paths.yml"));
  const std::string dir = std::string(COMPOSEWATCH_FIXTURES) + "/config/";
  EXPECT_EQ(c.web_config_file, dir + "web.yml");
  ASSERT_EQ(c.compose_projects.size(), 1u);
  EXPECT_EQ(c.compose_projects[0].files,
            (std::vector<std::string>{dir + "shop/docker-compose.yml", "/srv/shop/docker-compose.prod.yml"}));
  EXPECT_EQ(c.compose_projects[0].env_file, dir + "shop/.env");
}

TEST(ConfigFile, MissingFileIsAnError) {
  const std::string e = load_error(fixture("no-such-file.yml"));
  EXPECT_CONTAINS(e, fixture("no-such-file.yml") + ": cannot open");
  EXPECT_CONTAINS(load_error(std::string(COMPOSEWATCH_FIXTURES) + "/config"), "is a directory");
}

TEST(ConfigFile, RefusesFilesOverOneMiB) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("composewatch-large-" + std::to_string(::getpid()) + ".yml");
  {
    std::ofstream out(path);
    out << "# " << std::string(cfg::kMaxConfigFileBytes, 'x') << "\n";
  }
  const std::string e = load_error(path.string());
  std::filesystem::remove(path);
  EXPECT_CONTAINS(e, path.string() + ": larger than 1 MiB");
}

TEST(ConfigFile, AliasAmplificationIsBounded) {
  // Each alias is one more visit of the same list; the walk must stop, not run for hours.
  std::string text = "prune:\n  policies:\n";
  text += "    - {name: p0, schedule: every 1h, target: images, protect_labels: &l [";
  for (int i = 0; i < 2000; ++i) text += (i ? ",a" : "a") + std::to_string(i);
  text += "]}\n";
  for (int i = 1; i < 200; ++i) {
    text += "    - {name: p" + std::to_string(i) + ", schedule: every 1h, target: images, protect_labels: *l}\n";
  }
  EXPECT_CONTAINS(text_error(text), "too many entries");
}

TEST(ConfigFile, LoadsOverTheBase) {
  cfg::AgentConfig base;
  base.docker_host = "unix:///from/env.sock";
  base.max_requests = 3;
  const auto c = cfg::parse_config_text("web: {max_requests: 9}\n", kName, base);
  EXPECT_EQ(c.max_requests, 9u);
  EXPECT_EQ(c.docker_host, "unix:///from/env.sock");
}

// The config.yml the package installs is all comments; uncommented, its examples must be
// a valid config, with every prune policy a dry run.
TEST(ConfigFile, ThePackagedExampleIsValidOnceUncommented) {
  std::ifstream in(std::string(COMPOSEWATCH_SOURCE_DIR) + "/deploy/config.yml");
  ASSERT_TRUE(in) << "deploy/config.yml";
  std::string all, uncommented;
  const std::regex example(R"(^# ( *)([a-z_]+:|- ).*)");
  for (std::string line; std::getline(in, line);) {
    all += line + "\n";
    if (std::regex_match(line, example)) uncommented += line.substr(2) + "\n";
  }
  EXPECT_EQ(cfg::parse_config_text(all, "config.yml").prune_policies.size(), 0u) << "as installed: all defaults";
  const auto c = cfg::parse_config_text(uncommented, "config.yml");
  for (const char* section : {"web:", "docker:", "stats:", "disk:", "compose:", "prune:"})
    EXPECT_NE(("\n" + uncommented).find(std::string("\n") + section), std::string::npos) << section << " has no example";
  EXPECT_EQ(c.prune_policies.size(), 5u);
  for (const auto& p : c.prune_policies) EXPECT_TRUE(p.dry_run) << p.name;
  EXPECT_EQ(c.compose_projects.size(), 1u);
}
