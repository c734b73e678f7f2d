// Compose drift against the real engine and real docker-compose (v1) projects: one test
// per drift field. Each brings a project up, edits its file without `up` (the agent sees
// the edit through inotify), expects drift 1 and `check` exiting 1 naming the field, then
// runs `up -d` again and expects 0.

#include <sys/types.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

// The base file (tests/fixtures/drift/base.yml) with the test image filled in.
std::string base_yaml() {
  return replace_all(read_text(source_dir() / "tests/fixtures/drift/base.yml"), "@IMAGE@", kImage);
}

// A compose project in a temp dir, torn down by `cleanup` whatever happens.
class Stack {
 public:
  Stack(Cleanup& cleanup, const std::string& what)
      : project_("cwdrift-" + what + "-" + std::to_string(::getpid())),
        dir_(make_temp_dir(cleanup, "cwdrift-" + what)),
        file_(dir_ / "docker-compose.yml") {
    cleanup.compose(file_, project_);
  }

  const std::string& project() const { return project_; }
  const fs::path& file() const { return file_; }
  const fs::path& dir() const { return dir_; }
  std::string container(const std::string& service, int n = 1) const {
    return test_engine().compose_container(project_, service, n);  // v1 on the host, v2 on a nested engine
  }

  // Replaces the file the way editors do: a new file renamed over the old one.
  void write(const std::string& yaml) const {
    const fs::path tmp = dir_ / ".docker-compose.yml.swp";
    std::ofstream(tmp) << yaml;
    fs::rename(tmp, file_);
  }
  void up(const std::string& extra = "") const { must(compose() + " up -d " + extra + " 2>&1"); }
  std::string compose() const { return "docker-compose -p " + quote(project_) + " -f " + quote(file_.string()); }

  // `composewatch check -f FILE -p PROJECT`.
  ShResult check(const std::string& extra = "") const {
    return sh(quote(agent_binary().string()) + " check -f " + quote(file_.string()) + " -p " + quote(project_) +
              " " + extra);
  }

 private:
  std::string project_;
  fs::path dir_;
  fs::path file_;
};

// The agent without a config file: projects are discovered from container labels.
AgentOptions no_config() { return AgentOptions{}; }

Labels drift(const Stack& s, const std::string& service, const std::string& field) {
  return {{"project", s.project()}, {"service", service}, {"field", field}};
}

