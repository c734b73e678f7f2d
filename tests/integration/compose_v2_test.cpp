// A project brought up by Compose v2 (the binary at COMPOSEWATCH_COMPOSE_V2, default the
// sid root's cli-plugins/docker-compose) on the host engine: `composewatch check` finds it
// from its containers' labels (`<project>-<service>-<n>` names, absolute config_files,
// the depends_on label) with no drift and no orphans, and a re-create caught in flight
// (the replacement created as "<old id12>_<name>" with com.docker.compose.replace while
// the old container takes its stop grace period to stop) is no extra replica or orphan.

#include <boost/json.hpp>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string compose_v2() {
  if (const char* v2 = std::getenv("COMPOSEWATCH_COMPOSE_V2"); v2 && *v2) return v2;
  return "/var/tmp/cw-nested/sid/usr/libexec/docker/cli-plugins/docker-compose";
}

// busybox's sleep as PID 1 ignores SIGTERM: stopping db takes its whole grace period,
// which holds the re-create open long enough to look at it.
std::string project_yaml(const std::string& db_interval) {
  return std::string("services:\n") +
         "  db:\n"
         "    image: " + kImage + "\n"
         "    command: [sleep, '3600']\n"
         "    network_mode: none\n"
         "    stop_grace_period: 30s\n"
         "    healthcheck:\n"
         "      test: [CMD, 'true']\n"
         "      interval: " + db_interval + "\n"
         "  api:\n"
         "    image: " + kImage + "\n"
         "    command: [sleep, '3600']\n"
         "    network_mode: none\n"
         "    deploy:\n"
         "      replicas: 2\n"
         "    depends_on:\n"
         "      db:\n"
         "        condition: service_healthy\n"
         "        restart: true\n"
         "      cache:\n"
         "        condition: service_started\n"
         "        required: false\n"
         "  cache:\n"
         "    image: " + kImage + "\n"
         "    network_mode: none\n"
         "    profiles: [cache]\n";
}

// This project's entry of `composewatch check --format json` (projects from labels).
json::object check_project(const std::string& project, std::string& raw) {
  const ShResult r = sh(quote(agent_binary().string()) + " check --format json");
  raw = r.out + r.err;
  const json::value doc = json::parse(r.out);
  for (const auto& p : doc.at("projects").as_array())
    if (p.at("project").as_string() == project) return p.as_object();
  return {};
}

std::vector<std::string> project_containers(const std::string& project) {
  std::vector<std::string> names;
  std::istringstream in(must("docker ps -a --filter label=com.docker.compose.project=" + project +
                             " --format '{{.Names}}'"));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) names.push_back(line);
  return names;
}

TEST(ComposeV2Engine, CheckFindsAV2ProjectWithoutDriftOrOrphans) {
  ASSERT_EQ(sh(quote(compose_v2()) + " version").code, 0)
      << "Compose v2 is not at " << compose_v2() << " (set COMPOSEWATCH_COMPOSE_V2, or provision the sid root)";
  Cleanup cleanup;
  const std::string project = "cwv2-" + std::to_string(::getpid());
  const fs::path dir = make_temp_dir(cleanup, "cwv2");
  const fs::path file = dir / "compose.yaml";
  const std::string v2 = quote(compose_v2()) + " -p " + quote(project) + " -f " + quote(file.string());
  // v1's `down` (Cleanup::compose) cannot read this file: v2's own, then whatever still
  // carries the project's label.
  cleanup.add([project] {
    sh("docker ps -aq --filter label=com.docker.compose.project=" + project + " | xargs -r docker rm -f -v");
  });
  cleanup.add([v2] { sh(v2 + " down -v --timeout 1", 120s); });
  std::ofstream(file) << project_yaml("2s");
  must(v2 + " up -d --wait", 180s);

  const auto names = project_containers(project);
  EXPECT_NE(std::find(names.begin(), names.end(), project + "-api-2"), names.end()) << ::testing::PrintToString(names);
  EXPECT_EQ(inspect(project + "-api-1", "{{index .Config.Labels \"com.docker.compose.depends_on\"}}"),
            "db:service_healthy:true");

  std::string raw;
  json::object p = check_project(project, raw);
  ASSERT_FALSE(p.empty()) << raw;
  EXPECT_EQ(p.at("source").as_string(), "labels") << raw;
  EXPECT_TRUE(p.at("valid").as_bool()) << raw;
  EXPECT_EQ(p.at("files").as_array(), (json::array{file.string()})) << raw;
  EXPECT_TRUE(p.at("drift").as_array().empty()) << raw;
  EXPECT_TRUE(p.at("orphans").as_array().empty()) << raw;

  // A changed healthcheck makes `up` re-create db; look while the old one stops.
  std::ofstream(file) << project_yaml("3s");
  const std::string temporary_prefix = short_id(project + "-db-1") + "_";
  ServiceProcess up("compose-v2-up", {"/bin/sh", "-c", v2 + " up -d db"});
  ASSERT_TRUE(eventually(
      [&] {
        const auto now = project_containers(project);
        return std::any_of(now.begin(), now.end(), [&](const std::string& n) { return n.starts_with(temporary_prefix); });
      },
      20s, "a container named " + temporary_prefix + "... (the replacement in flight)",
      [&] { return ::testing::PrintToString(project_containers(project)); }));
  p = check_project(project, raw);
  ASSERT_FALSE(p.empty()) << raw;
  EXPECT_TRUE(p.at("orphans").as_array().empty()) << raw;
  for (const auto& d : p.at("drift").as_array()) {
    EXPECT_NE(d.at("field").as_string(), "replicas") << raw;
    // The old db differs from the edited file; the replacement is not compared.
    EXPECT_FALSE(d.at("container").is_string() && d.at("container").as_string().starts_with(temporary_prefix)) << raw;
  }
  EXPECT_TRUE(eventually([&] { return !up.running(); }, 90s, "compose up to finish", [&] { return up.log_tail(); }));
}

}  // namespace
}  // namespace itest
