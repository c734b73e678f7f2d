// Where each setting comes from: flag > config file > environment > default.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "composewatch/config/cli.h"
#include "composewatch/config/config.h"

namespace cfg = composewatch::config;

namespace {

std::string fixture(const std::string& name) {
  return std::string(COMPOSEWATCH_FIXTURES) + "/config/" + name;
}

const std::string kNoDefaultFile = fixture("does-not-exist.yml");

std::string resolve_error(const cfg::FlagValues& flags, const cfg::Environment& env = {}) {
  try {
    cfg::resolve_config(flags, env, kNoDefaultFile);
  } catch (const cfg::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ConfigResolve, DefaultsWithNothingSet) {
  const auto c = cfg::resolve_config({}, {}, kNoDefaultFile);
  EXPECT_EQ(c.listen_address, "127.0.0.1:9469");
  EXPECT_EQ(c.telemetry_path, "/metrics");
  EXPECT_EQ(c.web_config_file, "");
  EXPECT_EQ(c.max_requests, 40u);
  EXPECT_EQ(c.docker_host, "unix:///var/run/docker.sock");
  EXPECT_EQ(c.stats_source, "auto");
  EXPECT_EQ(c.state_dir, "/var/lib/composewatch");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_format, "logfmt");
  EXPECT_EQ(c.config_file, "");  // the agent runs with no config file at all
}

TEST(ConfigResolve, EnvironmentBeatsDefault) {
  const cfg::Environment env{.docker_host = "tcp://env-host:2375", .state_directory = "/var/lib/cw"};
  const auto c = cfg::resolve_config({}, env, kNoDefaultFile);
  EXPECT_EQ(c.docker_host, "tcp://env-host:2375");
  EXPECT_EQ(c.state_dir, "/var/lib/cw");
}

TEST(ConfigResolve, StateDirectoryTakesTheFirstOfSeveral) {
  const cfg::Environment env{.state_directory = "/var/lib/composewatch:/var/lib/other"};
  EXPECT_EQ(cfg::resolve_config({}, env, kNoDefaultFile).state_dir, "/var/lib/composewatch");
}

TEST(ConfigResolve, FileBeatsEnvironment) {
  const cfg::Environment env{.docker_host = "tcp://env-host:2375"};
  cfg::FlagValues flags;
  flags.config_file = fixture("flags_and_file.yml");
  const auto c = cfg::resolve_config(flags, env, kNoDefaultFile);
  EXPECT_EQ(c.docker_host, "tcp://file-host:2375");
  EXPECT_EQ(c.listen_address, "0.0.0.0:9100");
  EXPECT_EQ(c.stats_source, "api");
  EXPECT_EQ(c.max_requests, 7u);
  EXPECT_EQ(c.config_file, fixture("flags_and_file.yml"));
}

TEST(ConfigResolve, FlagBeatsFileAndEnvironment) {
  const cfg::Environment env{.docker_host = "tcp://env-host:2375", .state_directory = "/env/state"};
  cfg::FlagValues flags;
  flags.config_file = fixture("flags_and_file.yml");
  flags.docker_host = "unix:///flag.sock";
  flags.listen_address = ":9999";
  flags.telemetry_path = "/flag-metrics";
  flags.max_requests = "11";
  flags.stats_source = "cgroup";
  flags.state_dir = "/flag/state";
  flags.log_level = "debug";
  flags.log_format = "json";
  flags.web_config_file = "/etc/web.yml";
  const auto c = cfg::resolve_config(flags, env, kNoDefaultFile);
  EXPECT_EQ(c.docker_host, "unix:///flag.sock");
  EXPECT_EQ(c.listen_address, ":9999");
  EXPECT_EQ(c.telemetry_path, "/flag-metrics");
  EXPECT_EQ(c.max_requests, 11u);
  EXPECT_EQ(c.stats_source, "cgroup");
  EXPECT_EQ(c.state_dir, "/flag/state");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.web_config_file, "/etc/web.yml");
}

TEST(ConfigResolve, DefaultConfigFileIsUsedOnlyWhenItExists) {
  const auto with = cfg::resolve_config({}, {}, fixture("flags_and_file.yml"));
  EXPECT_EQ(with.config_file, fixture("flags_and_file.yml"));
  EXPECT_EQ(with.docker_host, "tcp://file-host:2375");
  const auto without = cfg::resolve_config({}, {}, kNoDefaultFile);
  EXPECT_EQ(without.config_file, "");
}