std::string describe(const ShResult& r) {
  return "exit " + std::to_string(r.code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// The whole cycle for one field: clean → edited file → drift 1 and check 1 → up → 0.
void expect_drift_cycle(const std::string& what, const std::string& field, const std::string& edited_yaml,
                        const std::string& prepare = "") {
  Cleanup cleanup;
  if (!prepare.empty()) must(prepare);
  Stack s(cleanup, what);
  s.write(base_yaml());
  s.up();
  AgentProcess agent(no_config());

  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_compose_project_valid", {{"project", s.project()}}, 1));
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", field), 0));
  ShResult clean = s.check();
  EXPECT_EQ(clean.code, 0) << describe(clean);

  s.write(edited_yaml);  // no `up`: the container still runs the old configuration
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", field), 1, 10s));
  Metrics m = agent.scrape();
  for (const char* other : {"image", "memory_limit", "memory_reservation", "healthcheck", "restart_policy", "replicas"})
    if (other != field)
      EXPECT_EQ(m.value("composewatch_service_drift", drift(s, "api", other)), 0.0)
          << other << "\n" << m.lines("composewatch_service_drift", {{"project", s.project()}});
  ShResult drifted = s.check();
  EXPECT_EQ(drifted.code, 1) << describe(drifted);
  EXPECT_NE(drifted.out.find("drift " + field + ": service api"), std::string::npos) << describe(drifted);
  ShResult json = s.check("--format json");
  EXPECT_EQ(json.code, 1) << describe(json);
  EXPECT_NE(json.out.find("\"field\":\"" + field + "\""), std::string::npos) << describe(json);

  s.up();
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", field), 0, 30s));
  ShResult after = s.check();
  EXPECT_EQ(after.code, 0) << describe(after);
}

TEST(ComposeDrift, MemoryLimit) {
  expect_drift_cycle("memlimit", "memory_limit", replace_all(base_yaml(), "mem_limit: 32m", "mem_limit: 48m"));
}

TEST(ComposeDrift, MemoryReservation) {
  expect_drift_cycle("memres", "memory_reservation",
                     replace_all(base_yaml(), "mem_limit: 32m", "mem_limit: 32m\n    mem_reservation: 16m"));
}

TEST(ComposeDrift, Healthcheck) {
  expect_drift_cycle("health", "healthcheck",
                     base_yaml() + "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 5s\n");
}

TEST(ComposeDrift, RestartPolicy) {
  expect_drift_cycle("restart", "restart_policy",
                     replace_all(base_yaml(), "restart: unless-stopped", "restart: on-failure:3"));
}

TEST(ComposeDrift, Image) {
  // A second tag of the test image: no registry is needed to have two image references.
  const std::string second = "composewatch-test/busybox:cwdrift-" + std::to_string(::getpid());
  Cleanup untag;
  untag.add([second] { sh("docker rmi " + quote(second)); });
  expect_drift_cycle("image", "image", replace_all(base_yaml(), kImage, second),
                     "docker tag " + quote(kImage) + " " + quote(second));
}

TEST(ComposeDrift, ReplicasWhenAReplicaIsRemovedByHand) {
  Cleanup cleanup;
  Stack s(cleanup, "replicas");
  s.write(replace_all(base_yaml(), "restart: unless-stopped", "restart: unless-stopped\n    scale: 2"));
  s.up();
  AgentProcess agent(no_config());
  const Labels svc = {{"project", s.project()}, {"service", "api"}};
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_running", svc, 2));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_desired", svc, 2));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "replicas"), 0));

  must("docker rm -f " + quote(s.container("api", 2)));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_running", svc, 1));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "replicas"), 1));
  ShResult r = s.check();
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find("drift replicas: service api: declared 2 replicas, 1 running"), std::string::npos)
      << describe(r);

  // A stopped replica is not running either.
  s.up();
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "replicas"), 0));
  must("docker stop -t 0 " + quote(s.container("api", 1)));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "replicas"), 1));
  s.up();
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_running", svc, 2));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "replicas"), 0));
}

TEST(ComposeDrift, DeclaredProjectThatIsDown) {
  Cleanup cleanup;
  Stack s(cleanup, "declared");
  s.write(replace_all(base_yaml(), "restart: unless-stopped", "restart: unless-stopped\n    scale: 3"));
  const fs::path config = s.dir() / "config.yml";
  std::ofstream(config) << "compose:\n  projects:\n    - name: " << s.project() << "\n      files: ["
                        << s.file().string() << "]\n";
  AgentProcess agent(AgentOptions{.args = {"--config.file=" + config.string()}});
  const Labels svc = {{"project", s.project()}, {"service", "api"}};
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_compose_project_valid", {{"project", s.project()}}, 1));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_desired", svc, 3));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_running", svc, 0));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "replicas"), 1));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_memory_limit_bytes", svc, 32.0 * 1024 * 1024));
  // Nothing runs: there is no container to compare the configuration fields with.
  EXPECT_TRUE(metric_eventually_absent(agent, "composewatch_service_drift", drift(s, "api", "memory_limit")));

  ShResult r = sh(quote(agent_binary().string()) + " check --config.file=" + quote(config.string()));
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find("project " + s.project() + " ("), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("declared 3 replicas, 0 running"), std::string::npos) << describe(r);

  s.up();
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_running", svc, 3));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "replicas"), 0));
}

