// The compose checklist against the real engine and a real docker-compose (v1) project:
// a datastore port published on all interfaces, in a project that is production by its
// file name (docker-compose.prod.yml) and not by the config file. The running agent must
// export exactly the right lint series and `check` must print them with the reason the
// project is treated as production.

#include <unistd.h>

#include <fstream>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

std::string describe(const ShResult& r) {
  return "exit " + std::to_string(r.code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

TEST(ComposeLint, ProductionFileNameAndPublishedDatastorePort) {
  const std::string project = "cwlint-" + std::to_string(::getpid());
  // A second, untagged name for the test image (latest): a floating tag without a registry.
  const std::string floating = "composewatch-test/cwlint-" + std::to_string(::getpid());
  Cleanup cleanup;
  must("docker tag " + quote(kImage) + " " + quote(floating));
  cleanup.add([floating] { sh("docker rmi " + quote(floating)); });  // registered first: runs last
  const fs::path dir = make_temp_dir(cleanup, "cwlint");
  const fs::path file = dir / "docker-compose.prod.yml";
  cleanup.compose(file, project);
  // db: port 5432 published on every interface, on an ephemeral host port (nothing
  // listens behind it), and a restart policy production does not accept.
  // cache: the same kind of port on loopback only, and a floating image.
  std::ofstream(file) << "services:\n"
                         "  db:\n"
                         "    image: " << kImage << "\n"
                         "    command: [\"sleep\", \"600\"]\n"
                         "    mem_limit: 32m\n"
                         "    restart: on-failure\n"
                         "    ports: [\"5432\"]\n"
                         "  cache:\n"
                         "    image: " << floating << "\n"
                         "    command: [\"sleep\", \"600\"]\n"
                         "    mem_limit: 32m\n"
                         "    restart: unless-stopped\n"
                         "    ports: [\"127.0.0.1::6379\"]\n";
  const std::string compose = "docker-compose -p " + quote(project) + " -f " + quote(file.string());
  must(compose + " up -d 2>&1");
  // The engine really publishes db's port on every interface, cache's on loopback only.
  EXPECT_EQ(must("docker port " + quote(project + "_db_1") + " 5432/tcp | head -n 1").rfind("0.0.0.0:", 0), 0u);
  EXPECT_EQ(must("docker port " + quote(project + "_cache_1") + " 6379/tcp").rfind("127.0.0.1:", 0), 0u);

  AgentProcess agent(AgentOptions{});  // no config file: the project is found from its containers' labels
  auto lint = [&](const std::string& service, const std::string& check) {
    return Labels{{"project", project}, {"service", service}, {"check", check}};
  };
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_compose_lint_finding", lint("db", "published-datastore-port"), 1));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_compose_lint_finding", lint("db", "restart-policy"), 1));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_compose_lint_finding", lint("cache", "floating-tag"), 1));
  // And nothing else of these: loopback is fine, a pinned image is fine, a declared policy
  // is not also "no restart policy".
  const Metrics m = agent.scrape();
  for (const auto& [service, check] : std::vector<std::pair<std::string, std::string>>{
           {"cache", "published-datastore-port"}, {"db", "floating-tag"}, {"db", "no-restart-policy"},
           {"cache", "restart-policy"}, {"db", "build-in-production"}, {"db", "bind-mount-in-production"}})
    EXPECT_FALSE(m.value("composewatch_compose_lint_finding", lint(service, check)).has_value())
        << service << " " << check << "\n" << m.lines("composewatch_compose_lint_finding", {{"project", project}});

  ShResult text = sh(quote(agent_binary().string()) + " check -f " + quote(file.string()) + " -p " + quote(project));
  EXPECT_EQ(text.code, 1) << describe(text);
  EXPECT_NE(text.out.find("production checks apply: its compose file docker-compose.prod.yml is named like *prod*"),
            std::string::npos) << describe(text);
  EXPECT_NE(text.out.find("published-datastore-port: service db publishes container port 5432/tcp on all interfaces "
                          "(an ephemeral host port)"),
            std::string::npos) << describe(text);
  EXPECT_NE(text.out.find("restart-policy: service db has restart policy on-failure"), std::string::npos)
      << describe(text);
  EXPECT_NE(text.out.find("floating-tag: service cache runs " + floating), std::string::npos) << describe(text);
  EXPECT_NE(text.out.find("why: a database or broker port published on all interfaces"), std::string::npos)
      << describe(text);

  ShResult json = sh(quote(agent_binary().string()) + " check -f " + quote(file.string()) + " -p " + quote(project) +
                     " --format json");
  EXPECT_EQ(json.code, 1) << describe(json);
  EXPECT_NE(json.out.find("\"production\":\"its compose file docker-compose.prod.yml is named like *prod*\""),
            std::string::npos) << describe(json);
  EXPECT_NE(json.out.find("\"check\":\"published-datastore-port\""), std::string::npos) << describe(json);
}

}  // namespace
}  // namespace itest