TEST(ConfigResolve, ExplicitConfigFileMustExist) {
  cfg::FlagValues flags;
  flags.config_file = kNoDefaultFile;
  const std::string e = resolve_error(flags);
  EXPECT_NE(e.find(kNoDefaultFile + ": cannot open"), std::string::npos) << e;
}

TEST(ConfigResolve, AnInvalidDefaultFileIsNotSkipped) {
  EXPECT_THROW(cfg::resolve_config({}, {}, fixture("unknown_key.yml")), cfg::ConfigError);
}

TEST(ConfigResolve, BadFlagValuesNameTheFlagAndValue) {
  const auto error_for = [](std::optional<std::string> cfg::FlagValues::*field, const char* value) {
    cfg::FlagValues flags;
    flags.*field = value;
    return resolve_error(flags);
  };
  using F = cfg::FlagValues;
  EXPECT_EQ(error_for(&F::docker_host, "http://x:1"),
            "--docker.host: 'http://x:1' has an unsupported scheme (expected "
            "unix:///path/to/docker.sock or tcp://host:port)");
  EXPECT_NE(error_for(&F::docker_host, "unix://relative.sock").find("--docker.host: 'unix://relative.sock'"), std::string::npos);
  EXPECT_NE(error_for(&F::docker_host, "tcp://host").find("--docker.host: 'tcp://host' has no port"), std::string::npos);
  EXPECT_NE(error_for(&F::docker_host, "tcp://:2375").find("--docker.host: 'tcp://:2375' has no host"), std::string::npos);
  EXPECT_NE(error_for(&F::listen_address, "127.0.0.1").find("--web.listen-address: '127.0.0.1' has no port"), std::string::npos);
  EXPECT_NE(error_for(&F::listen_address, "::1:9469").find("--web.listen-address: '::1:9469': an IPv6 host needs brackets"), std::string::npos);
  EXPECT_NE(error_for(&F::listen_address, "host:99999").find("--web.listen-address: 'host:99999' has an invalid port"), std::string::npos);
  EXPECT_NE(error_for(&F::telemetry_path, "metrics").find("--web.telemetry-path: 'metrics' must start with '/'"), std::string::npos);
  EXPECT_NE(error_for(&F::max_requests, "0").find("--web.max-requests: '0' is out of range"), std::string::npos);
  EXPECT_NE(error_for(&F::max_requests, "ten").find("--web.max-requests: 'ten' is not a whole number"), std::string::npos);
  EXPECT_NE(error_for(&F::max_requests, "-1").find("--web.max-requests:"), std::string::npos);
  EXPECT_NE(error_for(&F::stats_source, "proc").find("--stats.source: invalid value 'proc' (expected auto, cgroup or api)"), std::string::npos);
  EXPECT_NE(error_for(&F::log_level, "verbose").find("--log.level: invalid value 'verbose'"), std::string::npos);
  EXPECT_NE(error_for(&F::log_format, "text").find("--log.format: invalid value 'text' (expected logfmt or json)"), std::string::npos);
  EXPECT_NE(error_for(&F::state_dir, "").find("--state.dir: must not be empty"), std::string::npos);
  EXPECT_NE(error_for(&F::config_file, "").find("--config.file: must not be empty"), std::string::npos);
}

TEST(ConfigResolve, GoodListenAddresses) {
  for (const char* address : {"127.0.0.1:9469", ":9469", "0.0.0.0:0", "[::1]:9469", "[::]:80", "localhost:9469"}) {
    cfg::FlagValues flags;
    flags.listen_address = address;
    EXPECT_EQ(resolve_error(flags), "") << address;
  }
}

TEST(ConfigResolve, BadEnvironmentIsNamed) {
  const std::string e = resolve_error({}, cfg::Environment{.docker_host = "ssh://me@host"});
  EXPECT_EQ(e.rfind("$DOCKER_HOST: 'ssh://me@host'", 0), 0u) << e;
}