TEST(ComposeDrift, ServiceRemovedFromTheFileLeavesAnOrphan) {
  Cleanup cleanup;
  Stack s(cleanup, "orphan");
  const std::string two = base_yaml() + replace_all(replace_all(base_yaml(), "services:\n", ""), "  api:", "  old:");
  s.write(two);
  s.up();
  AgentProcess agent(no_config());
  const Labels orphan = {{"project", s.project()}, {"service", "old"}, {"container", s.container("old")}};
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_running",
                                   {{"project", s.project()}, {"service", "old"}}, 1));
  EXPECT_TRUE(agent.scrape().find("composewatch_container_orphan", orphan).empty());

  s.write(base_yaml());  // `old` is gone from the file, its container still runs
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_container_orphan", orphan, 1, 10s));
  EXPECT_TRUE(metric_eventually_absent(agent, "composewatch_service_replicas_running",
                                       {{"project", s.project()}, {"service", "old"}}));
  ShResult r = s.check();
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find("orphan: container " + s.container("old") + " of service old"), std::string::npos)
      << describe(r);

  s.up("--remove-orphans");
  EXPECT_TRUE(metric_eventually_absent(agent, "composewatch_container_orphan", orphan));
}

TEST(ComposeDrift, BrokenEditKeepsTheLastGoodModelAndIsReported) {
  Cleanup cleanup;
  Stack s(cleanup, "broken");
  s.write(base_yaml());
  s.up();
  AgentProcess agent(no_config());
  const Labels valid = {{"project", s.project()}};
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_compose_project_valid", valid, 1));

  s.write("services:\n  api:\n    image: [unclosed\n");
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_compose_project_valid", valid, 0, 10s));
  // The last good model still drives drift.
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "memory_limit"), 0));
  EXPECT_TRUE(eventually([&] { return agent.log().find(s.file().string() + ":") != std::string::npos; }, 5s,
                         "the agent logs the reason with file:line", [&] { return agent.log_tail(); }));
  ShResult r = s.check();
  EXPECT_EQ(r.code, 2) << describe(r);
  EXPECT_NE(r.out.find("could not load: " + s.file().string() + ":"), std::string::npos) << describe(r);

  // Fixed, and reloaded by SIGHUP too (the file watch would do it; SIGHUP must not hurt).
  s.write(replace_all(base_yaml(), "mem_limit: 32m", "mem_limit: 40m"));
  ASSERT_EQ(::kill(agent.pid(), SIGHUP), 0);
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_compose_project_valid", valid, 1, 10s));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "memory_limit"), 1));
}

// A tag moved to a new image without `up` (a `docker compose pull` or a rebuild): the
// container still runs the old one. Compose 1.29 writes no com.docker.compose.image, so
// this is the fallback evidence: the container's Config.Image resolved on the engine now
// against the container's Image id.
TEST(ComposeDrift, ImageStaleWhenTheTagMovesWithoutUp) {
  Cleanup cleanup;
  const std::string repo = "composewatch-test/cwstale-" + std::to_string(::getpid());
  const std::string tag = repo + ":1", next = repo + ":next";
  const fs::path ctx = make_temp_dir(cleanup, "cwstale-build");
  // Registered before the project, so removed after it: the images are in use until then.
  cleanup.add([tag, next] { sh("docker rmi " + quote(tag) + " " + quote(next)); });
  // The first image loses its tag mid-test; it is removed by id (shared: `cleanup` outlives locals).
  auto first = std::make_shared<std::string>();
  cleanup.add([first] {
    if (!first->empty()) sh("docker rmi " + quote(*first));
  });
  auto build = [&](const std::string& label, const std::string& as) {
    std::ofstream(ctx / "Dockerfile") << "FROM " << kImage << "\nLABEL composewatch.test.stale=" << label << "\n";
    must("docker build -q --network none -t " + quote(as) + " " + quote(ctx.string()) + " 2>&1");
    return must("docker image inspect -f '{{.Id}}' " + quote(as));
  };
  const std::string first_id = *first = build("1", tag);
  const std::string second_id = build("2", next);
  ASSERT_NE(first_id, second_id);

  Stack s(cleanup, "stale");
  s.write(replace_all(base_yaml(), kImage, tag));
  s.up();
  AgentProcess agent(no_config());
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "image_stale"), 0));
  ShResult clean = s.check();
  EXPECT_EQ(clean.code, 0) << describe(clean);

  must("docker tag " + quote(next) + " " + quote(tag));  // what a pull or a rebuild does to the tag
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "image_stale"), 1, 30s));
  EXPECT_EQ(agent.scrape().value("composewatch_service_drift", drift(s, "api", "image")), 0.0)
      << "the file still names the tag the container was created from";
  ShResult json = s.check("--format json");
  EXPECT_EQ(json.code, 1) << describe(json);
  EXPECT_NE(json.out.find("\"field\":\"image_stale\""), std::string::npos) << describe(json);
  EXPECT_NE(json.out.find("\"running_image_id\":\"" + first_id + "\""), std::string::npos) << describe(json);
  EXPECT_NE(json.out.find("\"current_image_id\":\"" + second_id + "\""), std::string::npos) << describe(json);
  EXPECT_TRUE(eventually(
      [&] {
        const std::string log = agent.log();
        return log.find("image tag moved") != std::string::npos && log.find(second_id) != std::string::npos;
      },
      10s, "the agent logs the moved tag with both ids", [&] { return agent.log_tail(); }));
  ShResult status = sh(quote(agent_binary().string()) + " status");
  EXPECT_NE(status.out.find("image_stale"), std::string::npos) << describe(status);

  s.up();  // re-creates the container on the new image
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "api", "image_stale"), 0, 30s));
  ShResult after = s.check();
  EXPECT_EQ(after.code, 0) << describe(after);
}