TEST(ConfigResolve, UnusedEnvironmentIsNotChecked) {
  // DOCKER_HOST=ssh://... may be there for the docker CLI; a flag or the file replaces it.
  cfg::FlagValues flags;
  flags.docker_host = "unix:///flag.sock";
  EXPECT_EQ(resolve_error(flags, cfg::Environment{.docker_host = "ssh://me@host"}), "");
  cfg::FlagValues file;
  file.config_file = fixture("flags_and_file.yml");
  EXPECT_EQ(resolve_error(file, cfg::Environment{.docker_host = "ssh://me@host"}), "");
}

TEST(ConfigResolve, ReloadAppliesTheSameFlagsOverTheNewFile) {
  cfg::FlagValues flags;
  flags.config_file = fixture("flags_and_file.yml");
  flags.listen_address = ":9999";
  const auto first = cfg::resolve_config(flags, {.docker_host = "tcp://env-host:2375"}, kNoDefaultFile);
  const auto again = cfg::reload_config(first);
  EXPECT_EQ(again.listen_address, ":9999");               // the flag still wins
  EXPECT_EQ(again.docker_host, "tcp://file-host:2375");   // the file over the environment
  EXPECT_EQ(again.config_file, fixture("flags_and_file.yml"));

  cfg::AgentConfig broken = first;
  broken.flags.config_file = fixture("unknown_key.yml");
  EXPECT_THROW(cfg::reload_config(broken), cfg::ConfigError);
}

TEST(ConfigEnvironment, ReadsTheProcessEnvironmentAndIgnoresEmptyValues) {
  ::setenv("DOCKER_HOST", "tcp://from-env:2375", 1);
  ::setenv("STATE_DIRECTORY", "", 1);
  const auto env = cfg::Environment::from_process();
  ::unsetenv("DOCKER_HOST");
  ::unsetenv("STATE_DIRECTORY");
  EXPECT_EQ(env.docker_host, "tcp://from-env:2375");
  EXPECT_FALSE(env.state_directory.has_value());
}

TEST(ConfigReload, NamesTheChangesOnlyARestartApplies) {
  cfg::AgentConfig a, b;
  EXPECT_TRUE(cfg::changes_needing_restart(a, b).empty());
  b.compose_projects.push_back({});
  b.prune_policies.push_back({});
  EXPECT_TRUE(cfg::changes_needing_restart(a, b).empty()) << "a reload applies these";
  b.disk_interval = std::chrono::seconds(60);
  b.listen_address = ":9100";
  b.autoheal.configured = true;
  EXPECT_EQ(cfg::changes_needing_restart(a, b),
            (std::vector<std::string>{"web.listen_address", "disk.interval", "autoheal"}));
}

TEST(ConfigResolve, PathProcfs) {
  EXPECT_EQ(cfg::resolve_config({}, {}, kNoDefaultFile).procfs, "/proc");
  cfg::FlagValues f;
  f.path_procfs = "/host/proc";
  EXPECT_EQ(cfg::resolve_config(f, {}, kNoDefaultFile).procfs, "/host/proc");
  f.path_procfs = "host/proc";
  EXPECT_EQ(resolve_error(f), "--path.procfs: 'host/proc' is not an absolute path");
  EXPECT_EQ(cfg::parse_command_line({"--path.procfs=/host/proc"}).flags.path_procfs, "/host/proc");
}

// --web.max-connections / web.max_connections: the cap on open HTTP connections.
TEST(ConfigResolve, MaxConnections) {
  EXPECT_EQ(cfg::resolve_config({}, {}, kNoDefaultFile).max_connections, 256u);
  EXPECT_EQ(cfg::parse_config_text("web: {max_connections: 32}\n", "config.yml", {}).max_connections, 32u);
  cfg::FlagValues f = cfg::parse_command_line({"--web.max-connections=1000"}).flags;
  EXPECT_EQ(f.max_connections, "1000");
  EXPECT_EQ(cfg::resolve_config(f, {}, kNoDefaultFile).max_connections, 1000u);
  f.max_connections = "0";
  EXPECT_EQ(resolve_error(f), "--web.max-connections: '0' is out of range (at least 1)");
  try {
    cfg::parse_config_text("web:\n  max_connections: lots\n", "config.yml", {});
    ADD_FAILURE() << "no error";
  } catch (const cfg::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "config.yml:2: web.max_connections: 'lots' is not a whole number");
  }
  cfg::AgentConfig a, b;
  b.max_connections = 512;
  EXPECT_EQ(cfg::changes_needing_restart(a, b), std::vector<std::string>{"web.max_connections"});
}