// One-shot services: a migration that ran to completion is done, not a missing replica;
// one that failed is a failure; one whose on-failure:N retries ran out is given up.
TEST(ComposeDrift, OneShotServicesCompletedFailedAndGivenUp) {
  Cleanup cleanup;
  Stack s(cleanup, "oneshot");
  s.write(base_yaml() + R"(  migrate:
    image: )" + std::string(kImage) + R"(
    command: ["true"]
    network_mode: none
    restart: "no"
  broken:
    image: )" + kImage + R"(
    command: ["sh", "-c", "exit 3"]
    network_mode: none
    restart: "no"
  flaky:
    image: )" + kImage + R"(
    command: ["sh", "-c", "exit 1"]
    network_mode: none
    restart: on-failure:2
)");
  s.up();
  AgentProcess agent(no_config());
  auto svc = [&](const std::string& name) { return Labels{{"project", s.project()}, {"service", name}}; };

  ASSERT_TRUE(inspect_eventually(s.container("migrate"), "{{.State.Status}} {{.State.ExitCode}}", "exited 0"));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_completed", svc("migrate"), 1));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "migrate", "replicas"), 0));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_running", svc("migrate"), 0));

  ASSERT_TRUE(inspect_eventually(s.container("broken"), "{{.State.Status}} {{.State.ExitCode}}", "exited 3"));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_completed", svc("broken"), 0));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "broken", "replicas"), 1));

  // The engine restarts flaky twice, then leaves it exited.
  ASSERT_TRUE(inspect_eventually(s.container("flaky"), "{{.State.Status}} {{.RestartCount}}", "exited 2"));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_gave_up", svc("flaky"), 1));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_completed", svc("flaky"), 0));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", drift(s, "flaky", "replicas"), 1));
  EXPECT_EQ(agent.scrape().value("composewatch_service_gave_up", svc("broken")), 0.0);
  EXPECT_TRUE(eventually([&] { return agent.log().find("gave up restarting") != std::string::npos; }, 10s,
                         "the agent logs the give-up", [&] { return agent.log_tail(); }));

  ShResult r = s.check();
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.out.find("completed: service migrate"), std::string::npos) << describe(r);
  EXPECT_EQ(r.out.find("drift replicas: service migrate"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("drift replicas: service broken"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("gave up: service flaky: given up by the engine: container " + s.container("flaky") +
                       " exited 1 after 2 restarts"),
            std::string::npos)
      << describe(r);
  ShResult status = sh(quote(agent_binary().string()) + " status");
  EXPECT_NE(status.out.find("exited (completed)"), std::string::npos) << describe(status);
  EXPECT_NE(status.out.find("exited (gave up)"), std::string::npos) << describe(status);
}

}  // namespace
}  // namespace itest
